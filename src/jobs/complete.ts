// presign/complete: the client says the bytes are in. For multipart, complete the upload; then HEAD
// the object and compare with what was declared. Missing → 409 UPLOAD_NOT_FOUND (the job keeps
// waiting; the client may still upload). Different size or type → job rejected, object deleted,
// 422. Otherwise queued, and process/file is invoked asynchronously (a failed invoke leaves the
// job queued for the sweep).
//
// Idempotent: a repeated call (or two at once) returns the same job. Concurrent calls race on the
// awaiting_upload → queued transition; the loser reloads the job and answers with it, and only
// the winner dispatches.
import { findJobWithToken } from '../auth/job-tokens.js';
import type { JobRow } from '../db/jobs.js';
import { ApiError, errorStatuses, type ErrorCode } from '../errors.js';
import { describeError, log } from '../log.js';
import { completeMultipartUpload, deleteObject, headObject, listUploadedParts } from '../storage/spaces.js';
import { sameMediaType } from './content-types.js';
import { dispatchJob } from './dispatch.js';
import { requireOpenMultipart } from './parts.js';
import type { CompleteRequest } from './schemas.js';
import { actorOf, type UploadServices } from './services.js';
import { reloadJob, viewJob } from './status.js';
import { markUploaded, rejectUpload, type JobFailure } from './transitions.js';
import type { JobView } from './view.js';

/** How many missing part numbers an UPLOAD_INCOMPLETE answer lists. */
const maxListedMissingParts = 20;

/** What completing needs: no upload config, so process/sweep (which has none) can complete too. */
export type CompletionServices = Pick<UploadServices, 'db' | 'storage' | 'activation' | 'maxConcurrentJobs'>;

export async function completeUpload(services: UploadServices, request: CompleteRequest): Promise<JobView> {
  const job = await findJobWithToken(services.db, request.jobId, request.token);
  return finishUpload(services, job, request.parts);
}

/**
 * complete, once the caller is known to hold the job. process/sweep calls it (without parts) for
 * uploads whose client vanished before `complete`: the same checks, events and dispatch apply.
 */
export async function finishUpload(services: CompletionServices, job: JobRow, givenParts?: CompleteRequest['parts']): Promise<JobView> {
  if (job.status !== 'awaiting_upload') return answerSettled(services, job, true);

  if (job.uploadKind === 'multipart') await finishMultipart(services, job, givenParts);
  else if (givenParts !== undefined) throw new ApiError('VALIDATION_FAILED', 'Invalid request: parts only apply to multipart uploads.');

  const head = await headObject(services.storage, job.objectKey);
  if (head === undefined) {
    throw new ApiError('UPLOAD_NOT_FOUND', 'The file has not been uploaded yet; upload it, then call complete again.');
  }
  if (head.size !== job.size) {
    return reject(services, job, {
      code: 'SIZE_MISMATCH',
      message: `The uploaded file has ${head.size} bytes; ${job.size} were declared.`,
      facts: { storedBytes: head.size, declaredBytes: job.size },
    });
  }
  if (head.contentType !== undefined && !sameMediaType(head.contentType, job.contentType)) {
    return reject(services, job, {
      code: 'CONTENT_TYPE_MISMATCH',
      message: `The uploaded file is stored as ${head.contentType}; ${job.contentType} was declared.`,
      facts: { storedType: head.contentType, declaredType: job.contentType },
    });
  }

  const queued = await markUploaded(services.db, job.id, actorOf(services), { size: head.size, ...(head.etag ? { etag: head.etag } : {}) });
  if (queued === undefined) return answerSettled(services, await reloadJob(services.db, job.id), false);
  await dispatchJob(queued.id, dispatchOptions(services));
  return viewJob(services.db, await reloadJob(services.db, job.id));
}

function dispatchOptions(services: CompletionServices) {
  return { db: services.db, context: services.activation, actor: actorOf(services), maxConcurrentJobs: services.maxConcurrentJobs };
}

/**
 * The answer for a job that is past awaiting_upload: the job itself, except for final states that
 * are not a processing outcome. A queued job whose dispatch never went out is dispatched again
 * (cheap, and the claim makes duplicates harmless) when `redispatch` is set.
 */
async function answerSettled(services: CompletionServices, job: JobRow, redispatch: boolean): Promise<JobView> {
  switch (job.status) {
    case 'queued':
      if (redispatch && job.dispatchedAt === null) await dispatchJob(job.id, dispatchOptions(services));
      return viewJob(services.db, await reloadJob(services.db, job.id));
    case 'processing':
    case 'succeeded':
    case 'failed':
      return viewJob(services.db, job);
    case 'rejected':
      throw rejectionError(job);
    case 'awaiting_upload':
    case 'cancelled':
    case 'expired':
      throw new ApiError('INVALID_STATE', `The job is ${job.status}.`, { details: { status: job.status } });
  }
}

/** A rejected job answers its rejection again, so a retried complete sees the same outcome. */
function rejectionError(job: JobRow): ApiError {
  const code = job.errorCode !== null && Object.hasOwn(errorStatuses, job.errorCode) ? (job.errorCode as ErrorCode) : 'INVALID_STATE';
  return new ApiError(code, job.errorMessage ?? 'The job was rejected.', { details: { status: job.status } });
}

async function reject(services: CompletionServices, job: JobRow, failure: JobFailure & { code: ErrorCode }): Promise<JobView> {
  const rejected = await rejectUpload(services.db, job.id, failure, actorOf(services));
  if (rejected === undefined) return answerSettled(services, await reloadJob(services.db, job.id), false);
  try {
    await deleteObject(services.storage, job.objectKey);
  } catch (error) {
    log.error('reject: could not delete the object', { jobId: job.id, ...describeError(error) });
  }
  throw new ApiError(failure.code, failure.message, { details: { status: 'rejected' } });
}

async function finishMultipart(
  services: CompletionServices,
  row: JobRow,
  given: CompleteRequest['parts'],
): Promise<void> {
  const job = requireOpenMultipart(row);
  let parts = given;
  if (parts !== undefined) {
    const numbers = parts.map((part) => part.partNumber).sort((a, b) => a - b);
    if (numbers.length !== job.partCount || numbers.some((number, index) => number !== index + 1)) {
      throw new ApiError('VALIDATION_FAILED', `Invalid request: parts must list each of the ${job.partCount} parts once.`, {
        details: { partCount: job.partCount },
      });
    }
  } else {
    const uploaded = await listUploadedParts(services.storage, job.objectKey, job.uploadId);
    // Gone: completed by an earlier call (whose answer was lost) or aborted; HEAD decides.
    if (uploaded === undefined) return;
    const present = new Set(uploaded.map((part) => part.partNumber));
    const missing: number[] = [];
    for (let number = 1; number <= job.partCount && missing.length < maxListedMissingParts; number += 1) {
      if (!present.has(number)) missing.push(number);
    }
    if (missing.length > 0) {
      if (uploaded.length === 0) throw new ApiError('UPLOAD_NOT_FOUND', 'No part has been uploaded yet.');
      throw new ApiError('UPLOAD_INCOMPLETE', `Parts are missing (first: ${missing[0]}); upload them, then call complete again.`, {
        details: { missingParts: missing, partCount: job.partCount },
      });
    }
    parts = uploaded.filter((part) => part.partNumber <= job.partCount);
  }
  const outcome = await completeMultipartUpload(services.storage, job.objectKey, job.uploadId, parts);
  if (outcome.kind === 'invalid_parts') {
    throw new ApiError('UPLOAD_INCOMPLETE', `The store refused the parts (${outcome.reason}); check the ETags and part sizes.`, {
      details: { reason: outcome.reason },
    });
  }
}
