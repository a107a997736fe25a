// A deploy ships an analyzer that throws on every file: each attempt fails, the job goes back to
// the queue with a growing run_after (exponential backoff with jitter), the sweep runs it again
// once due, and after max_attempts it is failed with the crash as the reason. The broken code
// arrives as a real redeploy of process/file (test/fixtures/failing-process), not a test hook.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenAnalyzerMessage } from '../fixtures/failing-process/index.js';
import { bytes } from '../analyzers/fixtures.js';
import { eventsNamed, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;
let brokenBuild: string;

/** First retry after 0.125–0.25 s, then doubling: all five attempts fit in a few seconds. */
const baseDelaySeconds = 0.25;

beforeAll(async () => {
  p = await startProcessingPlatform({ RETRY_BASE_DELAY_SECONDS: String(baseDelaySeconds) });
  await p.holdActivitySweeps();
  brokenBuild = await p.deployFileVariant('test/fixtures/failing-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
});

describe('an attempt that fails', () => {
  it('is retried with growing delays, then failed with the reason', async () => {
    const { jobId, token } = await p.upload(bytes('a,b\n1,2\n'), 'doomed.csv', 'text/csv');

    await p.sweepUntil(jobId, 'failed', 25_000);

    const job = await p.job(jobId);
    expect(job).toMatchObject({ attempts: 5, maxAttempts: 5, errorCode: 'ANALYZER_CRASHED', leaseExpiresAt: null });
    expect(job.errorMessage).toContain(brokenAnalyzerMessage);
    expect(job.result).toBeNull();

    const events = await p.events(jobId);
    const claims = eventsNamed(events, 'claimed');
    const retries = eventsNamed(events, 'retry_scheduled');
    expect(claims.map((event) => event.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(retries.map((event) => event.attempt)).toEqual([1, 2, 3, 4]);
    expect(eventsNamed(events, 'failed')).toEqual([
      expect.objectContaining({ attempt: 5, fromStatus: 'processing', toStatus: 'failed', codeVersion: brokenBuild }),
    ]);

    // Backoff: each delay within its exponential step's jittered half, and longer than the one before.
    const delays = retries.map((event) => Number(event.detail?.retryDelaySeconds));
    delays.forEach((delay, index) => {
      const step = baseDelaySeconds * 2 ** index;
      expect(delay).toBeGreaterThanOrEqual(step / 2);
      expect(delay).toBeLessThanOrEqual(step);
      if (index > 0) expect(delay).toBeGreaterThan(delays[index - 1] ?? 0);
    });
    // run_after was honoured: no attempt started before its retry delay had passed.
    retries.forEach((retry, index) => {
      const next = claims[index + 1];
      expect((next?.at.getTime() ?? 0) - retry.at.getTime()).toBeGreaterThanOrEqual((delays[index] ?? 0) * 1000 - 50);
    });
    for (const retry of retries) expect(retry.detail).toMatchObject({ code: 'ANALYZER_CRASHED' });

    // The status call shows the failure and every attempt with the build that ran it.
    const { job: view } = await p.client.status({ jobId, token });
    expect(view).toMatchObject({ status: 'failed', attempts: 5, buildId: brokenBuild, error: { code: 'ANALYZER_CRASHED' } });
    expect(view.events?.filter((event) => event.event === 'claimed').map((event) => event.codeVersion)).toEqual(Array(5).fill(brokenBuild));
  });
});
