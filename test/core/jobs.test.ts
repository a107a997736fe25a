// The job state machine against a real Postgres: transitions, their events, claims, fencing,
// retries, lease expiry, limits and the sweep bookkeeping.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findJobWithToken } from '../../src/auth/job-tokens.js';
import type { Actor } from '../../src/db/client.js';
import { insertJob, listJobEvents, type JobRow } from '../../src/db/jobs.js';
import { consumeQuota } from '../../src/db/rate-limits.js';
import { acquireSweepLease, claimSweepStart, releaseSweepLease } from '../../src/db/sweeps.js';
import { ApiError } from '../../src/errors.js';
import {
  cancelJob,
  claimJob,
  expireJob,
  failAttempt,
  heartbeat,
  markUploaded,
  rejectClaimedJob,
  rejectUpload,
  requeueExpiredLease,
  succeedJob,
} from '../../src/jobs/transitions.js';
import { newJobFields, startCoreServices, type CoreServices } from './support.js';

let services: CoreServices;
beforeAll(async () => {
  services = await startCoreServices();
});
afterAll(async () => {
  await services?.stop();
});

const api: Actor = { activationId: 'act-api', codeVersion: 'v1' };
const worker = (n: number): Actor => ({ activationId: `act-worker-${n}`, codeVersion: 'v2' });

async function newJob(options: { maxAttempts?: number; uploadWindowSeconds?: number } = {}): Promise<{ job: JobRow; token: string }> {
  const { fields, token } = newJobFields({ filename: 'a.csv', contentType: 'text/csv', ...options });
  return { job: await insertJob(services.db, fields, api), token };
}

async function queuedJob(options: { maxAttempts?: number } = {}): Promise<JobRow> {
  const { job } = await newJob(options);
  const queued = await markUploaded(services.db, job.id, api);
  if (!queued) throw new Error('not queued');
  return queued;
}

/** Makes a lease look expired without waiting a minute. */
async function expireLease(jobId: string): Promise<void> {
  await services.db`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = ${jobId}`;
}

describe('transitions', () => {
  it('records created and every transition with from, to, attempt, activation and code version', async () => {
    const job = await queuedJob();
    const claimed = await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(1) });
    expect(claimed?.fence).toEqual({ jobId: job.id, attempt: 1 });
    const done = await succeedJob(services.db, claimed!.fence, { file: { size: 10 } }, worker(1));
    expect(done).toMatchObject({ status: 'succeeded', previousStatus: 'processing', result: { file: { size: 10 } } });
    expect(done?.finishedAt).toBeInstanceOf(Date);

    const events = await listJobEvents(services.db, job.id);
    expect(events.map((e) => [e.event, e.fromStatus, e.toStatus, e.attempt, e.activationId, e.codeVersion])).toEqual([
      ['created', null, 'awaiting_upload', 0, 'act-api', 'v1'],
      ['uploaded', 'awaiting_upload', 'queued', 0, 'act-api', 'v1'],
      ['claimed', 'queued', 'processing', 1, 'act-worker-1', 'v2'],
      ['succeeded', 'processing', 'succeeded', 1, 'act-worker-1', 'v2'],
    ]);
  });

  it('refuses transitions from the wrong state and records nothing for them', async () => {
    const { job } = await newJob();
    expect(await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(1) })).toBeUndefined();
    expect(await cancelJob(services.db, job.id, api)).toMatchObject({ status: 'cancelled' });
    expect(await markUploaded(services.db, job.id, api)).toBeUndefined();
    expect(await cancelJob(services.db, job.id, api)).toBeUndefined();
    expect((await listJobEvents(services.db, job.id)).map((e) => e.event)).toEqual(['created', 'cancelled']);
  });

  it('lets exactly one of many concurrent uploaded transitions through', async () => {
    const { job } = await newJob();
    const results = await Promise.all(Array.from({ length: 5 }, () => markUploaded(services.db, job.id, api)));
    expect(results.filter((result) => result !== undefined)).toHaveLength(1);
    expect((await listJobEvents(services.db, job.id)).filter((e) => e.event === 'uploaded')).toHaveLength(1);
  });

  it('rejects an upload with its reason kept', async () => {
    const { job } = await newJob();
    const rejected = await rejectUpload(services.db, job.id, { code: 'SIZE_MISMATCH', message: '9 bytes, 10 declared' }, api);
    expect(rejected).toMatchObject({ status: 'rejected', errorCode: 'SIZE_MISMATCH', errorMessage: '9 bytes, 10 declared' });
  });

  it('expires only uploads past their window', async () => {
    const open = await newJob();
    expect(await expireJob(services.db, open.job.id, api)).toBeUndefined();
    const stale = await newJob({ uploadWindowSeconds: 1 });
    await services.db`UPDATE jobs SET expires_at = now() - interval '1 second' WHERE id = ${stale.job.id}`;
    expect(await expireJob(services.db, stale.job.id, api)).toMatchObject({ status: 'expired', errorCode: 'UPLOAD_EXPIRED' });
  });
});

describe('claims and fencing', () => {
  it('gives a job to one of five concurrent claims', async () => {
    const job = await queuedJob();
    const claims = await Promise.all(
      Array.from({ length: 5 }, (_, n) => claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(n) })),
    );
    expect(claims.filter((claim) => claim !== undefined)).toHaveLength(1);
  });

  it('does not claim a queued job before run_after, nor a processing job with a live lease', async () => {
    const job = await queuedJob();
    await services.db`UPDATE jobs SET run_after = now() + interval '1 hour' WHERE id = ${job.id}`;
    expect(await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(1) })).toBeUndefined();
    await services.db`UPDATE jobs SET run_after = now() WHERE id = ${job.id}`;
    expect(await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(1) })).toBeDefined();
    expect(await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(2) })).toBeUndefined();
  });

  it('lets a newer claim take an expired lease and fences the zombie out of every write', async () => {
    const job = await queuedJob();
    const first = await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(1) });
    await expireLease(job.id);
    const second = await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(2) });
    expect(second?.fence.attempt).toBe(2);
    expect(second?.previousStatus).toBe('processing');

    const zombie = first!.fence;
    expect(await heartbeat(services.db, zombie, 60)).toBe(false);
    expect(await succeedJob(services.db, zombie, { stale: true }, worker(1))).toBeUndefined();
    expect(await failAttempt(services.db, zombie, { code: 'X', message: 'x' }, 0, worker(1))).toBeUndefined();
    expect(await rejectClaimedJob(services.db, zombie, { code: 'X', message: 'x' }, worker(1))).toBeUndefined();

    expect(await heartbeat(services.db, second!.fence, 60)).toBe(true);
    const done = await succeedJob(services.db, second!.fence, { fresh: true }, worker(2));
    expect(done?.result).toEqual({ fresh: true });
    // A duplicate finish from the same attempt records nothing more: exactly one result.
    expect(await succeedJob(services.db, second!.fence, { again: true }, worker(2))).toBeUndefined();
    const events = await listJobEvents(services.db, job.id);
    expect(events.filter((e) => e.event === 'succeeded')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'claimed').map((e) => e.attempt)).toEqual([1, 2]);
  });

  it('does not take an expired lease whose attempts are spent: the sweep fails that job', async () => {
    const job = await queuedJob({ maxAttempts: 1 });
    expect(await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(1) })).toBeDefined();
    await expireLease(job.id);
    expect(await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(2) })).toBeUndefined();
    expect(await requeueExpiredLease(services.db, job.id, api)).toMatchObject({ status: 'failed', attempts: 1, errorCode: 'LEASE_EXPIRED' });
    expect((await listJobEvents(services.db, job.id)).map((e) => e.event)).toEqual(['created', 'uploaded', 'claimed', 'failed']);
  });

  it('retries with run_after while attempts remain, then fails with the reason', async () => {
    const job = await queuedJob({ maxAttempts: 2 });
    const first = await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(1) });
    const retried = await failAttempt(services.db, first!.fence, { code: 'ANALYZER_ERROR', message: 'boom' }, 30, worker(1));
    expect(retried).toMatchObject({ status: 'queued', errorCode: 'ANALYZER_ERROR', leaseExpiresAt: null });
    expect(retried!.runAfter.getTime()).toBeGreaterThan(Date.now() + 20_000);

    await services.db`UPDATE jobs SET run_after = now() WHERE id = ${job.id}`;
    const second = await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(2) });
    const failed = await failAttempt(services.db, second!.fence, { code: 'ANALYZER_ERROR', message: 'boom again' }, 30, worker(2));
    expect(failed).toMatchObject({ status: 'failed', errorMessage: 'boom again', attempts: 2 });
    expect((await listJobEvents(services.db, job.id)).map((e) => e.event)).toEqual([
      'created',
      'uploaded',
      'claimed',
      'retry_scheduled',
      'claimed',
      'failed',
    ]);
  });

  it('returns an expired lease to the queue (sweep), or fails it when attempts are spent', async () => {
    const job = await queuedJob({ maxAttempts: 2 });
    await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(1) });
    expect(await requeueExpiredLease(services.db, job.id, api)).toBeUndefined();
    await expireLease(job.id);
    expect(await requeueExpiredLease(services.db, job.id, api)).toMatchObject({ status: 'queued', errorCode: 'LEASE_EXPIRED' });
    await claimJob(services.db, job.id, { leaseSeconds: 60, actor: worker(2) });
    await expireLease(job.id);
    expect(await requeueExpiredLease(services.db, job.id, api)).toMatchObject({ status: 'failed', attempts: 2 });
  });
});

describe('job tokens', () => {
  it('finds the job only with its token; wrong token and unknown id look the same', async () => {
    const { job, token } = await newJob();
    expect((await findJobWithToken(services.db, job.id, token)).id).toBe(job.id);
    const wrong = await findJobWithToken(services.db, job.id, `${token}x`).catch((error: unknown) => error);
    const unknown = await findJobWithToken(services.db, randomUUID(), token).catch((error: unknown) => error);
    for (const error of [wrong, unknown]) {
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: 'JOB_NOT_FOUND', status: 404, message: 'No job with this id and token.' });
    }
  });

  it('stores only the hash', async () => {
    const { job, token } = await newJob();
    const [row] = await services.db<{ raw: string }[]>`SELECT row_to_json(jobs)::text AS raw FROM jobs WHERE id = ${job.id}`;
    expect(row?.raw).not.toContain(token);
  });
});

describe('rate limits', () => {
  it('counts atomically: 20 concurrent consumers of a limit of 5 get exactly 5', async () => {
    const client = `ip:${randomUUID()}`;
    const decisions = await Promise.all(Array.from({ length: 20 }, () => consumeQuota(services.db, client, 'uploads_per_hour', 1, 5)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    const refused = decisions.find((d) => !d.allowed);
    expect(refused && !refused.allowed && refused.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused && !refused.allowed && refused.retryAfterSeconds).toBeLessThanOrEqual(3600);
  });

  it('counts bytes per day per client', async () => {
    const client = `key:${randomUUID()}`;
    expect(await consumeQuota(services.db, client, 'bytes_per_day', 600, 1000)).toEqual({ allowed: true, used: 600 });
    expect((await consumeQuota(services.db, client, 'bytes_per_day', 500, 1000)).allowed).toBe(false);
    expect(await consumeQuota(services.db, client, 'bytes_per_day', 400, 1000)).toEqual({ allowed: true, used: 1000 });
    expect((await consumeQuota(services.db, `key:${randomUUID()}`, 'bytes_per_day', 400, 1000)).allowed).toBe(true);
  });
});

describe('sweep bookkeeping', () => {
  it('lets one caller per interval start a sweep, and one sweep hold the lease', async () => {
    const starts = await Promise.all(Array.from({ length: 4 }, () => claimSweepStart(services.db, 60)));
    expect(starts.filter(Boolean)).toHaveLength(1);
    expect(await claimSweepStart(services.db, 60)).toBe(false);

    expect(await acquireSweepLease(services.db, 'sweep-a', 60)).toBe(true);
    expect(await acquireSweepLease(services.db, 'sweep-b', 60)).toBe(false);
    expect(await releaseSweepLease(services.db, 'sweep-b', {})).toBe(false);
    expect(await releaseSweepLease(services.db, 'sweep-a', { requeued: 1 })).toBe(true);
    expect(await acquireSweepLease(services.db, 'sweep-b', 60)).toBe(true);
  });
});
