// The sweep's queries for what needs attention (src/jobs/sweep.ts). Each returns a bounded batch;
// the state changes themselves go through the transitions (src/jobs/transitions.ts), which re-check
// every condition under the row lock, so a batch read here that is stale a moment later is harmless.
import type { Db } from './client.js';
import type { JobRow } from './jobs.js';

/** Processing jobs whose activation stopped renewing its lease (crash, kill, timeout). Uses jobs_processing_lease. */
export async function findExpiredLeases(db: Db, limit: number): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    SELECT id FROM jobs
    WHERE status = 'processing' AND lease_expires_at < now()
    ORDER BY lease_expires_at
    LIMIT ${limit}`;
  return rows.map((row) => row.id);
}

/**
 * Uploads not completed: those past their window first (to expire or, if the bytes are there, to
 * queue), then the least recently checked. Marks the batch as checked in the same statement;
 * SKIP LOCKED leaves rows a concurrent `complete` or `abort` holds to them.
 */
export async function takeUploadCandidates(db: Db, limit: number): Promise<JobRow[]> {
  return db<JobRow[]>`
    UPDATE jobs SET upload_checked_at = now()
    WHERE id IN (
      SELECT id FROM jobs
      WHERE status = 'awaiting_upload'
      ORDER BY expires_at < now() DESC, upload_checked_at NULLS FIRST, created_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING *`;
}

/**
 * Jobs holding or about to hold an activation, for the MAX_CONCURRENT_JOBS cap: processing, plus
 * queued jobs dispatched recently (their activation is starting and will claim them).
 */
export async function countBusyJobs(db: Db, redispatchAfterSeconds: number): Promise<number> {
  const rows = await db<{ count: number }[]>`
    SELECT (SELECT count(*) FROM jobs WHERE status = 'processing')
         + (SELECT count(*) FROM jobs
            WHERE status = 'queued' AND dispatched_at >= now() - make_interval(secs => ${redispatchAfterSeconds})) AS count`;
  return rows[0]?.count ?? 0;
}

/** Due queued jobs never dispatched, or dispatched so long ago that the invoke must have been lost; oldest due first. */
export async function findDispatchableJobs(db: Db, limit: number, redispatchAfterSeconds: number): Promise<string[]> {
  if (limit <= 0) return [];
  const rows = await db<{ id: string }[]>`
    SELECT id FROM jobs
    WHERE status = 'queued' AND run_after <= now()
      AND (dispatched_at IS NULL OR dispatched_at < now() - make_interval(secs => ${redispatchAfterSeconds}))
    ORDER BY run_after
    LIMIT ${limit}`;
  return rows.map((row) => row.id);
}
