// The one Postgres client of a function container: created on first use, kept at module scope and
// reused by every warm activation, never ended per invocation (docs/platform-facts.md "Managed
// PostgreSQL"). One connection (`max: 1`): the Node runtime runs one activation at a time per
// container, and the cluster has only ~22 connection slots to share among up to 120 containers.
//
// Every query has a deadline, enforced here, on the client. A server that stopped answering
// (hung, paused, cut off by the network) never sends an error, so only the client can notice; and
// a server-side `statement_timeout` is no option through DigitalOcean's pool: PgBouncer in
// transaction mode refuses it as a startup parameter, and a `SET` is session state there, which
// stays on a server connection other clients then get, or is missing from the one a later
// transaction lands on (test/pgbouncer.test.ts shows both). Past its deadline a query fails with
// DatabaseUnavailableError and its connection is dropped: a connection whose query got no answer
// is not trusted with the next one, which connects afresh. The server is not asked to cancel the
// query: postgres.js's `query.cancel()` drops the promise of its cancel connection, so a refused
// one would be an unhandled rejection that ends the worker. A query given up on may therefore
// still complete on the server; Sluice's writes are idempotent or fenced (docs/architecture.md
// "Job state machine"), so the caller's retry is safe.
import postgres from 'postgres';
import {
  databaseConfig,
  databaseConnectTimeoutSeconds,
  databaseIdleTimeoutSeconds,
  databaseQueryTimeoutMs,
  pgBouncerPort,
  type DatabaseConfig,
} from '../config.js';

/** int8 columns (sizes, counters) as JS numbers: every value we store is far below 2^53. */
const int8AsNumber = {
  to: 20,
  from: [20],
  serialize: (value: number) => String(value),
  parse: (value: string) => Number(value),
};

/**
 * The database is unreachable, hung or refusing work for now: a query passed its deadline, the
 * connection failed or was lost, or the server said it is shutting down, starting or full. The web
 * functions answer it with 503 and Retry-After (src/errors.ts); the original error is the `cause`.
 */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

/** postgres.js's own codes for a connection that could not be made or was lost (its src/errors.js). */
const connectionErrorCodes = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED']);
/** Socket errors: the server, or the way to it, is down. Not ENOTFOUND: a host name that does not resolve is a configuration error. */
const networkErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/**
 * SQLSTATEs that mean "not now" (PostgreSQL docs, Appendix A): 57P01–57P03 admin/crash shutdown
 * and "cannot connect now" (starting up), 53300 too many connections, 57014 a statement cancelled
 * (a role's statement_timeout). Class 08 (connection exception) is matched by prefix; PgBouncer
 * reports its own failures to reach the server as 08P01.
 */
const unavailableSqlStates = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

/** Whether an error from postgres.js means the database is unavailable, rather than a bug or a refused statement. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return false;
  const code = error.code;
  return connectionErrorCodes.has(code) || networkErrorCodes.has(code) || unavailableSqlStates.has(code) || /^08[0-9A-Z]{3}$/.test(code);
}

function asUnavailable(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError || !isDatabaseUnavailable(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new DatabaseUnavailableError(`The database connection failed: ${reason}`, { cause: error });
}

export interface SqlOptions {
  /** Connections; 1 in a function container. */
  max?: number;
  /**
   * How long a query (or a whole transaction) may take, connecting included; `false` for none:
   * migrations run DDL that may take minutes and wait for each other's lock on purpose.
   */
  queryTimeoutMs?: number | false;
}

export function createSql(config: DatabaseConfig, options: SqlOptions = {}) {
  const { url, pooled } = transactionPool(config.url);
  const connect = () =>
    postgres(url, {
      max: options.max ?? 1,
      // PgBouncer in transaction mode cannot keep prepared statements across transactions.
      prepare: !pooled,
      // Verified TLS with the cluster's CA; `ssl: 'require'` alone would not verify the server.
      ...(config.caCert === undefined ? {} : { ssl: { ca: config.caCert, rejectUnauthorized: true } }),
      connect_timeout: databaseConnectTimeoutSeconds,
      idle_timeout: databaseIdleTimeoutSeconds,
      // snake_case columns arrive as camelCase keys; sql(object) helpers write snake_case columns.
      // Columns only: `postgres.camel` would also rewrite the keys inside jsonb values (results).
      transform: { column: { from: postgres.toCamel, to: postgres.fromCamel } },
      types: { int8: int8AsNumber },
      onnotice: () => undefined,
    });
  const timeoutMs = options.queryTimeoutMs ?? databaseQueryTimeoutMs;
  return timeoutMs === false ? connect() : withDeadlines(connect, timeoutMs);
}

type Settle = (resolve: (value: unknown) => void, reject: (error: unknown) => void) => void;

/** What withDeadlines needs of a postgres.js instance beyond being callable. */
interface Endable {
  end(options: { timeout: number }): Promise<void>;
}

/**
 * A client whose queries and transactions each have a deadline: tagged queries and `unsafe()`
 * when they are awaited (a query postgres.js only builds as a fragment is never run, so never
 * timed), `begin()` for the whole transaction. Sluice uses no other kind (listen, reserve, …).
 *
 * Past a deadline the postgres.js instance the query ran on is ended at once (`end({timeout: 0})`:
 * its connections are terminated, its other queries rejected) and the next query goes to a fresh
 * one: the only way postgres.js offers to drop a connection whose server stopped answering.
 * Closing the socket under it instead would leave a transaction's ROLLBACK writing to a closed
 * socket, which throws outside any promise and ends the process.
 */
function withDeadlines<T extends Endable>(connect: () => T, timeoutMs: number): T {
  let current = connect();
  let ended = false;
  const replace = (stale: T): void => {
    if (ended || current !== stale) return;
    current = connect();
    stale.end({ timeout: 0 }).catch(() => undefined);
  };

  const bounded = (client: T, settle: Settle): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new DatabaseUnavailableError(`The database did not answer within ${timeoutMs} ms`));
        replace(client);
      }, timeoutMs);
      settle(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error) => {
          clearTimeout(timer);
          reject(asUnavailable(error));
        },
      );
    });

  const arm = (client: T, value: unknown): unknown => {
    if (!isPendingQuery(value)) return value;
    const query = value;
    const run = query.then;
    let result: Promise<unknown> | undefined;
    // `await`, `.catch` and `.finally` all go through `then`: the moment postgres.js runs a query.
    Object.defineProperty(query, 'then', {
      configurable: true,
      value(onFulfilled?: (value: unknown) => unknown, onRejected?: (error: unknown) => unknown) {
        result ??= bounded(client, (resolve, reject) => void run.call(query, resolve, reject));
        return result.then(onFulfilled, onRejected);
      },
    });
    return query;
  };

  // Everything goes to the current instance; the first one only gives the proxy its shape.
  return new Proxy(current, {
    apply: (_target, thisArg, args) => {
      const client = current;
      return arm(client, Reflect.apply(client as unknown as (...a: unknown[]) => unknown, thisArg, args));
    },
    get: (_target, property) => {
      const client = current;
      const value: unknown = Reflect.get(client, property, client);
      if (typeof value !== 'function') return value;
      const method = value as (...a: unknown[]) => unknown;
      switch (property) {
        case 'unsafe':
          return (...args: unknown[]) => arm(client, Reflect.apply(method, client, args));
        case 'begin':
          return (...args: unknown[]) => bounded(client, (resolve, reject) => void (Reflect.apply(method, client, args) as Promise<unknown>).then(resolve, reject));
        case 'end':
          return (...args: unknown[]) => {
            ended = true;
            return Reflect.apply(method, client, args);
          };
        default:
          return value;
      }
    },
  });
}

function isPendingQuery(value: unknown): value is Promise<unknown> & { cancel(): unknown } {
  return value instanceof Promise && 'cancel' in value && typeof value.cancel === 'function';
}

/**
 * Whether the URL is a PgBouncer pool in transaction mode: DigitalOcean's pool port, or
 * `pgbouncer=true` for a pool on another port (a local PgBouncer in the tests). The marker is ours,
 * not the server's: it is taken out, as postgres.js would send it on as a startup parameter, which
 * PgBouncer and Postgres refuse.
 */
function transactionPool(rawUrl: string): { url: string; pooled: boolean } {
  const url = new URL(rawUrl);
  const onPoolPort = Number(url.port || 5432) === pgBouncerPort;
  if (!url.searchParams.has('pgbouncer')) return { url: rawUrl, pooled: onPoolPort };
  const marked = url.searchParams.get('pgbouncer') === 'true';
  url.searchParams.delete('pgbouncer');
  return { url: url.toString(), pooled: onPoolPort || marked };
}

export type Sql = ReturnType<typeof createSql>;
/** Anything queries can run on: the client or a transaction of it. */
export type Db = Sql | postgres.TransactionSql<Sql extends postgres.Sql<infer T> ? T : never>;

let shared: Sql | undefined;

/** The container's client (config from the environment); created lazily, never ended. */
export function sql(): Sql {
  shared ??= createSql(databaseConfig());
  return shared;
}

/** Who is writing: recorded with every job event. */
export interface Actor {
  activationId: string | null;
  codeVersion: string | null;
}
