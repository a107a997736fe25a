// presign/retry: a failed job goes back to `queued` with a fresh attempt budget, recorded as a
// 'retried' event, and is dispatched at once; any other status is 409 JOB_NOT_RETRYABLE with the
// reason. The failures are real: process/file is redeployed with a variant whose extra analyzer
// fails on files named …failalways… and holds files named …hold<ms>ms… (test/fixtures/scripted-process),
// and the fix arrives as a redeploy of the project's own bundle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceApiError } from '../../src/client/index.js';
import { maxAttemptsDefault } from '../../src/config.js';
import { bytes } from '../analyzers/fixtures.js';
import { eventsNamed, startProcessingPlatform, type ProcessingPlatform } from '../processing/support.js';
import { postRaw } from './support.js';

let p: ProcessingPlatform;
let scriptedBuild: string;

beforeAll(async () => {
  // Short backoff so a whole budget of attempts runs in seconds; one slot, so a job can be held queued.
  p = await startProcessingPlatform({ RETRY_BASE_DELAY_SECONDS: '0.01', MAX_CONCURRENT_JOBS: '1' });
  await p.holdActivitySweeps();
  scriptedBuild = await p.deployFileVariant('test/fixtures/scripted-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
});

const unique = (): string => Math.random().toString(36).slice(2, 8);

async function refusal(call: Promise<unknown>): Promise<SluiceApiError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof SluiceApiError)) throw new Error(`expected a SluiceApiError, got ${String(error)}`);
  return error;
}

describe('retry of a failed job', () => {
  it('queues it with a fresh budget: every new attempt runs, and once fixed it succeeds', async () => {
    const { jobId, token } = await p.upload(bytes('a,b\n1,2\n'), `doomed-failalways-${unique()}.csv`, 'text/csv');
    await p.sweepUntil(jobId, 'failed', 25_000);
    expect(await p.job(jobId)).toMatchObject({ attempts: maxAttemptsDefault, maxAttempts: maxAttemptsDefault, errorCode: 'ANALYZER_CRASHED' });

    // Still broken: the retry runs a whole new budget of attempts, then fails again.
    // The answer may already show the next attempt: the retry dispatches at once.
    const { job: queued } = await p.client.retry({ jobId, token });
    expect(['queued', 'processing']).toContain(queued.status);
    expect(queued).toMatchObject({ maxAttempts: 2 * maxAttemptsDefault, finishedAt: null });
    expect(queued.events.filter((event) => event.event === 'retried')).toEqual([
      expect.objectContaining({
        from: 'failed',
        to: 'queued',
        attempt: maxAttemptsDefault,
        detail: expect.objectContaining({ by: 'presign/retry', attemptBudget: maxAttemptsDefault }),
      }),
    ]);
    await p.sweepUntil(jobId, 'failed', 25_000);
    const claims = eventsNamed(await p.events(jobId), 'claimed');
    expect(claims.map((event) => event.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The new budget's backoff starts again from the shortest delay: attempt 6 waits as attempt 1
    // did (0.005–0.01 s here), not as a sixth attempt would (0.16–0.32 s; minutes deployed).
    const delays = new Map(eventsNamed(await p.events(jobId), 'retry_scheduled').map((event) => [event.attempt, Number(event.detail?.retryDelaySeconds)]));
    for (const [first, again] of [[1, 6], [2, 7], [4, 9]] as const) {
      expect(delays.get(again), `attempt ${again}`).toBeLessThanOrEqual(0.01 * 2 ** (first - 1));
      expect(delays.get(again), `attempt ${again}`).toBeGreaterThanOrEqual((0.01 * 2 ** (first - 1)) / 2);
    }
    // Dispatched at once, not left for the next sweep: a 'dispatched' event right after 'retried'.
    const events = await p.events(jobId);
    const retriedAt = events.findIndex((event) => event.event === 'retried');
    expect(events[retriedAt + 1]).toMatchObject({ event: 'dispatched', fromStatus: 'queued' });

    // The fix is deployed; a retry now succeeds on the next attempt, with the new build.
    const fixedBuild = await p.redeployProject();
    expect(fixedBuild).not.toBe(scriptedBuild);
    await p.client.retry({ jobId, token });
    await p.sweepUntil(jobId, 'succeeded', 25_000);
    const done = await p.job(jobId);
    expect(done).toMatchObject({ attempts: 11, maxAttempts: 15, buildId: fixedBuild, errorCode: null });
    expect(done.result).not.toBeNull();
    expect(eventsNamed(await p.events(jobId), 'retried')).toHaveLength(2);

    // Succeeded now: nothing left to retry.
    const again = await refusal(p.client.retry({ jobId, token }));
    expect(again).toMatchObject({ status: 409, code: 'JOB_NOT_RETRYABLE', details: { status: 'succeeded' } });

    await p.deployFileVariant('test/fixtures/scripted-process/index.ts');
  });
});

describe('retry of a job that is not failed', () => {
  it('is 409 JOB_NOT_RETRYABLE while waiting for its bytes, and once cancelled', async () => {
    const created = await p.client.create({ filename: 'later.csv', size: 8, contentType: 'text/csv' });
    const waiting = await refusal(p.client.retry(created));
    expect(waiting).toMatchObject({ status: 409, code: 'JOB_NOT_RETRYABLE', details: { status: 'awaiting_upload' } });
    expect(waiting.message).toMatch(/not been uploaded yet/);

    await p.client.abort(created);
    const cancelled = await refusal(p.client.retry(created));
    expect(cancelled).toMatchObject({ status: 409, code: 'JOB_NOT_RETRYABLE', details: { status: 'cancelled' } });
    expect(cancelled.message).toMatch(/^Cancelled jobs cannot be retried/);
    expect(eventsNamed(await p.events(created.jobId), 'retried')).toEqual([]);
  });

  it('is 409 while it is processing or queued: it is running already', async () => {
    const running = await p.upload(bytes('n\n1\n'), `busy-hold3000ms-${unique()}.csv`, 'text/csv');
    await expect.poll(async () => (await p.job(running.jobId)).status, { timeout: 10_000, interval: 20 }).toBe('processing');
    // The only slot is taken, so this one waits in the queue.
    const waiting = await p.upload(bytes('n\n2\n'), `next-${unique()}.csv`, 'text/csv');
    expect((await p.job(waiting.jobId)).status).toBe('queued');

    const processing = await refusal(p.client.retry(running));
    expect(processing).toMatchObject({ status: 409, code: 'JOB_NOT_RETRYABLE', details: { status: 'processing' } });
    expect(processing.message).toMatch(/being processed right now/);
    const queued = await refusal(p.client.retry(waiting));
    expect(queued).toMatchObject({ status: 409, code: 'JOB_NOT_RETRYABLE', details: { status: 'queued' } });
    expect(queued.message).toMatch(/already waiting/);

    await expect.poll(async () => (await p.job(waiting.jobId)).status, { timeout: 20_000, interval: 50 }).toBe('succeeded');
    expect((await p.job(running.jobId)).maxAttempts).toBe(maxAttemptsDefault);
  });

  it('is 409 once rejected: the file was deleted', async () => {
    const { jobId, token } = await p.upload(bytes('a,b\n1,2\n'), 'claimed.csv', 'text/csv', { sha256: '0'.repeat(64) });
    await expect.poll(async () => (await p.job(jobId)).status, { timeout: 15_000, interval: 50 }).toBe('rejected');
    const rejected = await refusal(p.client.retry({ jobId, token }));
    expect(rejected).toMatchObject({ status: 409, code: 'JOB_NOT_RETRYABLE', details: { status: 'rejected' } });
    expect(rejected.message).toMatch(/^Rejected jobs cannot be retried/);
  });

  it('is 404 with a wrong token, and changes nothing', async () => {
    const { jobId, token } = await p.upload(bytes('a,b\n1,2\n'), `other-failalways-${unique()}.csv`, 'text/csv');
    await p.sweepUntil(jobId, 'failed', 25_000);
    const answer = await postRaw(p.platform.apiBase, 'retry', { jobId, token: `${token.slice(0, -2)}xx` });
    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ error: { code: 'JOB_NOT_FOUND' } });
    expect(await p.job(jobId)).toMatchObject({ status: 'failed', maxAttempts: maxAttemptsDefault });
  });

  it('records one retry when two arrive at once; the other is told the job is running', async () => {
    // Each attempt holds its job for 0.6 s: the retried budget of five cannot have failed
    // again before the second call is answered (each starts afresh, 5-10 ms apart here, and a
    // second call may wait for a cold worker).
    const { jobId, token } = await p.upload(bytes('a,b\n1,2\n'), `twice-failalways-hold600ms-${unique()}.csv`, 'text/csv');
    await p.sweepUntil(jobId, 'failed', 25_000);
    const outcomes = await Promise.allSettled([p.client.retry({ jobId, token }), p.client.retry({ jobId, token })]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const loser = outcomes.find((outcome) => outcome.status === 'rejected');
    expect(loser?.reason).toMatchObject({ status: 409, code: 'JOB_NOT_RETRYABLE' });
    expect(eventsNamed(await p.events(jobId), 'retried')).toHaveLength(1);
    await p.sweepUntil(jobId, 'failed', 25_000);
  });
});
