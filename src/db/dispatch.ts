// Which queued jobs to start, decided in Postgres so that concurrent dispatchers (`complete`, the
// sweep, every process/file activation handing its slot on, heartbeats) never start the same job
// twice or more jobs than MAX_CONCURRENT_JOBS (src/jobs/dispatch.ts, src/jobs/handoff.ts).
//
// A pick reserves jobs by setting `dispatched_at` before the invoke goes out, with a 'dispatched'
// event in the same statement (so a job's history always reads dispatched → claimed). A reserved
// job counts as busy and is not picked again until `redispatchAfterSeconds` have passed (the invoke
// must then have been lost), so the reservation is what makes a second dispatcher skip it. Nothing
// is written after a successful invoke: the invoked activation may have claimed the job already.
import type { Actor, Db, Sql } from './client.js';

// Any constant nothing else in the database uses: "disp" in ASCII (the migrations use "slui").
const dispatchLockKey = 0x64697370;

export interface PickedJob {
  id: string;
  /** The attempt count when reserved: what releaseReservation is fenced on. */
  attempts: number;
}

export interface PickOptions {
  /** Recorded with the 'dispatched' event of each reserved job. */
  actor: Actor;
  maxConcurrentJobs: number;
  /** At most this many jobs are reserved by this call. */
  limit: number;
  redispatchAfterSeconds: number;
}

export interface Pick {
  picked: PickedJob[];
  /** Slots that were free before this pick (MAX_CONCURRENT_JOBS minus busy jobs); 0 means capped. */
  free: number;
}

/**
 * Reserves due queued jobs, most overdue first, within the free slots. Busy jobs are those
 * processing plus those reserved recently (their activation is starting and will claim them).
 *
 * The count and the reservation must not race with another picker's (two activations ending at
 * once would each see the same free slot), so pickers take turns: a transaction-scoped advisory
 * lock, then the pick in a second statement. Under READ COMMITTED that statement's snapshot is
 * taken after the lock was granted, so it sees every reservation the previous holder committed; a
 * single statement could not do this, as its snapshot predates the lock wait. Transaction-scoped
 * locks hold through PgBouncer's transaction pooling (docs/platform-facts.md "Managed
 * PostgreSQL"). SKIP LOCKED passes over rows a claim or a transition holds at that moment.
 *
 * A cheap unlocked look comes first, so callers with nothing to do (the common heartbeat) never
 * queue for the lock.
 */
export async function pickDispatchable(db: Sql, o: PickOptions): Promise<Pick> {
  const due = await db`
    SELECT 1 FROM jobs
    WHERE status = 'queued' AND run_after <= now()
      AND (dispatched_at IS NULL OR dispatched_at < now() - make_interval(secs => ${o.redispatchAfterSeconds}))
    LIMIT 1`;
  if (due.length === 0) return { picked: [], free: Math.max(0, o.maxConcurrentJobs - (await countBusyJobs(db, o.redispatchAfterSeconds))) };
  return db.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${dispatchLockKey}::bigint)`;
    const rows = await tx<(PickedJob & { free: number })[]>`
      WITH free AS (
        SELECT greatest(0, ${o.maxConcurrentJobs}::int - (${busyCount(tx, o.redispatchAfterSeconds)}))::int AS n
      ), picked AS (
        SELECT id FROM jobs
        WHERE status = 'queued' AND run_after <= now()
          AND (dispatched_at IS NULL OR dispatched_at < now() - make_interval(secs => ${o.redispatchAfterSeconds}))
        ORDER BY run_after
        LIMIT least(${o.limit}::int, (SELECT n FROM free))
        FOR UPDATE SKIP LOCKED
      ), reserved AS (
        UPDATE jobs SET dispatched_at = now(), updated_at = now()
        FROM picked WHERE jobs.id = picked.id
        RETURNING jobs.id, jobs.status, jobs.attempts
      ), event AS (
        INSERT INTO job_events (job_id, event, from_status, to_status, attempt, activation_id, code_version)
        SELECT id, 'dispatched', status, status, attempts, ${o.actor.activationId}, ${o.actor.codeVersion} FROM reserved
      )
      SELECT reserved.id, reserved.attempts, free.n AS free FROM free LEFT JOIN reserved ON true`;
    const free = rows[0]?.free ?? 0;
    return { picked: rows.filter((row) => row.id !== null).map(({ id, attempts }) => ({ id, attempts })), free };
  });
}

/** Processing jobs plus queued ones reserved within the window: a scalar subquery for the pick. */
function busyCount(db: Db, redispatchAfterSeconds: number) {
  return db`
    SELECT (SELECT count(*) FROM jobs WHERE status = 'processing')
         + (SELECT count(*) FROM jobs
            WHERE status = 'queued' AND dispatched_at >= now() - make_interval(secs => ${redispatchAfterSeconds}))`;
}

export async function countBusyJobs(db: Db, redispatchAfterSeconds: number): Promise<number> {
  const rows = await db<{ count: number }[]>`SELECT (${busyCount(db, redispatchAfterSeconds)})::int AS count`;
  return rows[0]?.count ?? 0;
}

/**
 * Undoes a reservation whose invoke did not go out (refused, throttled, unreachable), so the job is
 * free for the next dispatcher at once instead of counting as busy for the whole window. Fenced on
 * the attempt count: if an activation claimed the job meanwhile (a duplicate invoke got through),
 * the row has moved on and is left alone. The caller records why ('dispatch_failed').
 */
export async function releaseReservation(db: Db, job: PickedJob): Promise<void> {
  await db`
    UPDATE jobs SET dispatched_at = NULL, updated_at = now()
    WHERE id = ${job.id} AND status = 'queued' AND attempts = ${job.attempts} AND dispatched_at IS NOT NULL`;
}

/** Due queued jobs nobody has reserved: what the sweep reports as held back by the cap. */
export async function countDispatchable(db: Db, redispatchAfterSeconds: number): Promise<number> {
  const rows = await db<{ count: number }[]>`
    SELECT count(*)::int AS count FROM jobs
    WHERE status = 'queued' AND run_after <= now()
      AND (dispatched_at IS NULL OR dispatched_at < now() - make_interval(secs => ${redispatchAfterSeconds}))`;
  return rows[0]?.count ?? 0;
}

export interface DispatchOutlook {
  /** Slots free now (MAX_CONCURRENT_JOBS minus busy jobs). */
  free: number;
  /**
   * Milliseconds until the next queued job that is not due yet becomes due (a retry's backoff),
   * by the database's clock, so a function's own clock cannot skew it; null when there is none.
   */
  nextDueInMs: number | null;
}

/** What a standing-by activation waits for (src/jobs/handoff.ts). Uses jobs_queued_run_after. */
export async function dispatchOutlook(db: Db, o: { maxConcurrentJobs: number; redispatchAfterSeconds: number }): Promise<DispatchOutlook> {
  const rows = await db<{ busy: number; nextDueInMs: number | null }[]>`
    SELECT (${busyCount(db, o.redispatchAfterSeconds)})::int AS busy,
           (SELECT extract(epoch FROM min(run_after) - now()) * 1000 FROM jobs
            WHERE status = 'queued' AND run_after > now())::float8 AS next_due_in_ms`;
  const row = rows[0];
  return { free: Math.max(0, o.maxConcurrentJobs - (row?.busy ?? 0)), nextDueInMs: row?.nextDueInMs ?? null };
}
