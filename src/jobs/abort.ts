// presign/abort: the job is cancelled first (so nothing can queue it any more), then the bytes are
// removed: the multipart upload aborted, and any object deleted (a single PUT may have landed).
// Storage cleanup failures are logged, not answered: the job is cancelled either way, and the
// bucket's lifecycle rules remove stray incomplete uploads.
import { findJobWithToken } from '../auth/job-tokens.js';
import type { JobRow } from '../db/jobs.js';
import { ApiError } from '../errors.js';
import { describeError, log } from '../log.js';
import { removeUpload } from '../storage/spaces.js';
import { cancelJob } from './transitions.js';
import type { JobRequest } from './schemas.js';
import { actorOf, type UploadServices } from './services.js';
import { reloadJob, viewJob } from './status.js';
import type { JobView } from './view.js';

export async function abortUpload(services: UploadServices, request: JobRequest): Promise<JobView> {
  let job: JobRow = await findJobWithToken(services.db, request.jobId, request.token);
  if (job.status === 'awaiting_upload') {
    job = (await cancelJob(services.db, job.id, actorOf(services))) ?? (await reloadJob(services.db, job.id));
    if (job.status === 'cancelled') await removeBytes(services, job);
  }
  if (job.status !== 'cancelled') {
    throw new ApiError('INVALID_STATE', `The job is ${job.status}; only an upload in progress can be aborted.`, {
      details: { status: job.status },
    });
  }
  return viewJob(services.db, job);
}

async function removeBytes(services: UploadServices, job: JobRow): Promise<void> {
  try {
    await removeUpload(services.storage, job.objectKey, job.uploadId);
  } catch (error) {
    log.error('abort: could not remove the upload from the store', { jobId: job.id, ...describeError(error) });
  }
}
