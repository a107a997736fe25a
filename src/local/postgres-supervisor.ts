// `npm run dev` keeps its Postgres up. A postmaster that dies (killed, out of memory, a crash) is
// reported loudly and started again on the same data dir and port: the functions keep the
// DATABASE_URL and CA they were deployed with, and reach the new server on their next query. A
// stop asked for (the platform stopping, a test) is no death: nothing is restarted then.
import { startLocalPostgres, type LocalPostgres, type LocalPostgresOptions, type PostgresExit } from './postgres.js';

/**
 * The wait before each restart in a row. The first is immediate: a killed postmaster's backends
 * exit on their own within milliseconds, and the new server runs crash recovery as it starts.
 * Then longer ones, so a server that keeps dying (a full disk, a damaged data dir, another
 * server on the port) does not spin; one more death after the last and we give up and say so.
 */
export const restartDelaysMs: readonly number[] = [0, 1_000, 5_000, 15_000];
/** A server up this long has recovered: its next death starts the delays from the first again. */
export const restartStableAfterMs = 60_000;

export interface SupervisedPostgresOptions extends LocalPostgresOptions {
  /** Default restartDelaysMs; tests use short ones. */
  restartDelaysMs?: readonly number[];
}

/** The server as the platform sees it: one URL and CA for as long as it runs, whichever postmaster serves them. */
export type SupervisedPostgres = Omit<LocalPostgres, 'exited'>;

export async function superviseLocalPostgres(options: SupervisedPostgresOptions): Promise<SupervisedPostgres> {
  const log = options.log ?? (() => undefined);
  const delaysMs = options.restartDelaysMs ?? restartDelaysMs;
  // Otherwise a Ctrl-C in the terminal would stop the server before the platform does, and that
  // exit, not asked for by stop(), would be taken for a death and restarted during the shutdown.
  const serverOptions: LocalPostgresOptions = { ...options, ownProcessGroup: true };
  const first = await startLocalPostgres(serverOptions);
  // A free port picked at the first start is the one the functions were given: keep it.
  const port = Number(new URL(first.url).port);
  let current = first;

  let stopRequested = false;
  let requestStop = (): void => undefined;
  const stopAsked = new Promise<undefined>((resolve) => {
    requestStop = () => resolve(undefined);
  });
  /** False when stop() came first. */
  const waitUnlessStopped = async (ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), stopAsked]);
    clearTimeout(timer);
    return !stopRequested;
  };

  const supervise = async (): Promise<void> => {
    // Restarts since the server last stayed up for restartStableAfterMs.
    let restarts = 0;
    for (;;) {
      const upSince = Date.now();
      const exit = await Promise.race([current.exited, stopAsked]);
      if (exit === undefined || exit.stopped || stopRequested) return;
      if (Date.now() - upSince >= restartStableAfterMs) restarts = 0;
      let what = `postgres exited unexpectedly (${describeExit(exit)})`;
      for (;;) {
        const delayMs = delaysMs[restarts];
        if (delayMs === undefined) {
          log(
            `${what}; giving up after ${restarts} restarts in a row. The functions cannot reach the database: ` +
              `see the postgres lines above, fix the cause, then stop npm run dev (Ctrl-C) and start it again (data in ${options.dataDir})`,
          );
          return;
        }
        restarts += 1;
        log(`${what}; restarting it on port ${port}${delayMs > 0 ? ` in ${delayMs / 1000} s` : ''} (restart ${restarts} of at most ${delaysMs.length})`);
        if (!(await waitUnlessStopped(delayMs))) return;
        let next: LocalPostgres;
        try {
          next = await startLocalPostgres({ ...serverOptions, port });
        } catch (error) {
          what = `postgres could not be restarted (${error instanceof Error ? error.message : String(error)})`;
          continue;
        }
        if (stopRequested) {
          await next.stop();
          return;
        }
        current = next;
        // Both come from the data dir (its password file and CA), so they stay unless someone replaced those.
        if (next.url !== first.url || next.caCert !== first.caCert) {
          log('postgres: restarted, but with another password or CA than the functions were given: stop npm run dev (Ctrl-C) and start it again');
        } else {
          log('postgres: restarted on the same URL; the functions reconnect on their next query');
        }
        break;
      }
    }
  };
  const supervising = supervise().catch((error: unknown) => log(`postgres: supervising the server failed, it is no longer restarted: ${String(error)}`));

  let stopping: Promise<void> | undefined;
  return {
    url: first.url,
    caCert: first.caCert,
    tlsFiles: first.tlsFiles,
    stop: () => {
      stopping ??= (async () => {
        stopRequested = true;
        requestStop();
        // A restart under way finishes (and stops what it started) before the last server is stopped.
        await supervising;
        await current.stop();
      })();
      return stopping;
    },
  };
}

function describeExit(exit: PostgresExit): string {
  const how = exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code ?? 'unknown'}`;
  return `pid ${exit.pid ?? '?'}, ${how}`;
}
