// Dispatch honours MAX_CONCURRENT_JOBS (DigitalOcean allows 120 concurrent activations per
// namespace, web functions included): with the cap reached, `complete` queues the job without
// invoking process/file, a sweep leaves it queued too, and the activation holding the slot hands it
// on when its attempt ends — no sweep needed (src/jobs/handoff.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes } from '../analyzers/fixtures.js';
import { eventsNamed, repeatToSize, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;

beforeAll(async () => {
  p = await startProcessingPlatform({ MAX_CONCURRENT_JOBS: '1' });
  await p.holdActivitySweeps();
  // A throttled read (4 MiB/s), so the first job holds the only slot for a couple of seconds.
  await p.deployFileVariant('test/fixtures/slow-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
});

describe('the concurrency cap', () => {
  it('keeps a job queued while the cap is reached, and the ending attempt hands its slot to it', async () => {
    const first = await p.upload(repeatToSize('n\n1\n', 8 * 1024 * 1024), 'first.csv', 'text/csv');
    await expect.poll(async () => (await p.job(first.jobId)).status, { timeout: 10_000, interval: 20 }).toBe('processing');

    const second = await p.upload(bytes('n\n2\n'), 'second.csv', 'text/csv');
    expect(await p.job(second.jobId)).toMatchObject({ status: 'queued', dispatchedAt: null });
    expect(await p.sweep()).toMatchObject({ dispatched: 0, dispatchCapped: 1 });
    expect(await p.job(second.jobId)).toMatchObject({ status: 'queued', attempts: 0 });

    await expect.poll(async () => (await p.job(second.jobId)).status, { timeout: 15_000, interval: 50 }).toBe('succeeded');

    // The second job never ran while the first held the slot, and the first one's activation started it.
    const firstDone = eventsNamed(await p.events(first.jobId), 'succeeded')[0];
    const secondEvents = await p.events(second.jobId);
    const secondClaim = eventsNamed(secondEvents, 'claimed')[0];
    expect(secondClaim?.at.getTime()).toBeGreaterThan(firstDone?.at.getTime() ?? Number.POSITIVE_INFINITY);
    expect(eventsNamed(secondEvents, 'dispatched')).toEqual([expect.objectContaining({ activationId: firstDone?.activationId })]);
  });
});
