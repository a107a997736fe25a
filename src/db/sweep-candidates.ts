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

/** How long after `create` the URLs an upload was given can still start a PUT. */
export interface UploadUrlExpiry {
  singlePutSeconds: number;
  partSeconds: number;
}

/**
 * Uploads not completed: those past their window first (to expire or, if the bytes are there, to
 * queue), then the least recently checked. Marks the batch as checked in the same statement;
 * SKIP LOCKED leaves rows a concurrent `complete` or `abort` holds to them.
 *
 * Young uploads are left to their client: until the URL `create` gave can no longer start a PUT,
 * the bytes may still be arriving and the client's own `complete` is still to come. A multipart
 * upload's part URLs are signed just in time, so it can still take parts later; the sweep only
 * completes one whose parts are all in, and a part still arriving is not listed until it is whole.
 */
export async function takeUploadCandidates(db: Db, limit: number, urlExpiry: UploadUrlExpiry): Promise<JobRow[]> {
  return db<JobRow[]>`
    UPDATE jobs SET upload_checked_at = now()
    WHERE id IN (
      SELECT id FROM jobs
      WHERE status = 'awaiting_upload'
        AND (expires_at < now()
             OR created_at < now() - make_interval(secs => CASE upload_kind WHEN 'multipart' THEN ${urlExpiry.partSeconds}::double precision
                                                                            ELSE ${urlExpiry.singlePutSeconds}::double precision END))
      ORDER BY expires_at < now() DESC, upload_checked_at NULLS FIRST, created_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING *`;
}
