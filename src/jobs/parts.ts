// presign/parts: part URLs signed just in time, only for the numbers asked (each signing the part's
// exact length), plus the parts already in the store so a client can resume after a reload.
import { partUrlExpirySeconds } from '../config.js';
import { findJobWithToken } from '../auth/job-tokens.js';
import type { JobRow } from '../db/jobs.js';
import { ApiError } from '../errors.js';
import { listUploadedParts, presignUploadPart, type UploadedPart } from '../storage/spaces.js';
import type { PartsRequest } from './schemas.js';
import type { UploadServices } from './services.js';
import { partLength } from './upload-plan.js';

export interface PartsAnswer {
  parts: { partNumber: number; url: string }[];
  uploaded: UploadedPart[];
  /** When the URLs in `parts` stop working. */
  expiresAt: string;
  /** The plan again, so a client can resume knowing only jobId and token. */
  partSize: number;
  partCount: number;
}

type MultipartJob = JobRow & { uploadId: string; partSize: number; partCount: number };

export function requireOpenMultipart(job: JobRow): MultipartJob {
  if (job.status !== 'awaiting_upload') {
    throw new ApiError('INVALID_STATE', `The job is ${job.status}; its upload is closed.`, { details: { status: job.status } });
  }
  if (job.uploadId === null || job.partSize === null || job.partCount === null) {
    throw new ApiError('INVALID_STATE', 'This job is a single PUT upload; it has no parts.');
  }
  return { ...job, uploadId: job.uploadId, partSize: job.partSize, partCount: job.partCount };
}

export async function signParts(services: UploadServices, request: PartsRequest): Promise<PartsAnswer> {
  const job = requireOpenMultipart(await findJobWithToken(services.db, request.jobId, request.token));
  if (job.expiresAt.getTime() <= Date.now()) {
    throw new ApiError('INVALID_STATE', 'The upload window has closed.', { details: { expiresAt: job.expiresAt.toISOString() } });
  }
  const beyond = request.partNumbers.filter((number) => number > job.partCount);
  if (beyond.length > 0) {
    throw new ApiError('VALIDATION_FAILED', `Invalid request: this upload has ${job.partCount} parts (asked for ${beyond[0]}).`, {
      details: { partCount: job.partCount },
    });
  }
  const uploaded = await listUploadedParts(services.storage, job.objectKey, job.uploadId);
  if (uploaded === undefined) {
    throw new ApiError('UPLOAD_NOT_FOUND', 'The multipart upload no longer exists in the store; create a new job.');
  }
  const expiresAt = new Date(Date.now() + partUrlExpirySeconds * 1000).toISOString();
  const parts = await Promise.all(
    request.partNumbers.map(async (partNumber) => ({
      partNumber,
      url: await presignUploadPart(services.storage, {
        key: job.objectKey,
        uploadId: job.uploadId,
        partNumber,
        contentLength: partLength(job.size, job.partSize, partNumber),
        expiresInSeconds: partUrlExpirySeconds,
      }),
    })),
  );
  return { parts, uploaded, expiresAt, partSize: job.partSize, partCount: job.partCount };
}
