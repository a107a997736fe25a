// The one Postgres client of a function container: created on first use, kept at module scope and
// reused by every warm activation, never ended per invocation (PLATFORM-FACTS "Managed
// PostgreSQL"). One connection (`max: 1`): the Node runtime runs one activation at a time per
// container, and the cluster has only ~22 connection slots to share among up to 120 containers.
import postgres from 'postgres';
import {
  databaseConfig,
  databaseConnectTimeoutSeconds,
  databaseIdleTimeoutSeconds,
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

export function createSql(config: DatabaseConfig, options: { max?: number } = {}) {
  const { url, pooled } = transactionPool(config.url);
  return postgres(url, {
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
