// Per-client usage in fixed windows (an hour, a UTC day). Fixed windows are one row per client and
// window and one statement per check; the price is that a client can spend up to twice a limit
// across a window boundary, which is fine for abuse protection.
import type { Db } from './client.js';

export type QuotaKind = 'uploads_per_hour' | 'bytes_per_day';

const windowUnit: Record<QuotaKind, 'hour' | 'day'> = { uploads_per_hour: 'hour', bytes_per_day: 'day' };

export type QuotaDecision = { allowed: true; used: number } | { allowed: false; retryAfterSeconds: number };

/**
 * Adds `amount` to the client's counter for the current window if that stays within `limit`.
 * Atomic under concurrency: INSERT … ON CONFLICT DO UPDATE … WHERE locks the counter row and
 * re-checks the sum, so two creates racing for the last slot cannot both get it; a refused
 * increment returns no row. The same statement computes the seconds until the window ends for
 * `Retry-After`. Callers check `amount <= limit` first: a first insert is not limit-checked.
 */
export async function consumeQuota(db: Db, clientId: string, kind: QuotaKind, amount: number, limit: number): Promise<QuotaDecision> {
  const unit = windowUnit[kind];
  const rows = await db<{ used: number | null; retryAfterSeconds: number }[]>`
    WITH current_window AS (
      SELECT date_trunc(${unit}, now(), 'UTC') AS start
    ), counted AS (
      INSERT INTO rate_limit_counters AS counter (client_id, kind, window_start, used)
      SELECT ${clientId}, ${kind}, start, ${amount} FROM current_window
      ON CONFLICT (client_id, kind, window_start)
        DO UPDATE SET used = counter.used + excluded.used
        WHERE counter.used + excluded.used <= ${limit}
      RETURNING used
    )
    SELECT (SELECT used FROM counted) AS used,
           greatest(1, ceil(extract(epoch FROM start + ${`1 ${unit}`}::interval - now())))::int AS retry_after_seconds
    FROM current_window`;
  const row = rows[0];
  if (row === undefined) throw new Error('consumeQuota: no row returned');
  return row.used === null ? { allowed: false, retryAfterSeconds: row.retryAfterSeconds } : { allowed: true, used: row.used };
}

/** Windows that ended more than a day ago are no longer read; the sweep deletes them. */
export async function deleteOldQuotaWindows(db: Db): Promise<number> {
  const rows = await db`DELETE FROM rate_limit_counters WHERE window_start < now() - interval '2 days' RETURNING 1`;
  return rows.length;
}
