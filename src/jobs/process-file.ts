// process/file: one attempt at one job (docs/architecture.md "Job state machine" and "Processing", binding).
//
//   claim ─▶ heartbeat the lease ─▶ stream the object once through the analyzers ─▶ one fenced write
//
// - Claim: one conditional UPDATE (claimJob) that increments `attempts`; matching nothing means the
//   job is not ours to run (another activation has it, it is not due, or it is finished): return
//   at once without touching it. That is what makes duplicate invocations harmless.
// - Lease: renewed every `heartbeatSeconds`. A heartbeat that matches nothing means a newer attempt
//   owns the job (our lease lapsed and the sweep or another claim took it): abort the read and write
//   nothing. Unable to renew for a whole lease (database unreachable): abort too, since someone else
//   may be running the job by now.
// - Deadline: the runtime SIGKILLs the activation at its timeout (docs/platform-facts.md "Functions limits"),
//   so the work is aborted a margin before `__OW_DEADLINE` and the job released for a retry.
// - Finish: exactly one fenced write (attempts = ours, status = processing; tried again while the
//   database is unavailable, up to a lease): succeeded with the result, rejected (object deleted
//   only once the rejection is recorded), or back to queued with backoff (failed once attempts are
//   spent). A zombie's write matches nothing and changes nothing.
// - Hand on: once the attempt is recorded, whatever its outcome, the activation starts the next due
//   jobs within the cap, and its heartbeats do the same meanwhile (src/jobs/handoff.ts): a backlog
//   drains at full concurrency without a long-running process.
import { S3ServiceException } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { runAnalyzers, type AnalysisReport } from '../analyzers/run.js';
import type { Analyzer, FileInfo } from '../analyzers/types.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { finalWriteRetryDelaysMs, maxAttemptsDefault, type ActivationContext, type ProcessingConfig } from '../config.js';
import { isDatabaseUnavailable, type Actor, type Db, type Sql } from '../db/client.js';
import { findJob, type JobRow, type JobStatus } from '../db/jobs.js';
import { describeError, log } from '../log.js';
import { deleteObject, readObject, StorageError, type Storage } from '../storage/spaces.js';
import { retryDelaySeconds } from './backoff.js';
import { handOff, heartbeatRounds, type HandoffReport } from './handoff.js';
import { actorOf } from './services.js';
import { stopTimeMs } from './deadline.js';
import { isContentTypeAllowed } from './content-types.js';
import { claimJob, failAttempt, heartbeat, rejectClaimedJob, succeedJob, type Fence, type JobFailure } from './transitions.js';

export interface ProcessServices {
  /** The client itself, not a transaction: handing the slot on runs transactions of its own. */
  db: Sql;
  storage: Storage;
  config: ProcessingConfig;
  activation: ActivationContext;
  /** Defaults to every analyzer of src/analyzers/index.ts. */
  analyzers?: readonly Analyzer[];
}

export type AttemptOutcome =
  | 'succeeded'
  | 'rejected'
  | 'retry_scheduled'
  | 'failed'
  /** A newer attempt owns the job: nothing was written. */
  | 'fence_lost'
  /** The final write itself failed (database unreachable): the lease lapses and the sweep takes the job back. */
  | 'unrecorded';

export type ProcessResult =
  | { jobId: string; claimed: false; reason: 'not_claimable' | 'too_close_to_deadline' }
  | {
      jobId: string;
      claimed: true;
      attempt: number;
      outcome: AttemptOutcome;
      /** Why the attempt did not succeed (rejection reason, or the error that failed it). */
      failure?: JobFailure;
      retryDelaySeconds?: number;
      bytes?: number;
      durationMs: number;
      /** What the activation did with its slot once the attempt was recorded (src/jobs/handoff.ts). */
      handoff: HandoffReport;
    };

/** Job error messages are shown to the uploader and stored in the row: short, no stack traces. */
const maxFailureMessageChars = 500;

// ---- Why an attempt stopped early (reasons given to AbortController.abort) --------------------

class FenceLostError extends Error {
  override name = 'FenceLostError';
}

class StopError extends Error {
  override name = 'StopError';
  constructor(readonly failure: JobFailure) {
    super(failure.message);
  }
}

type Verdict =
  | { kind: 'succeeded'; report: AnalysisReport }
  /** No report when the bytes were never read: the object changed since `complete` checked it. */
  | { kind: 'rejected'; failure: JobFailure; report?: AnalysisReport }
  | { kind: 'error'; failure: JobFailure }
  | { kind: 'fence_lost' };

export async function processFile(services: ProcessServices, jobId: string): Promise<ProcessResult> {
  const { db, config, activation } = services;
  const startedAt = Date.now();
  const stopAt = stopTimeMs(activation.deadlineMs, startedAt);
  // Claiming now would only spend an attempt on work that must stop at once.
  if (stopAt <= startedAt) return { jobId, claimed: false, reason: 'too_close_to_deadline' };

  const actor = actorOf(services);
  const job = await claimJob(db, jobId, { leaseSeconds: config.leaseSeconds, actor });
  if (job === undefined) return { jobId, claimed: false, reason: 'not_claimable' };

  // Be VERY careful from here on: the job is ours and we MUST leave it in a state someone can pick
  // up. Nothing between the claim and `finish` may throw past this function: every failure becomes
  // a Verdict, and `finish` records it with one fenced write. If even that write fails, the lease
  // lapses within leaseSeconds and the sweep returns the job to the queue.
  const { fence } = job;
  const controller = new AbortController();
  const handoffOptions = { actor, stopAt, deadlineMs: activation.deadlineMs };
  const rounds = heartbeatRounds(services, handoffOptions);
  const lease = keepLease(db, fence, config, controller, rounds.afterRenewal);
  const deadline =
    stopAt === Number.POSITIVE_INFINITY
      ? undefined
      : setTimeout(
          () =>
            controller.abort(
              new StopError({
                code: 'DEADLINE_REACHED',
                message: `Stopped before the function's time limit (deadline ${new Date(activation.deadlineMs ?? 0).toISOString()}); the file needs longer than one activation allows.`,
              }),
            ),
          stopAt - Date.now(),
        );
  let verdict: Verdict;
  try {
    verdict = await examine(services, job, controller.signal);
  } catch (error) {
    verdict = verdictOfError(controller.signal.aborted ? controller.signal.reason : error);
  } finally {
    clearTimeout(deadline);
    await lease.stop();
    await rounds.stop();
  }
  // A heartbeat may have found the fence lost after the work finished: a newer attempt owns the job.
  if (controller.signal.reason instanceof FenceLostError) verdict = { kind: 'fence_lost' };

  const result = await finish(services, job, fence, verdict, actor, stopAt);
  const durationMs = Date.now() - startedAt;
  const bytes = verdict.kind === 'succeeded' || verdict.kind === 'rejected' ? verdict.report?.bytes : undefined;
  log.info('process/file attempt', {
    jobId,
    attempt: fence.attempt,
    outcome: result.outcome,
    durationMs,
    ...(bytes === undefined ? {} : { bytes }),
    ...(verdict.kind === 'succeeded' ? { timingsMs: verdict.report.timingsMs } : {}),
    ...(result.failure ? { failure: result.failure } : {}),
  });
  // The attempt is recorded (or could not be): hand the slot on. handOff never throws and cannot
  // change what was recorded; the activation only returns later, never the result.
  const handoff = await handOff(services, handoffOptions);
  return {
    jobId,
    claimed: true,
    attempt: fence.attempt,
    outcome: result.outcome,
    durationMs,
    ...(bytes === undefined ? {} : { bytes }),
    ...(result.failure ? { failure: result.failure } : {}),
    ...(result.retryDelaySeconds === undefined ? {} : { retryDelaySeconds: result.retryDelaySeconds }),
    handoff,
  };
}

/**
 * Streams the object once through the analyzers and judges the file. Throws on any failure.
 *
 * The read is pinned to the ETag `complete` recorded (If-Match, resumed ranges included), so the
 * result describes the bytes that were checked, and a read that stalls or is cut resumes where it
 * stopped instead of starting over: the analyzers see one stream (readObject).
 */
async function examine(services: ProcessServices, job: JobRow, signal: AbortSignal): Promise<Verdict> {
  const file: FileInfo = { contentType: job.contentType, filename: job.filename, size: job.size };
  const stream = readObject(services.storage, job.objectKey, { size: job.size, signal, ...(job.objectEtag === null ? {} : { etag: job.objectEtag }) });
  // runAnalyzers ends the stream (and with it the connection) if it stops reading early.
  const report = await runAnalyzers(stream, file, { signal, ...(services.analyzers ? { analyzers: services.analyzers } : {}) });
  if (report.crashed.length > 0) {
    // A crash is a bug or a resource failure, not a property of the file (a malformed file is a
    // summary): retry, and fail with the crash as the reason once attempts are spent.
    const messages = report.crashed.map((name) => `${name}: ${crashMessage(report.results[name])}`);
    throw new StopError({ code: 'ANALYZER_CRASHED', message: `Analyzer crashed (${messages.join('; ')})` });
  }
  if (report.bytes !== job.size) {
    // complete verified the size with HEAD, so a different count is a read cut short: retry.
    throw new StopError({ code: 'INCOMPLETE_READ', message: `Read ${report.bytes} bytes of ${job.size}.` });
  }
  const sniffed = report.sniffed.mime;
  if (sniffed !== null && !isContentTypeAllowed(sniffed, services.config.allowedContentTypes)) {
    return {
      kind: 'rejected',
      report,
      failure: {
        code: 'CONTENT_TYPE_NOT_ALLOWED',
        message: `The file's bytes are ${sniffed}, which is not an accepted type (declared ${job.contentType}).`,
        facts: { detectedType: sniffed, declaredType: job.contentType },
      },
    };
  }
  if (job.sha256 !== null) {
    const actual = sha256Of(report);
    if (actual === undefined) throw new StopError({ code: 'PROCESSING_ERROR', message: 'No SHA-256 was computed (the file analyzer did not run).' });
    if (actual !== job.sha256) {
      return { kind: 'rejected', report, failure: { code: 'SHA256_MISMATCH', message: `The file's SHA-256 is ${actual}; ${job.sha256} was declared.` } };
    }
  }
  return { kind: 'succeeded', report };
}

function sha256Of(report: AnalysisReport): string | undefined {
  const summary = report.results.file;
  const sha256 = summary !== undefined && 'sha256' in summary ? summary.sha256 : undefined;
  return typeof sha256 === 'string' ? sha256 : undefined;
}

function crashMessage(entry: AnalysisReport['results'][string] | undefined): string {
  const error = entry !== undefined && 'error' in entry ? entry.error : undefined;
  return typeof error === 'object' && error !== null && !Array.isArray(error) && typeof error.message === 'string' ? error.message : 'unknown error';
}

function verdictOfError(error: unknown): Verdict {
  if (error instanceof FenceLostError) return { kind: 'fence_lost' };
  if (error instanceof StopError) return { kind: 'error', failure: error.failure };
  if (error instanceof StorageError && error.code === 'OBJECT_CHANGED') {
    // A second PUT through the still-valid presigned URL replaced the object after `complete`
    // checked it. Rejected, not retried: a new attempt would analyse bytes nobody checked (size and
    // type at `complete`), so the result could describe a file other than the one uploaded and
    // completed. The uploader makes a new job for the new file; the replaced object is deleted
    // with the rejection, like any rejected upload's.
    return {
      kind: 'rejected',
      failure: {
        code: 'OBJECT_CHANGED',
        message: truncate(`${error.message} It changed after it was uploaded and checked (a second upload to the same URL?), so it was not processed; upload it as a new file.`),
      },
    };
  }
  // The store stalled, cut the read or did not answer: retried with backoff like any transient failure.
  if (error instanceof StorageError) return { kind: 'error', failure: { code: error.code, message: truncate(error.message) } };
  if (error instanceof S3ServiceException) {
    const missing = error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404;
    return {
      kind: 'error',
      failure: {
        code: missing ? 'OBJECT_MISSING' : 'STORAGE_ERROR',
        message: truncate(missing ? 'The uploaded object is no longer in the bucket.' : `Reading the object failed: ${error.name}: ${error.message}`),
      },
    };
  }
  log.error('process/file: unexpected error', describeError(error));
  return { kind: 'error', failure: { code: 'PROCESSING_ERROR', message: truncate(error instanceof Error ? error.message : String(error)) } };
}

function truncate(message: string): string {
  return message.length <= maxFailureMessageChars ? message : `${message.slice(0, maxFailureMessageChars - 1)}…`;
}

interface Recorded {
  outcome: AttemptOutcome;
  failure?: JobFailure;
  retryDelaySeconds?: number;
}

/** The attempt's one write, fenced on (job, attempt, processing). Never throws. */
async function finish(services: ProcessServices, job: JobRow, fence: Fence, verdict: Verdict, actor: Actor, stopAt: number): Promise<Recorded> {
  const { db } = services;
  const bounds: FinalWriteBounds = { stopAt, leaseMs: services.config.leaseSeconds * 1000 };
  try {
    switch (verdict.kind) {
      case 'fence_lost':
        return { outcome: 'fence_lost' };
      case 'succeeded': {
        let done: Awaited<ReturnType<typeof succeedJob>>;
        try {
          done = await writeFinal(() => succeedJob(db, fence, verdict.report.results, actor), recordedEarlier(db, fence, actor, ['succeeded']), bounds);
        } catch (error) {
          const refusal = resultRefusal(error);
          if (refusal === undefined) throw error;
          // The same result would be refused again, so this is no outage to wait out: the
          // attempt fails now, with the reason, like an analyzer crash (a bug of ours).
          log.error('process/file: the database refused the result', { jobId: job.id, attempt: fence.attempt, ...describeError(error) });
          return await failAndRecord(services, job, fence, refusal, actor, bounds);
        }
        return { outcome: done ? 'succeeded' : 'fence_lost' };
      }
      case 'rejected': {
        const done = await writeFinal(() => rejectClaimedJob(db, fence, verdict.failure, actor), recordedEarlier(db, fence, actor, ['rejected']), bounds);
        if (!done) return { outcome: 'fence_lost', failure: verdict.failure };
        // Only after the rejection is recorded: a zombie must never delete the bytes a newer attempt reads.
        await deleteObject(services.storage, job.objectKey).catch((error: unknown) => {
          log.error('process/file: could not delete a rejected object', { jobId: job.id, objectKey: job.objectKey, ...describeError(error) });
        });
        return { outcome: 'rejected', failure: verdict.failure };
      }
      case 'error':
        return await failAndRecord(services, job, fence, verdict.failure, actor, bounds);
    }
  } catch (error) {
    log.error('process/file: could not record the attempt; the sweep will take the job back when its lease lapses', {
      jobId: job.id,
      attempt: fence.attempt,
      ...describeError(error),
    });
    return { outcome: 'unrecorded', ...(verdict.kind === 'error' || verdict.kind === 'rejected' ? { failure: verdict.failure } : {}) };
  }
}

/**
 * The attempt's number within its budget of attempts (1 for the first): a job retried by its
 * holder or an operator keeps counting `attempts` (every fence depends on it) with
 * maxAttemptsDefault more to go, and its backoff starts again from the shortest delay.
 */
export function attemptInBudget(attempt: number, maxAttempts: number): number {
  return Math.max(1, attempt - Math.max(0, maxAttempts - maxAttemptsDefault));
}

/** Back to queued with backoff while attempts remain, else failed; the reason is kept either way. */
async function failAndRecord(services: ProcessServices, job: JobRow, fence: Fence, failure: JobFailure, actor: Actor, bounds: FinalWriteBounds): Promise<Recorded> {
  const delay = retryDelaySeconds(attemptInBudget(fence.attempt, job.maxAttempts), { baseDelaySeconds: services.config.retryBaseDelaySeconds });
  const done = await writeFinal(() => failAttempt(services.db, fence, failure, delay, actor), recordedEarlier(services.db, fence, actor, ['queued', 'failed']), bounds);
  if (!done) return { outcome: 'fence_lost', failure };
  return done.status === 'queued' ? { outcome: 'retry_scheduled', failure, retryDelaySeconds: delay } : { outcome: 'failed', failure };
}

interface FinalWriteBounds {
  /** The attempt's stop time (epoch ms): no retry goes past it. */
  stopAt: number;
  leaseMs: number;
}

/**
 * The attempt's final write, tried again while the database is unavailable (a restart, a failover,
 * a pause), for as long as the lease would have kept the job this attempt's: a result that took
 * minutes to compute is not thrown away over a blip, and the activation lives on to hand its slot
 * on. Past that someone may have taken the job back, and the write, fenced, would change nothing.
 * A write that got no answer may still have committed; when a later try then matches nothing,
 * `earlier` reads the row to tell that from a lost fence. Anything else the database says is no
 * outage and is thrown at once.
 */
async function writeFinal<T>(write: () => Promise<T | undefined>, earlier: () => Promise<T | undefined>, bounds: FinalWriteBounds): Promise<T | undefined> {
  let retryUntil: number | undefined;
  for (let failures = 0; ; failures += 1) {
    try {
      const done = await write();
      return done !== undefined || failures === 0 ? done : await earlier();
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      retryUntil ??= Math.min(bounds.stopAt, Date.now() + bounds.leaseMs);
      const delayMs = finalWriteRetryDelaysMs[Math.min(failures, finalWriteRetryDelaysMs.length - 1)] ?? 1_000;
      if (Date.now() + delayMs >= retryUntil) throw error;
      log.warn('process/file: the database is unavailable; recording the attempt again shortly', { delayMs, ...describeError(error) });
      await sleep(delayMs);
    }
  }
}

/** The row as this attempt's own write left it (status, attempt and activation all its), or undefined. */
function recordedEarlier(db: Db, fence: Fence, actor: Actor, statuses: readonly JobStatus[]) {
  return async () => {
    const row = await findJob(db, fence.jobId);
    const ours = row !== undefined && row.attempts === fence.attempt && row.activationId === actor.activationId && statuses.includes(row.status);
    return ours ? { ...row, previousStatus: 'processing' as const } : undefined;
  };
}

/**
 * A final write the database refused for what the result holds, not for being unreachable:
 * SQLSTATE class 22 (data exception, e.g. 22P05 "unsupported Unicode escape sequence" for
 * U+0000 in jsonb) or 54 (program limit exceeded: too large, too deeply nested). The analyzers'
 * results are made storable (src/analyzers/result-budget.ts), so this is the backstop for a bug.
 */
function resultRefusal(error: unknown): JobFailure | undefined {
  if (!(error instanceof postgres.PostgresError)) return undefined;
  if (!error.code.startsWith('22') && !error.code.startsWith('54')) return undefined;
  return { code: 'RESULT_NOT_STORABLE', message: truncate(`The database refused the result (${error.code}): ${error.message}`) };
}

interface LeaseKeeper {
  /** Stops heartbeating and waits for a heartbeat in flight, so none lands after the final write. */
  stop(): Promise<void>;
}

/**
 * Renews the lease every heartbeatSeconds. The tick also watches the time since the last renewal
 * went through, so a heartbeat that hangs (not only one that fails) still stops the work once the
 * lease may have lapsed. After each renewal, `afterRenewal` lets the activation look after the rest
 * of the queue (src/jobs/handoff.ts heartbeatRounds).
 */
function keepLease(db: Db, fence: Fence, config: ProcessingConfig, controller: AbortController, afterRenewal: () => void): LeaseKeeper {
  const leaseMs = config.leaseSeconds * 1000;
  // The claim has just set the lease; a renewal counts from when it was sent (the database's now()).
  let renewedAt = Date.now();
  let inFlight: Promise<void> | undefined;
  const beat = async (): Promise<void> => {
    const sentAt = Date.now();
    try {
      if (await heartbeat(db, fence, config.leaseSeconds)) {
        renewedAt = sentAt;
        // Other jobs' business (lapsed leases, free slots), run beside this one and never throws.
        afterRenewal();
      } else controller.abort(new FenceLostError(`job ${fence.jobId} attempt ${fence.attempt} is no longer ours`));
    } catch (error) {
      log.warn('process/file: heartbeat failed', { jobId: fence.jobId, attempt: fence.attempt, ...describeError(error) });
    }
  };
  const timer = setInterval(() => {
    if (controller.signal.aborted) return;
    if (Date.now() - renewedAt >= leaseMs) {
      controller.abort(
        new StopError({ code: 'LEASE_LOST', message: `The lease could not be renewed for ${config.leaseSeconds} s (database unreachable?).` }),
      );
      return;
    }
    inFlight ??= beat().finally(() => {
      inFlight = undefined;
    });
  }, config.heartbeatSeconds * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
