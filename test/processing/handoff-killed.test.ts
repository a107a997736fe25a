// A SIGKILLed worker's job is running again within a lease and a heartbeat, backlog or not, without
// a sweep: the heartbeats of the job still running find the lapsed lease, requeue the job at its old
// place at the head of the queue and start it in the slot it held (src/jobs/handoff.ts). Activity
// sweeps are held and there is no scheduled trigger. MAX_CONCURRENT_JOBS = 2: the killed job, one
// that keeps running, and three more waiting behind them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes } from '../analyzers/fixtures.js';
import { loadEvents } from '../helpers/job-timeline.js';
import { eventsNamed, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;
let fileBuild: string;

/** A 2 s lease renewed every 0.5 s: the production figures are 60 s and 15 s. */
const leaseSeconds = 2;
const heartbeatSeconds = 0.5;
/** The goal (issue "Under fire") is lease + 15 s, the 15 being a production heartbeat; here lease + a heartbeat, with room for a loaded machine. */
const pickupBoundMs = (leaseSeconds + 5) * 1000;

beforeAll(async () => {
  p = await startProcessingPlatform({ LEASE_SECONDS: String(leaseSeconds), HEARTBEAT_SECONDS: String(heartbeatSeconds), MAX_CONCURRENT_JOBS: '2' });
  await p.holdActivitySweeps();
  fileBuild = await p.deployFileVariant('test/fixtures/scripted-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
});

describe('a worker killed mid-job, with a backlog', () => {
  it('has its job requeued by a running attempt and running again within a lease and a heartbeat', async () => {
    const run = Date.now().toString(36);
    const pid = await p.warmFileWorker();
    // The warm worker takes the first job: the one to kill (only its first attempt holds).
    const killed = await p.upload(bytes('killed\n'), `killed-${run}-holdfirst30000ms.txt`, 'text/plain');
    await expect.poll(async () => (await p.job(killed.jobId)).status, { timeout: 10_000, interval: 20 }).toBe('processing');
    // Another job keeps running (its heartbeats look after the queue), three more wait behind the cap.
    const running = await p.upload(bytes('running\n'), 'running-hold10000ms.txt', 'text/plain');
    await expect.poll(async () => (await p.job(running.jobId)).status, { timeout: 10_000, interval: 20 }).toBe('processing');
    const backlog = await Promise.all([1, 2, 3].map((n) => p.upload(bytes(`queued ${n}\n`), `queued-${n}-hold200ms.txt`, 'text/plain')));
    for (const { jobId } of backlog) expect((await p.job(jobId)).status).toBe('queued');

    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');

    const all = [killed, running, ...backlog].map((job) => job.jobId);
    for (const jobId of all) await expect.poll(async () => (await p.job(jobId)).status, { timeout: 30_000, interval: 100 }).toBe('succeeded');

    const events = await p.events(killed.jobId);
    const [expired] = eventsNamed(events, 'lease_expired');
    // Taken back by a process/file activation (the running job's heartbeat), not a sweep.
    expect(expired).toMatchObject({ attempt: 1, codeVersion: fileBuild });
    const claims = eventsNamed(events, 'claimed');
    expect(claims.map((claim) => claim.attempt)).toEqual([1, 2]);
    expect(eventsNamed(events, 'succeeded')).toEqual([expect.objectContaining({ attempt: 2 })]);
    const pickupMs = (claims[1]?.at.getTime() ?? 0) - killedAt;
    console.log(`killed job running again ${pickupMs} ms after the kill (lease ${leaseSeconds} s, heartbeat ${heartbeatSeconds} s)`);
    expect(pickupMs).toBeLessThan(pickupBoundMs);

    // It kept its place at the head of the queue: the backlog started after it.
    const backlogClaims = (await loadEvents(p.db, backlog.map((job) => job.jobId))).filter((event) => event.event === 'claimed');
    expect(Math.min(...backlogClaims.map((event) => event.at.getTime()))).toBeGreaterThan(claims[1]?.at.getTime() ?? 0);
    // Exactly once throughout.
    for (const jobId of all) expect(eventsNamed(await p.events(jobId), 'succeeded'), jobId).toHaveLength(1);
    expect((await p.db<{ lastFinishedAt: Date | null }[]>`SELECT last_finished_at FROM sweeps`)[0]?.lastFinishedAt).toBeNull();
  }, 60_000);
});
