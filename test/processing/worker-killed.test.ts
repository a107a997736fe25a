// The process running a job is SIGKILLed mid-file (an OOM kill, a host failure): its lease stops
// being renewed, the sweep takes the job back once the lease lapses, and the next attempt
// succeeds. job_events shows both attempts, each with its own activation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repeatToSize, startProcessingPlatform, workerPid, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;

beforeAll(async () => {
  // A 2 s lease renewed every 0.5 s: a dead activation is noticed within seconds, not a minute.
  p = await startProcessingPlatform({ LEASE_SECONDS: '2', HEARTBEAT_SECONDS: '0.5' });
  await p.holdActivitySweeps();
  // process/file reading at 4 MiB/s (a slow stream), so the job is surely mid-file when killed.
  await p.deployFileVariant('test/fixtures/slow-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
});

describe('a worker killed mid-file', () => {
  it('loses the lease, is taken back by the sweep and succeeds on the next attempt', async () => {
    const pid = await p.warmFileWorker();
    const { jobId } = await p.upload(repeatToSize('name,value\nalpha,1\n', 8 * 1024 * 1024), 'big.csv', 'text/csv');
    await expect.poll(async () => (await p.job(jobId)).status, { timeout: 10_000, interval: 20 }).toBe('processing');
    process.kill(pid, 'SIGKILL');

    // The killed activation is recorded as a crash of that very worker; the job is still "processing".
    const firstClaim = (await p.events(jobId)).find((event) => event.event === 'claimed');
    await expect.poll(() => p.activation(firstClaim?.activationId ?? ''), { timeout: 5_000, interval: 20 }).toBeDefined();
    const killed = p.activation(firstClaim?.activationId ?? '');
    expect(workerPid(killed)).toBe(pid);
    expect(killed?.response.success).toBe(false);
    expect(await p.job(jobId)).toMatchObject({ status: 'processing', attempts: 1 });

    // Sweeps return it to the queue once the lease lapses.
    await p.sweepUntil(jobId, 'succeeded');

    const job = await p.job(jobId);
    expect(job.attempts).toBe(2);
    expect(job.result).toHaveProperty('csv.rows');
    const events = (await p.events(jobId)).filter((event) => event.event !== 'dispatched');
    expect(events.map((event) => [event.event, event.attempt])).toEqual([
      ['created', 0],
      ['uploaded', 0],
      ['claimed', 1],
      ['lease_expired', 1],
      ['claimed', 2],
      ['succeeded', 2],
    ]);
    const [, , claim1, expired, claim2, succeeded] = events;
    expect(expired).toMatchObject({ fromStatus: 'processing', toStatus: 'queued' });
    expect(claim2?.activationId).not.toBe(claim1?.activationId);
    expect(succeeded?.activationId).toBe(claim2?.activationId);
    // The lease lapsed about LEASE_SECONDS after its last renewal, not at the function's 15-minute timeout.
    expect((expired?.at.getTime() ?? 0) - (claim1?.at.getTime() ?? 0)).toBeLessThan(10_000);
  });
});
