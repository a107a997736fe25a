// Bookkeeping for process/sweep (issue 4): who may start one, and a lease so two never run at once.
// A row lease instead of a session advisory lock: PgBouncer in transaction mode does not keep
// session state (docs/platform-facts.md "Managed PostgreSQL").
import type { Db } from './client.js';

const sweepName = 'main';

/**
 * True for exactly one caller per interval: the conditional UPDATE moves `last_started_at` only if
 * it is older than the interval, and row locking makes concurrent callers see each other's write.
 * An API call that gets true invokes process/sweep asynchronously (activity-started sweeps).
 */
export async function claimSweepStart(db: Db, intervalSeconds: number): Promise<boolean> {
  const rows = await db`
    UPDATE sweeps SET last_started_at = now()
    WHERE name = ${sweepName} AND last_started_at < now() - make_interval(secs => ${intervalSeconds})
    RETURNING name`;
  return rows.length > 0;
}

/** Takes the sweep lease if nobody holds an unexpired one. */
export async function acquireSweepLease(db: Db, holder: string, leaseSeconds: number): Promise<boolean> {
  const rows = await db`
    UPDATE sweeps
    SET locked_until = now() + make_interval(secs => ${leaseSeconds}), locked_by = ${holder}, last_started_at = now()
    WHERE name = ${sweepName} AND locked_until < now()
    RETURNING name`;
  return rows.length > 0;
}

/** Releases the lease (only the holder's) and records what the sweep did. */
export async function releaseSweepLease(db: Db, holder: string, result: Record<string, unknown>): Promise<boolean> {
  const rows = await db`
    UPDATE sweeps
    SET locked_until = '-infinity', locked_by = NULL, last_finished_at = now(),
        last_result = ${db.json(result as Parameters<Db['json']>[0])}
    WHERE name = ${sweepName} AND locked_by = ${holder}
    RETURNING name`;
  return rows.length > 0;
}
