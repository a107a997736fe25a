// The dispatch standby (src/jobs/handoff.ts): at most one process/file activation in the whole
// namespace stays on after its own attempt to start what becomes startable soon (a retry whose
// backoff ends, a namespace that answered 429). A row lease, like the sweep's (0003_sweeps.sql):
// PgBouncer's transaction pooling keeps no session locks (docs/platform-facts.md "Managed
// PostgreSQL"). A holder that is killed simply lets its lease lapse.
import type { Db } from './client.js';

const standbyName = 'main';

/** Takes (or extends) the standby for `forMs` from now, unless another holder has an unexpired one. */
export async function acquireStandby(db: Db, holder: string, forMs: number): Promise<boolean> {
  const rows = await db`
    UPDATE dispatch_standby SET held_until = now() + make_interval(secs => ${forMs / 1000}), held_by = ${holder}
    WHERE name = ${standbyName} AND (held_until < now() OR held_by = ${holder})
    RETURNING name`;
  return rows.length > 0;
}

/** Gives the standby up (only the holder's), so the next activation that needs one can take it at once. */
export async function releaseStandby(db: Db, holder: string): Promise<void> {
  await db`
    UPDATE dispatch_standby SET held_until = '-infinity', held_by = NULL
    WHERE name = ${standbyName} AND held_by = ${holder}`;
}
