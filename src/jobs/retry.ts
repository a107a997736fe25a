// presign/retry: the holder of a failed job asks for it to be processed again (a fixed bug
// deployed since, a dependency back up). Only `failed` qualifies: its bytes are still stored and
// the attempts ran out for a reason a new attempt may not meet. Every other status is answered
// 409 JOB_NOT_RETRYABLE, saying why: a job that is waiting or running needs no retry, a succeeded
// one has its result, and rejected, cancelled and expired jobs have no bytes left to process.
import { findJobWithToken } from '../auth/job-tokens.js';
import { maxAttemptsDefault } from '../config.js';
import type { JobRow, JobStatus } from '../db/jobs.js';
import { retryFailedJob } from '../db/operator.js';
import { ApiError } from '../errors.js';
import { dispatchJob } from './dispatch.js';
import type { JobRequest } from './schemas.js';
import { actorOf, type UploadServices } from './services.js';
import { reloadJob, viewJob } from './status.js';
import type { JobView } from './view.js';

export type RetryServices = Pick<UploadServices, 'db' | 'activation' | 'maxConcurrentJobs'>;

const notRetryable: Record<Exclude<JobStatus, 'failed'>, string> = {
  awaiting_upload: 'The file has not been uploaded yet; there is nothing to retry.',
  queued: 'The job is already waiting to be processed; it needs no retry.',
  processing: 'The job is being processed right now; it needs no retry.',
  succeeded: 'The job succeeded; there is nothing to retry.',
  rejected: 'Rejected jobs cannot be retried: the file was not what it claimed to be and has been deleted. Upload a corrected file.',
  cancelled: 'Cancelled jobs cannot be retried: the upload was cancelled and nothing was kept. Upload the file again.',
  expired: 'Expired jobs cannot be retried: the file never arrived. Upload it again.',
};

function notRetryableError(status: Exclude<JobStatus, 'failed'>): ApiError {
  return new ApiError('JOB_NOT_RETRYABLE', notRetryable[status], { details: { status } });
}

export async function retryJob(services: RetryServices, request: JobRequest): Promise<JobView> {
  const job: JobRow = await findJobWithToken(services.db, request.jobId, request.token);
  if (job.status !== 'failed') throw notRetryableError(job.status);
  // The same transition as the operator's `sluice jobs retry`; the last error stays as the queued
  // job's "reason of the pending retry", so the card can still say what went wrong before.
  const retried = await retryFailedJob(services.db, job.id, maxAttemptsDefault, actorOf(services), { by: 'presign/retry' });
  if (retried === undefined) {
    // Another retry (a double click, a resent request) got there first: the job is queued or
    // further on now (the row lock makes the second one wait and then match nothing), and this
    // call says so rather than pretend it was the one.
    const now = await reloadJob(services.db, job.id);
    if (now.status === 'failed') throw new Error(`retry of job ${job.id} matched nothing although it is failed`);
    throw notRetryableError(now.status);
  }
  // A failed invoke leaves the job queued for the next dispatch (handoff or sweep), like `complete`.
  await dispatchJob(retried.id, {
    db: services.db,
    context: services.activation,
    actor: actorOf(services),
    maxConcurrentJobs: services.maxConcurrentJobs,
  });
  return viewJob(services.db, await reloadJob(services.db, job.id));
}
