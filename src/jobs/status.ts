// presign/status (the job view, and for the token's holder a link to the stored file), and the
// job view every other call answers with.
import { findJobWithToken } from '../auth/job-tokens.js';
import { downloadUrlExpirySeconds, downloadUrlReuseSeconds } from '../config.js';
import type { Db } from '../db/client.js';
import { findJob, listJobEvents, type JobRow, type JobStatus } from '../db/jobs.js';
import { presignGet, type Storage } from '../storage/spaces.js';
import type { JobRequest } from './schemas.js';
import type { UploadServices } from './services.js';
import { toJobView, type JobView } from './view.js';

export async function viewJob(db: Db, job: JobRow): Promise<JobView> {
  return toJobView(job, await listJobEvents(db, job.id));
}

/** The job as it is now (after a transition that matched nothing, someone else's change is the truth). */
export async function reloadJob(db: Db, jobId: string): Promise<JobRow> {
  const job = await findJob(db, jobId);
  if (job === undefined) throw new Error(`job ${jobId} vanished`);
  return job;
}

/**
 * The statuses in which the bytes are in the bucket: verified by `complete` and kept after
 * processing, failures included. A rejected job's object is deleted; cancelled and expired jobs
 * never had a complete one; while awaiting_upload the bytes are unverified.
 */
const storedStatuses: ReadonlySet<JobStatus> = new Set(['queued', 'processing', 'succeeded', 'failed']);

export type StatusServices = Pick<UploadServices, 'db' | 'storage'>;

/** The job for its token's holder, with a link to its stored file. */
export async function jobStatus(services: StatusServices, request: JobRequest): Promise<JobView> {
  const job = await findJobWithToken(services.db, request.jobId, request.token);
  const view = await viewJob(services.db, job);
  if (!storedStatuses.has(job.status)) return view;
  return { ...view, ...(await downloadLink(services.storage, job)) };
}

/**
 * Signed as of the start of the current reuse window, so the page's polls within it see one URL
 * (and the browser keeps its cached preview) instead of a new one every second. Signing is local
 * (no request to the store), so this costs a status call nothing.
 */
async function downloadLink(storage: Storage, job: JobRow): Promise<{ downloadUrl: string; downloadExpiresAt: string }> {
  const windowMs = downloadUrlReuseSeconds * 1000;
  const signedAt = new Date(Math.floor(Date.now() / windowMs) * windowMs);
  const downloadUrl = await presignGet(storage, { key: job.objectKey, filename: job.filename, expiresInSeconds: downloadUrlExpirySeconds, signedAt });
  return { downloadUrl, downloadExpiresAt: new Date(signedAt.getTime() + downloadUrlExpirySeconds * 1000).toISOString() };
}
