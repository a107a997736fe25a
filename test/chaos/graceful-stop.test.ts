// Scenario 8: a graceful stop of the local platform (what SIGTERM or Ctrl-C of `npm run dev` does:
// scripts/dev.ts stops with a grace). Invariants:
//   - no new work once the stop begins: invocations are refused with 503, a queued job stays queued;
//   - running activations finish within the grace, on the attempt they started, results stored;
//   - one still running at the end of the grace is killed, and the stop returns within the bound;
//   - nothing is lost: started again on the same data, the killed job is taken back from its lapsed
//     lease and every job succeeds exactly once, bytes intact.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeAsync, processFileAction } from '../../src/jobs/dispatch.js';
import { eventsNamed } from '../processing/support.js';
import { expectInvariants, settle, startChaosPlatform, uploadText, type ChaosPlatform, type Upload } from './support.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-chaos-stop-'));
const env = { MAX_CONCURRENT_JOBS: '4', LEASE_SECONDS: '3', HEARTBEAT_SECONDS: '1' };
/** Longer than the short jobs need, far shorter than the long one. */
const graceMs = 8_000;
/** The stop returns within the grace plus this: killing workers and stopping Postgres and the store. */
const stopOverheadMs = 10_000;

let first: ChaosPlatform | undefined;
let second: ChaosPlatform | undefined;

beforeAll(async () => {
  first = await startChaosPlatform(env, { dataDir });
  await first.holdActivitySweeps();
  await first.deployFileVariant('test/fixtures/scripted-process/index.ts');
});

afterAll(async () => {
  await first?.stop();
  await second?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a graceful stop', () => {
  it('takes no new work, lets running activations finish up to a bound, and loses nothing', async () => {
    const p = first;
    if (p === undefined) throw new Error('not started');
    const short = await Promise.all([1, 2, 3].map((n) => uploadText(p, `short-${n}-hold2500ms.txt`, `short ${n}\n`)));
    const long = await uploadText(p, 'long-hold120000ms.txt', 'long\n');
    for (const upload of [...short, long]) await expect.poll(async () => (await p.job(upload.jobId)).status, { timeout: 15_000, interval: 50 }).toBe('processing');
    // The cap is reached: this one waits for a slot that, during the stop, nobody may hand it.
    const waiting = await uploadText(p, 'waiting.txt', 'waiting\n');
    expect((await p.job(waiting.jobId)).status).toBe('queued');

    const startedAt = Date.now();
    const stopping = p.platform.stop({ graceMs });
    // No new work, through the runtime and through the REST API a dispatch uses.
    await expect(p.platform.runtime.invoke('process/sweep', {})).rejects.toMatchObject({ status: 503 });
    expect(await invokeAsync({ apiHost: p.platform.runtime.apiHost, accessKey: p.platform.runtime.accessKey, apiKey: undefined }, processFileAction, { jobId: waiting.jobId })).toMatchObject({
      ok: false,
      status: 503,
    });
    await stopping;
    const stopMs = Date.now() - startedAt;
    console.log(`graceful stop: returned after ${stopMs} ms (grace ${graceMs} ms; three 2.5 s jobs finished, one 120 s job killed)`);
    expect(stopMs).toBeGreaterThanOrEqual(graceMs);
    expect(stopMs).toBeLessThan(graceMs + stopOverheadMs);
    await p.stop();

    // Started again on the same data (Postgres and the bucket kept on disk).
    const q = (second = await startChaosPlatform(env, { dataDir }));
    for (const upload of short) {
      const events = await q.events(upload.jobId);
      // Finished within the grace, on the attempt it started.
      expect(eventsNamed(events, 'succeeded')).toEqual([expect.objectContaining({ attempt: 1 })]);
      expect(eventsNamed(events, 'succeeded')[0]?.at.getTime()).toBeLessThan(startedAt + graceMs);
    }
    expect(await q.job(long.jobId)).toMatchObject({ status: 'processing', attempts: 1 });
    expect(await q.job(waiting.jobId)).toMatchObject({ status: 'queued', attempts: 0 });

    // The sweep (every minute deployed, here on demand) takes the killed job back; then everything runs.
    const all: Upload[] = [...short, long, waiting];
    await settle(q, all, { timeoutMs: 30_000, sweepEveryMs: 1_000 });
    await expectInvariants(q, all);
    expect(eventsNamed(await q.events(long.jobId), 'lease_expired')).toHaveLength(1);
  }, 120_000);
});
