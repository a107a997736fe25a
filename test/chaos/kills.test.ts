// Scenario 2: process/file workers SIGKILLed at random while 200 jobs are processed, and some
// paused (SIGSTOP) for longer than the lease, then resumed. Besides the common invariants (no lost
// job, settled, exactly once, bytes intact):
//   - a resumed zombie writes nothing to its job once a newer attempt claimed it (fencing);
//   - a killed activation's job is running again within a lease and the next free slot, while the
//     backlog is drained at the cap (printed: median, min, max over the kills).
// Activity sweeps are held and the stand-in for the scheduled trigger runs only every 20 s: the
// running attempts' heartbeats and handoffs take the jobs back, not the sweep. That needs attempts still running after a fault (the
// last attempt to die has nobody left to notice it but the scheduled sweep, deployed every minute;
// docs/architecture.md "Dispatch"), so faults stop while a good part of the run is still to do:
// enough jobs for the cap to stay busy past a lease and a redispatch window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redispatchAfterSeconds } from '../../src/config.js';
import { mapWithConcurrency } from '../helpers/concurrency.js';
import { loadEvents, summary } from '../helpers/job-timeline.js';
import { workerPid } from '../processing/support.js';
import { expectInvariants, pickRandom, settle, startChaosPlatform, uploadText, type ChaosPlatform } from './support.js';

const jobCount = 200;
const leaseSeconds = 3;
const heartbeatSeconds = 0.5;
const kills = 15;
const pauses = 3;
/** Longer than the lease: the paused attempt's job is taken back while it sleeps. */
const pauseMs = (leaseSeconds + 2) * 1000;
/** Between two faults. */
const faultEveryMs = 700;
const maxFaultTicks = 150;
/** No fault once fewer jobs than this are left to finish (uploading, queued or processing). */
const minJobsLeftForAFault = 100;

let p: ChaosPlatform;

beforeAll(async () => {
  p = await startChaosPlatform(
    { MAX_CONCURRENT_JOBS: '10', LEASE_SECONDS: String(leaseSeconds), HEARTBEAT_SECONDS: String(heartbeatSeconds), RETRY_BASE_DELAY_SECONDS: '1' },
    // The web calls of 200 uploads alone would pass 600 a minute; the burst scenario is the one about that limit.
    { runtimeLimits: { maxInvocationsPerMinute: 10_000 } },
  );
  await p.holdActivitySweeps();
  await p.deployFileVariant('test/fixtures/scripted-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
});

describe('workers killed and paused at random', () => {
  it('lose no job, record each result once, and let no zombie write', async () => {
    let uploaded = 0;
    const uploading = mapWithConcurrency(Array.from({ length: jobCount }, (_, index) => index), 8, async (index) => {
      const upload = await uploadText(p, `kill-${index}-hold${300 + ((index * 137) % 1200)}ms.txt`, `job ${index} of the kill run\n`);
      uploaded += 1;
      return upload;
    });
    const jobsLeft = async () => {
      const rows = await p.db<{ count: number }[]>`
        SELECT count(*)::int AS count FROM jobs WHERE filename LIKE 'kill-%' AND status IN ('awaiting_upload', 'queued', 'processing')`;
      return jobCount - uploaded + (rows[0]?.count ?? 0);
    };

    const killedAt = new Map<number, number>();
    const paused: number[] = [];
    let faults = 0;
    // Bounded in count and time: one fault every faultEveryMs at most, on a process/file worker
    // (busy with a job, or idle and warm), until all are done or the ticks run out.
    for (let tick = 0; tick < maxFaultTicks && faults < kills + pauses; tick += 1) {
      await new Promise((resolve) => setTimeout(resolve, faultEveryMs));
      if ((await jobsLeft()) < minJobsLeftForAFault) break;
      const pid = pickRandom(p.fileWorkers().filter((candidate) => !killedAt.has(candidate) && !paused.includes(candidate)));
      if (pid === undefined) continue;
      faults += 1;
      if (faults % 6 === 0 && paused.length < pauses) {
        paused.push(pid);
        process.kill(pid, 'SIGSTOP');
        setTimeout(() => process.kill(pid, 'SIGCONT'), pauseMs);
      } else {
        killedAt.set(pid, Date.now());
        process.kill(pid, 'SIGKILL');
      }
    }
    const uploads = await uploading;
    // A sweep now and then stands in for the scheduled trigger, for what no heartbeat can see: a
    // worker killed between its invoke and its claim leaves a reservation that lapses after the
    // redispatch window, possibly after the last attempt ended. Those jobs have no claim by the
    // killed worker, so the pick-up times below are the heartbeats' alone.
    await settle(p, uploads, { timeoutMs: 120_000, sweepEveryMs: 20_000 });
    const report = await expectInvariants(p, uploads);

    // Per job: the activation of each claim, and nothing written to the job by an attempt's
    // activation once the next attempt has claimed it.
    const events = await loadEvents(p.db, uploads.map((upload) => upload.jobId));
    const pickups: number[] = [];
    let zombieAttempts = 0;
    for (const upload of uploads) {
      const own = events.filter((event) => event.jobId === upload.jobId);
      const claims = own.filter((event) => event.event === 'claimed');
      claims.forEach((claim, index) => {
        const next = claims[index + 1];
        if (next === undefined) return;
        const lateWrites = own.filter((event) => event.activationId === claim.activationId && event.at.getTime() > next.at.getTime());
        expect(lateWrites, `${upload.filename}: attempt ${claim.attempt} wrote after attempt ${next.attempt} claimed`).toEqual([]);
        const record = p.activation(claim.activationId ?? '');
        const pid = workerPid(record);
        const killed = pid === undefined ? undefined : killedAt.get(pid);
        if (killed !== undefined) pickups.push(next.at.getTime() - killed);
        if (pid !== undefined && paused.includes(pid)) zombieAttempts += 1;
      });
    }
    const figures = summary(pickups);
    console.log(
      `kills: ${killedAt.size} workers SIGKILLed, ${paused.length} paused ${pauseMs} ms (${zombieAttempts} of their attempts superseded), ${report.extraAttempts} extra attempts over ${jobCount} jobs; ` +
        `a killed job running again after median ${figures.median} ms, min ${figures.min}, max ${figures.max} (${figures.count} jobs; lease ${leaseSeconds} s, heartbeat ${heartbeatSeconds} s)`,
    );
    expect(figures.count).toBeGreaterThan(0);
    expect(killedAt.size + paused.length, 'faults made while work remained').toBeGreaterThanOrEqual(8);
    // A lease to notice the death, then the next free slot; a slot can itself be held by a worker
    // killed before it claimed, for up to the redispatch window. (Deployed: 60 s + 15 s at most.)
    expect(figures.max).toBeLessThan((leaseSeconds + redispatchAfterSeconds + 5) * 1000);
  }, 240_000);
});
