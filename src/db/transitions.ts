// The one statement every job state change goes through. Shape: lock the row, update it only if it
// is in one of the allowed `from` states (plus any extra conditions — fencing, due times), and
// append the job_events row, all in one statement (data-modifying CTEs). One statement is atomic on
// its own, so this is safe on a PgBouncer transaction-mode connection and costs one round trip.
//
// `FOR UPDATE` in `previous` matters: under READ COMMITTED it waits for a concurrent writer and
// then reads the row's newest version, so the event's `from_status` is the state actually left,
// and a concurrent transition that got there first makes this one match nothing (the caller sees
// `undefined` and decides: idempotent answer, or INVALID_STATE).
import type postgres from 'postgres';
import type { Actor, Db } from './client.js';
import type { JobRow, JobStatus } from './jobs.js';

export interface TransitionStatement {
  jobId: string;
  from: readonly JobStatus[];
  to: JobStatus;
  /** Event name recorded in job_events ('uploaded', 'claimed', 'cancelled', …). */
  event: string;
  /** Extra assignments, each starting with a comma: sql`, finished_at = now()`. */
  set?: postgres.PendingQuery<postgres.Row[]>;
  /** Extra conditions, each starting with AND: sql`AND attempts = ${attempt}` (fencing). */
  where?: postgres.PendingQuery<postgres.Row[]>;
  actor: Actor;
  detail?: Record<string, unknown>;
}

export type TransitionedJob = JobRow & { previousStatus: JobStatus };

export async function transitionJob(db: Db, t: TransitionStatement): Promise<TransitionedJob | undefined> {
  const rows = await db<TransitionedJob[]>`
    WITH previous AS (
      SELECT id, status FROM jobs WHERE id = ${t.jobId} FOR UPDATE
    ), updated AS (
      UPDATE jobs SET status = ${t.to}, updated_at = now() ${t.set ?? db``}
      FROM previous
      WHERE jobs.id = previous.id AND jobs.status IN ${db(t.from as JobStatus[])} ${t.where ?? db``}
      RETURNING jobs.*, previous.status AS previous_status
    ), event AS (
      INSERT INTO job_events (job_id, event, from_status, to_status, attempt, activation_id, code_version, detail)
      SELECT id, ${t.event}, previous_status, status, attempts, ${t.actor.activationId}, ${t.actor.codeVersion},
             ${t.detail === undefined ? null : db.json(t.detail as Parameters<Db['json']>[0])}
      FROM updated
    )
    SELECT * FROM updated`;
  return rows[0];
}
