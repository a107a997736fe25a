// presign/status, and the job view every other call answers with.
import { findJobWithToken } from '../auth/job-tokens.js';
import type { Db } from '../db/client.js';
import { findJob, listJobEvents, type JobRow } from '../db/jobs.js';
import type { JobRequest } from './schemas.js';
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

export async function jobStatus(db: Db, request: JobRequest): Promise<JobView> {
  return viewJob(db, await findJobWithToken(db, request.jobId, request.token));
}
