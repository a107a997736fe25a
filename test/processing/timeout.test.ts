// A file that needs longer than process/file's time limit: the activation stops a margin before
// __OW_DEADLINE and releases the job to the queue (a counted attempt, reason DEADLINE_REACHED)
// instead of being SIGKILLed at the timeout with the job left "processing". With a longer limit
// deployed, the retry succeeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsNamed, repeatToSize, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;

/** The slow variant reads 4 MiB/s, so 24 MiB needs about 6 s: more than this limit allows. */
const shortTimeoutMs = 4_000;

beforeAll(async () => {
  p = await startProcessingPlatform({ RETRY_BASE_DELAY_SECONDS: '0.2' });
  await p.holdActivitySweeps();
  await p.deployFileVariant('test/fixtures/slow-process/index.ts', { timeoutMs: shortTimeoutMs });
});

afterAll(async () => {
  await p?.stop();
});

describe('a function timeout shorter than the file needs', () => {
  it('releases the job before the deadline; the retry succeeds once the limit is raised', async () => {
    const { jobId } = await p.upload(repeatToSize('x,y\n1,2\n', 24 * 1024 * 1024), 'long.csv', 'text/csv');

    await expect.poll(async () => eventsNamed(await p.events(jobId), 'retry_scheduled').length, { timeout: 15_000, interval: 50 }).toBe(1);
    const job = await p.job(jobId);
    expect(job).toMatchObject({ status: 'queued', attempts: 1, errorCode: 'DEADLINE_REACHED', leaseExpiresAt: null });

    // The activation ended on its own, before the limit: not killed, no timeout.
    const claim = eventsNamed(await p.events(jobId), 'claimed')[0];
    await expect.poll(() => p.activation(claim?.activationId ?? ''), { timeout: 5_000, interval: 20 }).toBeDefined();
    const record = p.activation(claim?.activationId ?? '');
    expect(record?.annotations.find((annotation) => annotation.key === 'timeout')?.value).toBe(false);
    expect(record?.response.success).toBe(true);
    expect(record?.response.result).toMatchObject({ claimed: true, attempt: 1, outcome: 'retry_scheduled', failure: { code: 'DEADLINE_REACHED' } });
    expect(record?.duration).toBeLessThan(shortTimeoutMs);

    // The project's own process/file (15-minute limit): the next sweep's dispatch runs it to the end.
    const build = await p.redeployProject();
    await p.sweepUntil(jobId, 'succeeded');
    const done = await p.job(jobId);
    expect(done).toMatchObject({ attempts: 2, buildId: build, errorCode: null });
    expect(eventsNamed(await p.events(jobId), 'succeeded')).toEqual([expect.objectContaining({ attempt: 2, codeVersion: build })]);
  });
});
