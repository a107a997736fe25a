// The job state machine (docs/architecture.md "Job state machine", binding), one function per transition.
// Each goes through transitionJob (src/db/transitions.ts): the row changes only if it is in an
// allowed state, and a job_events row records from, to, attempt, activation and code version in
// the same statement. A function returns the updated job, or undefined when the job was not in a
// state that allows the transition (someone else got there first, or a zombie lost its fence).
//
//   awaiting_upload ─uploaded─▶ queued ─claimed─▶ processing ─succeeded─▶ succeeded
//         │                      ▲                    ├─retry (attempts < max)─┘ (back to queued)
//         │                      │                    ├─failed (attempts exhausted)─▶ failed
//         │                      └─lease expired─(sweep)─┤
//         ├─cancelled─▶ cancelled                        └─rejected (not what it claims)─▶ rejected
//         ├─rejected (verify failed at complete)─▶ rejected
//         └─expired (never uploaded)─▶ expired
//   failed ─retried (presign/retry, sluice jobs retry: src/db/operator.ts)─▶ queued, with a fresh attempt budget
import type { Actor, Db } from '../db/client.js';
import type { JobStatus } from '../db/jobs.js';
import { transitionJob, type TransitionedJob } from '../db/transitions.js';

export interface JobFailure {
  code: string;
  message: string;
  /**
   * What a rejection's reason is made of (the types or sizes that disagreed), kept with its
   * 'rejected' event so a client can say it in its own words instead of parsing the message.
   */
  facts?: Record<string, string | number>;
}

/**
 * What an activation holds after a claim. Every write it makes is conditioned on `attempts =
 * attempt AND status = 'processing'`: after a newer claim (or the sweep taking the job back) the
 * attempt no longer matches, so a zombie from an earlier attempt can change nothing.
 */
export interface Fence {
  jobId: string;
  attempt: number;
}

const processing: readonly JobStatus[] = ['processing'];

/**
 * `complete` verified the object: it can be processed now. The ETag its HEAD saw pins the bytes:
 * process/file reads with If-Match on it, so a later PUT through the still-valid URL cannot change
 * what the result describes (docs/platform-facts.md "Spaces").
 */
export function markUploaded(db: Db, jobId: string, actor: Actor, checked?: { size: number; etag?: string }) {
  return transitionJob(db, {
    jobId,
    from: ['awaiting_upload'],
    to: 'queued',
    event: 'uploaded',
    set: db`, run_after = now(), object_etag = ${checked?.etag ?? null}`,
    actor,
    ...(checked === undefined ? {} : { detail: checked }),
  });
}

/** Verification at `complete` failed (size or type differs): the object is deleted by the caller. */
export function rejectUpload(db: Db, jobId: string, failure: JobFailure, actor: Actor) {
  return transitionJob(db, {
    jobId,
    from: ['awaiting_upload'],
    to: 'rejected',
    event: 'rejected',
    set: db`, error_code = ${failure.code}, error_message = ${failure.message}, finished_at = now()`,
    actor,
    detail: { code: failure.code, ...failure.facts },
  });
}

export function cancelJob(db: Db, jobId: string, actor: Actor) {
  return transitionJob(db, {
    jobId,
    from: ['awaiting_upload'],
    to: 'cancelled',
    event: 'cancelled',
    set: db`, finished_at = now()`,
    actor,
  });
}

/** The upload window closed with no bytes (sweep). */
export function expireJob(db: Db, jobId: string, actor: Actor) {
  return transitionJob(db, {
    jobId,
    from: ['awaiting_upload'],
    to: 'expired',
    event: 'expired',
    set: db`, error_code = 'UPLOAD_EXPIRED', error_message = 'The file was not uploaded before the upload window closed.', finished_at = now()`,
    where: db`AND jobs.expires_at < now()`,
    actor,
  });
}

export interface ClaimOptions {
  leaseSeconds: number;
  /** The activation claiming (its id is the job's activation_id from now on). */
  actor: Actor;
}

/**
 * Claim (docs/architecture.md): due and queued, or processing with an expired lease (its activation died).
 * Increments `attempts` — the new fence — and takes the lease. Matching nothing means another
 * activation has the job, or it is not due: return at once without touching it.
 *
 * Only while attempts remain: a queued job always has some (failAttempt queues it only then), but
 * a processing job whose last attempt died must be failed by the sweep (requeueExpiredLease), not
 * taken by a late duplicate invocation for an attempt beyond max_attempts.
 */
export async function claimJob(db: Db, jobId: string, options: ClaimOptions): Promise<(TransitionedJob & { fence: Fence }) | undefined> {
  const job = await transitionJob(db, {
    jobId,
    from: ['queued', 'processing'],
    to: 'processing',
    event: 'claimed',
    set: db`, attempts = jobs.attempts + 1,
            lease_expires_at = now() + make_interval(secs => ${options.leaseSeconds}),
            activation_id = ${options.actor.activationId}, build_id = ${options.actor.codeVersion}`,
    where: db`AND (jobs.status = 'queued' AND jobs.run_after <= now()
                   OR jobs.status = 'processing' AND jobs.lease_expires_at < now())
              AND jobs.attempts < jobs.max_attempts`,
    actor: options.actor,
  });
  return job && { ...job, fence: { jobId, attempt: job.attempts } };
}

/**
 * Extends the lease while the activation works. Not a transition, so no event (one every 15 s
 * would drown the history). False means the fence is lost: stop and write nothing more.
 */
export async function heartbeat(db: Db, fence: Fence, leaseSeconds: number): Promise<boolean> {
  const rows = await db`
    UPDATE jobs SET lease_expires_at = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
    WHERE id = ${fence.jobId} AND status = 'processing' AND attempts = ${fence.attempt}
    RETURNING id`;
  return rows.length > 0;
}

function fenced(db: Db, fence: Fence) {
  return db`AND jobs.attempts = ${fence.attempt}`;
}

/** Postgres' type oid for json: postgres.js sends the value as JSON.stringify's text, typed json. */
const jsonTypeOid = 114;

/**
 * Stores the result once: fenced, so a duplicate or zombie activation cannot record a second one.
 * Into both columns: result_json (json) keeps the text as written, key order included, and result
 * (jsonb) is what the previous release reads (0007_result_json.sql). Typed json explicitly:
 * db.json types its parameter jsonb, and jsonb cast to json comes back with its keys sorted.
 */
export function succeedJob(db: Db, fence: Fence, result: unknown, actor: Actor) {
  const value = result as Parameters<Db['json']>[0];
  return transitionJob(db, {
    jobId: fence.jobId,
    from: processing,
    to: 'succeeded',
    event: 'succeeded',
    set: db`, result = ${db.json(value)}, result_json = ${db.typed(value, jsonTypeOid)}, error_code = NULL, error_message = NULL,
            lease_expires_at = NULL, finished_at = now()`,
    where: fenced(db, fence),
    actor,
  });
}

/** The file is not what it claims (sniffed type, declared sha256): final, the object is deleted by the caller. */
export function rejectClaimedJob(db: Db, fence: Fence, failure: JobFailure, actor: Actor) {
  return transitionJob(db, {
    jobId: fence.jobId,
    from: processing,
    to: 'rejected',
    event: 'rejected',
    set: db`, error_code = ${failure.code}, error_message = ${failure.message}, lease_expires_at = NULL, finished_at = now()`,
    where: fenced(db, fence),
    actor,
    detail: { code: failure.code, ...failure.facts },
  });
}

/**
 * An attempt failed (error, or released before the deadline): back to `queued` after
 * `retryDelaySeconds` while attempts remain, else `failed` with the reason kept. The two
 * statements exclude each other by their attempts conditions, and both are fenced.
 */
export async function failAttempt(db: Db, fence: Fence, failure: JobFailure, retryDelaySeconds: number, actor: Actor) {
  const retried = await transitionJob(db, {
    jobId: fence.jobId,
    from: processing,
    to: 'queued',
    event: 'retry_scheduled',
    set: db`, run_after = now() + make_interval(secs => ${retryDelaySeconds}), lease_expires_at = NULL,
            dispatched_at = NULL, error_code = ${failure.code}, error_message = ${failure.message}`,
    where: db`${fenced(db, fence)} AND jobs.attempts < jobs.max_attempts`,
    actor,
    detail: { code: failure.code, message: failure.message, retryDelaySeconds },
  });
  if (retried) return retried;
  return transitionJob(db, {
    jobId: fence.jobId,
    from: processing,
    to: 'failed',
    event: 'failed',
    set: db`, error_code = ${failure.code}, error_message = ${failure.message}, lease_expires_at = NULL, finished_at = now()`,
    where: db`${fenced(db, fence)} AND jobs.attempts >= jobs.max_attempts`,
    actor,
    detail: { code: failure.code, message: failure.message },
  });
}

/**
 * A processing job whose lease expired (its activation died), found by the sweep, a handoff or a
 * heartbeat (src/jobs/handoff.ts): queue it again at once while attempts remain, else fail it.
 * Conditioned on the lease still being expired, so a heartbeat or a fresh claim that just happened
 * wins. `run_after` is left as it was (it was due when claimed), so the job keeps its place at the
 * head of the queue instead of waiting behind a backlog that arrived while it ran.
 */
export async function requeueExpiredLease(db: Db, jobId: string, actor: Actor) {
  const failure: JobFailure = { code: 'LEASE_EXPIRED', message: 'The activation processing the file stopped responding.' };
  const requeued = await transitionJob(db, {
    jobId,
    from: processing,
    to: 'queued',
    event: 'lease_expired',
    set: db`, lease_expires_at = NULL, dispatched_at = NULL,
            error_code = ${failure.code}, error_message = ${failure.message}`,
    where: db`AND jobs.lease_expires_at < now() AND jobs.attempts < jobs.max_attempts`,
    actor,
  });
  if (requeued) return requeued;
  return transitionJob(db, {
    jobId,
    from: processing,
    to: 'failed',
    event: 'failed',
    set: db`, error_code = ${failure.code}, error_message = ${failure.message}, lease_expires_at = NULL, finished_at = now()`,
    where: db`AND jobs.lease_expires_at < now() AND jobs.attempts >= jobs.max_attempts`,
    actor,
    detail: { code: failure.code },
  });
}
