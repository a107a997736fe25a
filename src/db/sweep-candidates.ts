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
