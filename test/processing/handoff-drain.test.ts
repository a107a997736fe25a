// A backlog drains at full concurrency with no sweep at all: each attempt that ends hands its slot
// to the next due job (src/jobs/handoff.ts). 40 one-second jobs, MAX_CONCURRENT_JOBS = 4, activity
// sweeps held and no scheduled trigger, so only `complete` and the process/file activations can
// start anything. Measured from job_events: never more than 4 at once, and no slot left free while
// a job waited for longer than a handoff takes (the sweep would leave it free up to a minute).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes } from '../analyzers/fixtures.js';
import { mapWithConcurrency } from '../helpers/concurrency.js';
import { attemptSpans, claimLatencies, loadEvents, maxConcurrent, slotUse, summary } from '../helpers/job-timeline.js';
import { startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;
let fileBuild: string;

const cap = 4;
const jobCount = 40;
/** Each job holds its slot this long (test/fixtures/scripted-process): long against a handoff, short for the test. */
const holdMs = 1_000;
/** A slot free while a job waits this long would mean nobody handed it on: a handoff takes milliseconds; the sweep would leave it free up to a minute. */
const handoffBoundMs = 5_000;

beforeAll(async () => {
  p = await startProcessingPlatform({ MAX_CONCURRENT_JOBS: String(cap) });
  await p.holdActivitySweeps();
  fileBuild = await p.deployFileVariant('test/fixtures/scripted-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
});

describe('a backlog', () => {
  it('drains at full concurrency, each ending attempt starting the next job', async () => {
    const jobs = await mapWithConcurrency(Array.from({ length: jobCount }, (_, index) => index), 16, (index) =>
      p.upload(bytes(`job ${index}\n`), `job-${index}-hold${holdMs}ms.txt`, 'text/plain'),
    );
    const jobIds = jobs.map((job) => job.jobId);
    await expect
      .poll(async () => (await p.db<{ count: number }[]>`SELECT count(*)::int AS count FROM jobs WHERE id = ANY(${p.db.array(jobIds)}::uuid[]) AND status = 'succeeded'`)[0]?.count, {
        timeout: 60_000,
        interval: 200,
      })
      .toBe(jobCount);

    const events = await loadEvents(p.db, jobIds);
    // Exactly once: one claim, one result per job.
    for (const jobId of jobIds) {
      const own = events.filter((event) => event.jobId === jobId).map((event) => event.event);
      expect(own.filter((name) => name === 'claimed'), jobId).toHaveLength(1);
      expect(own.filter((name) => name === 'succeeded'), jobId).toHaveLength(1);
    }
    // Never more than the cap running, nor busy (reserved or running) as the cap counts.
    expect(maxConcurrent(attemptSpans(events))).toBe(cap);
    const use = slotUse(events, cap);
    expect(use.maxBusy).toBe(cap);
    const starts = summary(claimLatencies(events));
    console.log(
      `drain of ${jobCount} × ${holdMs} ms jobs at cap ${cap}: busy slots ${(use.utilization * 100).toFixed(1)}% of the time jobs waited, ` +
        `longest free slot ${use.longestIdleMs} ms; reservation → claim median ${starts.median} ms (max ${starts.max} ms, cold starts included)`,
    );
    expect(use.longestIdleMs).toBeLessThan(handoffBoundMs);

    // Who started them: `complete` while slots were free; once every upload was in, only the
    // activations of ending attempts (the sweep never ran).
    const dispatches = events.filter((event) => event.event === 'dispatched');
    expect(dispatches).toHaveLength(jobCount);
    const lastUploadAt = Math.max(...events.filter((event) => event.event === 'uploaded').map((event) => event.at.getTime()));
    const afterUploads = dispatches.filter((event) => event.at.getTime() > lastUploadAt);
    expect(afterUploads.length).toBeGreaterThanOrEqual(cap);
    expect(afterUploads.every((event) => event.codeVersion === fileBuild)).toBe(true);
    console.log(`dispatched by process/file activations: ${dispatches.filter((event) => event.codeVersion === fileBuild).length} of ${jobCount} (${afterUploads.length} after the last upload)`);
    expect((await p.db<{ lastFinishedAt: Date | null }[]>`SELECT last_finished_at FROM sweeps`)[0]?.lastFinishedAt).toBeNull();
  }, 90_000);
});

