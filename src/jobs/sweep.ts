// process/sweep: the reconciler that makes a lost `complete`, a lost invoke or a dead activation
// harmless (docs/architecture.md "Data flow": Spaces has no bucket notifications, so the sweep is the safety net).
// It runs every minute (project.yml trigger) and when API activity finds the last one older than a
// minute (./sweep-trigger.ts). One at a time: it holds the `sweeps` row lease while it works.
//
// Bounded work per run, in this order (each phase on its own, so one failing — the bucket
// unreachable, say — does not stop the others):
//   1. leases:   processing jobs whose lease lapsed → queued again (or failed, attempts spent)
//   2. uploads:  awaiting_upload jobs old enough that their upload URLs have expired (younger ones
//                are their client's: bytes may still be arriving), least recently checked first:
//                bytes in the bucket → completed exactly as `complete` would (checks, queue, dispatch);
//                multipart with every part uploaded → completed, then the same;
//                otherwise left waiting until `expires_at`, then expired and their bytes removed
//                (multipart aborted, any object deleted); the store not answering ends the phase
//   3. dispatch: due queued jobs not dispatched recently, within MAX_CONCURRENT_JOBS — the safety
//                net: process/file activations hand their slots on as they end (./handoff.ts)
//   4. quotas:   rate-limit windows no longer read
import { randomUUID } from 'node:crypto';
import {
  partUrlExpirySeconds,
  redispatchAfterSeconds,
  singlePutUrlExpirySeconds,
  sweepBatchSize,
  sweepLeaseSeconds,
  type ActivationContext,
  type ProcessingConfig,
} from '../config.js';
import type { Actor, Sql } from '../db/client.js';
import type { JobRow } from '../db/jobs.js';
import { deleteOldQuotaWindows } from '../db/rate-limits.js';
import { countDispatchable } from '../db/dispatch.js';
import { takeUploadCandidates } from '../db/sweep-candidates.js';
import { acquireSweepLease, releaseSweepLease } from '../db/sweeps.js';
import { ApiError } from '../errors.js';
import { describeError, log } from '../log.js';
import { isStorageUnavailable, removeUpload, type Storage } from '../storage/spaces.js';
import { finishUpload } from './complete.js';
import { stopTimeMs } from './deadline.js';
import { dispatchDueJobs } from './dispatch.js';
import { requeueExpiredLeases } from './handoff.js';
import { actorOf } from './services.js';
import { expireJob } from './transitions.js';

export interface SweepServices {
  db: Sql;
  storage: Storage;
  config: ProcessingConfig;
  activation: ActivationContext;
}

export interface SweepCounts {
  leasesRequeued: number;
  leasesFailed: number;
  uploadsQueued: number;
  uploadsRejected: number;
  uploadsWaiting: number;
  uploadsExpired: number;
  dispatched: number;
  /** Invokes refused (429) or failed: those jobs stay queued for the next sweep. */
  dispatchFailed: number;
  /** Dispatches the Functions API refused for their credential (401/403): every job waits until the key is fixed. */
  dispatchUnauthorized: number;
  /** Due jobs left queued because MAX_CONCURRENT_JOBS were busy. */
  dispatchCapped: number;
  quotaWindowsDeleted: number;
  /** Phases or items that failed unexpectedly (logged); the next sweep tries again. */
  errors: number;
}

export type SweepResult = ({ skipped: false } & SweepCounts & { durationMs: number }) | { skipped: true; reason: 'another sweep holds the lease' };

function emptyCounts(): SweepCounts {
  return {
    leasesRequeued: 0,
    leasesFailed: 0,
    uploadsQueued: 0,
    uploadsRejected: 0,
    uploadsWaiting: 0,
    uploadsExpired: 0,
    dispatched: 0,
    dispatchFailed: 0,
    dispatchUnauthorized: 0,
    dispatchCapped: 0,
    quotaWindowsDeleted: 0,
    errors: 0,
  };
}

/** Upload checks that mean "not there yet": leave the job waiting (or expire it past its window). */
const notUploadedCodes = new Set(['UPLOAD_NOT_FOUND', 'UPLOAD_INCOMPLETE']);
/** complete's verification refused the bytes: the job is rejected and the object deleted. */
const refusedCodes = new Set(['SIZE_MISMATCH', 'CONTENT_TYPE_MISMATCH']);

export async function runSweep(services: SweepServices): Promise<SweepResult> {
  const { db, activation } = services;
  const startedAt = Date.now();
  const holder = activation.activationId ?? `sweep-${randomUUID()}`;
  if (!(await acquireSweepLease(db, holder, sweepLeaseSeconds))) return { skipped: true, reason: 'another sweep holds the lease' };

  const counts = emptyCounts();
  const actor = actorOf(services);
  // Stop taking new items a margin before the runtime's deadline, so the lease is released and
  // the counts recorded instead of the activation being killed mid-item.
  const stopAt = stopTimeMs(activation.deadlineMs, startedAt);
  const timeLeft = () => Date.now() < stopAt;

  const phase = async (name: string, work: () => Promise<void>): Promise<void> => {
    if (!timeLeft()) return;
    try {
      await work();
    } catch (error) {
      counts.errors += 1;
      log.error(`sweep: ${name} phase failed`, describeError(error));
    }
  };

  try {
    await phase('leases', async () => {
      const leases = await requeueExpiredLeases(db, actor, sweepBatchSize, timeLeft);
      counts.leasesRequeued += leases.requeued;
      counts.leasesFailed += leases.failed;
    });

    await phase('uploads', async () => {
      const urlExpiry = { singlePutSeconds: singlePutUrlExpirySeconds, partSeconds: partUrlExpirySeconds };
      for (const job of await takeUploadCandidates(db, sweepBatchSize, urlExpiry)) {
        if (!timeLeft()) break;
        await checkUpload(services, job, actor, counts);
      }
    });

    await phase('dispatch', async () => {
      // The same pick as every handoff (src/db/dispatch.ts): within the cap, never a job another
      // dispatcher has just reserved. A refused or failed invoke stops the phase: the rest would fare the same.
      const round = await dispatchDueJobs({ db, context: activation, actor, maxConcurrentJobs: services.config.maxConcurrentJobs, limit: sweepBatchSize, stopAt });
      counts.dispatched += round.dispatched;
      if (round.stoppedBy === 'unauthorized') counts.dispatchUnauthorized += 1;
      else if (round.stoppedBy !== undefined) counts.dispatchFailed += 1;
      if (round.capped) counts.dispatchCapped += await countDispatchable(db, redispatchAfterSeconds);
    });

    await phase('quotas', async () => {
      counts.quotaWindowsDeleted += await deleteOldQuotaWindows(db);
    });
  } finally {
    const record = { ...counts, durationMs: Date.now() - startedAt };
    await releaseSweepLease(db, holder, record).catch((error: unknown) => {
      // The lease then lapses on its own after sweepLeaseSeconds.
      log.error('sweep: could not release the lease', describeError(error));
    });
  }
  const result = { skipped: false as const, ...counts, durationMs: Date.now() - startedAt };
  if (counts.dispatchUnauthorized > 0) {
    log.error('sweep: NO JOB CAN START: the Functions API refuses the dispatch credential (FUNCTIONS_ACCESS_KEY, else __OW_API_KEY); create a key with npm run deploy or doctl serverless key create and redeploy', result);
  } else {
    log.info('sweep', result);
  }
  return result;
}

async function checkUpload(services: SweepServices, job: JobRow, actor: Actor, counts: SweepCounts): Promise<void> {
  try {
    await finishUpload({ db: services.db, storage: services.storage, activation: services.activation, maxConcurrentJobs: services.config.maxConcurrentJobs }, job);
    counts.uploadsQueued += 1;
    return;
  } catch (error) {
    // The store not answering: every other upload of the batch would cost a storage call's whole
    // time budget too, and the dispatch phase would wait behind them. The phase ends (one error
    // counted); the next sweep looks again.
    if (isStorageUnavailable(error)) throw error;
    if (error instanceof ApiError && refusedCodes.has(error.code)) {
      counts.uploadsRejected += 1;
      return;
    }
    if (!(error instanceof ApiError && notUploadedCodes.has(error.code))) {
      counts.errors += 1;
      log.error('sweep: checking an upload failed', { jobId: job.id, ...describeError(error) });
      return;
    }
  }
  if (job.expiresAt.getTime() > Date.now()) {
    counts.uploadsWaiting += 1;
    return;
  }
  // Past its window with no complete upload. The transition comes first (it re-checks the state
  // under the row lock, so a concurrent `complete` wins or loses cleanly); the bytes go after.
  const expired = await expireJob(services.db, job.id, actor);
  if (expired === undefined) return;
  counts.uploadsExpired += 1;
  try {
    await removeUpload(services.storage, job.objectKey, job.uploadId);
  } catch (error) {
    // The job is expired either way; the bucket's lifecycle rule removes stray incomplete uploads.
    counts.errors += 1;
    log.error('sweep: could not remove an expired upload from the bucket', { jobId: job.id, ...describeError(error) });
  }
}
