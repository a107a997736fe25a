// What an operator does by hand (`sluice jobs …`): look through the jobs, and put a failed one back
// in the queue. The retry is a transition like every other (./transitions.ts), so it is recorded in
// job_events and cannot race a concurrent change.
import type { Actor, Db } from './client.js';
import type { JobRow, JobStatus } from './jobs.js';
import { transitionJob, type TransitionedJob } from './transitions.js';

/** A row of `sluice jobs list`: the columns a list shows, not results or hashes. */
export type JobListRow = Pick<
  JobRow,
  'id' | 'status' | 'filename' | 'size' | 'contentType' | 'attempts' | 'maxAttempts' | 'buildId' | 'createdAt' | 'updatedAt' | 'finishedAt' | 'errorCode'
>;

export interface JobListFilter {
  /** Any of these; all statuses when empty. */
  statuses: readonly JobStatus[];
  /** Created at or after. */
  since: Date | undefined;
  limit: number;
}

/**
 * Newest first. No index on created_at: an operator's list is rare and bounded by `limit`, and the
 * partial indexes the workers rely on (0001_jobs.sql) are not worth widening for it.
 */
export async function listJobs(db: Db, filter: JobListFilter): Promise<JobListRow[]> {
  const byStatus = filter.statuses.length === 0 ? db`` : db`AND status IN ${db(filter.statuses as JobStatus[])}`;
  const bySince = filter.since === undefined ? db`` : db`AND created_at >= ${filter.since}`;
  return db<JobListRow[]>`
    SELECT id, status, filename, size, content_type, attempts, max_attempts, build_id, created_at, updated_at, finished_at, error_code
    FROM jobs
    WHERE true ${byStatus} ${bySince}
    ORDER BY created_at DESC, id
    LIMIT ${filter.limit}`;
}

/**
 * A failed job back to `queued`, due now, with `attemptBudget` more attempts. `attempts` keeps
 * counting rather than starting again at 0: it is every activation's fence (src/jobs/transitions.ts),
 * and a zombie from attempt 3 must not find its number valid again when the retry reaches attempt 3.
 * The last error stays, as a queued job's "reason of the pending retry".
 */
export function retryFailedJob(db: Db, jobId: string, attemptBudget: number, actor: Actor, detail: Record<string, unknown>): Promise<TransitionedJob | undefined> {
  return transitionJob(db, {
    jobId,
    from: ['failed'],
    to: 'queued',
    event: 'retried',
    set: db`, max_attempts = jobs.attempts + ${attemptBudget}, run_after = now(), dispatched_at = NULL,
            lease_expires_at = NULL, finished_at = NULL`,
    actor,
    detail: { ...detail, attemptBudget },
  });
}
