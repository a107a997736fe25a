// Through a real PgBouncer in transaction mode, as on DigitalOcean's pool port 25061: a client's
// consecutive transactions may run on different server connections and nothing of a session
// survives between them. The migrations (transaction-scoped advisory locks) and the job queries
// must work there, and prepared statements must be off, which createSql decides.
import { readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabaseConfig } from '../src/config.js';
import { createSql, DatabaseUnavailableError, type Actor, type Sql, type SqlOptions } from '../src/db/client.js';
import { pickDispatchable } from '../src/db/dispatch.js';
import { findJob, insertJob, listJobEvents } from '../src/db/jobs.js';
import { defaultMigrationsDirectory, migrate } from '../src/db/migrate.js';
import { claimJob, markUploaded, succeedJob } from '../src/jobs/transitions.js';
import { startLocalPostgres, type LocalPostgres } from '../src/local/postgres.js';
import { newJobFields } from './core/support.js';
import { pgBouncerBinary, pgBouncerMissing, startPgBouncer, type PgBouncer } from './helpers/pgbouncer.js';
import { pauseProcessTree, postmasterPid } from './helpers/processes.js';

const missing = pgBouncerBinary === undefined;
// Said once at collection, so a developer sees why the file did nothing; CI installs PgBouncer.
if (missing) console.warn(pgBouncerMissing);

describe.skipIf(missing)(missing ? `PgBouncer in transaction mode (${pgBouncerMissing})` : 'PgBouncer in transaction mode', () => {
  let workDir: string;
  let server: LocalPostgres;
  let bouncer: PgBouncer;
  let admin: Sql;
  const clients: Array<{ end(): Promise<void> }> = [];

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-pgbouncer-test-'));
    server = await startLocalPostgres({ dataDir: path.join(workDir, 'pg'), persistent: false });
    // Two server connections: enough for two clients to overlap, few enough that they share.
    bouncer = await startPgBouncer(server, { poolSize: 2 });
    admin = createSql({ url: server.url, caCert: server.caCert });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end()));
    await admin?.end();
    await bouncer?.stop();
    await server?.stop();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  let databaseCount = 0;
  /** A database of the test's own, created directly on the server; returns its URL through the pool. */
  async function pooledDatabase(): Promise<string> {
    databaseCount += 1;
    const name = `pooled_${databaseCount}`;
    await admin`create database ${admin(name)}`;
    return bouncer.url(name);
  }

  /** The client Sluice's code makes for a DATABASE_URL and DATABASE_CA_CERT. */
  function pooledClient(url: string, max: number, options: SqlOptions = {}): Sql {
    const sql = createSql(loadDatabaseConfig({ DATABASE_URL: url, DATABASE_CA_CERT: server.caCert }), { max, ...options });
    clients.push(sql);
    return sql;
  }

  /** Runs `work` while `holder` keeps its server connection busy in an open transaction. */
  async function whileHeld(holder: Sql, work: () => Promise<void>): Promise<void> {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holderDone = holder.begin(async (tx) => {
      await tx`select 1`;
      holding();
      await released;
    });
    await held;
    try {
      await work();
    } finally {
      release();
      await holderDone;
    }
  }

  const backendPid = async (sql: Sql | postgres.Sql): Promise<number> => {
    const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    if (row === undefined) throw new Error('no row');
    return row.pid;
  };

  it('pools per transaction: a second client runs on the server connection the first one, still connected, left idle', async () => {
    const url = await pooledDatabase();
    const first = pooledClient(url, 1);
    const second = pooledClient(url, 1);
    // In session mode the first client would keep its server connection and the second get another.
    const firstPid = await backendPid(first);
    expect(await backendPid(second)).toBe(firstPid);
    const [row] = await first`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
    expect(row).toEqual({ ssl: true });
  });

  it('breaks prepared statements inside a transaction that lands on another server connection; createSql turns them off for pgbouncer=true', async () => {
    const url = await pooledDatabase();
    const withoutMarker = new URL(url);
    withoutMarker.searchParams.delete('pgbouncer');
    const prepared = postgres(withoutMarker.toString(), { max: 1, prepare: true, ssl: { ca: server.caCert, rejectUnauthorized: true }, onnotice: () => undefined });
    clients.push(prepared);
    const unprepared = pooledClient(url, 1);
    expect(unprepared.options.prepare).toBe(false);
    const holder = pooledClient(url, 1);

    // Each client runs the statement once: postgres.js prepares it on the idle server connection.
    const statement = (tx: postgres.TransactionSql) => tx`select ${41}::int + 1 as answer`;
    expect(await prepared.begin(statement)).toEqual([{ answer: 42 }]);
    expect(await unprepared.begin(statement)).toEqual([{ answer: 42 }]);

    // Keep that connection busy in an open transaction, so the next transactions get the other one.
    await whileHeld(holder, async () => {
      await expect(prepared.begin(statement)).rejects.toThrow(/prepared statement .* does not exist/);
      expect(await unprepared.begin(statement)).toEqual([{ answer: 42 }]);
    });
  });

  it('applies all migrations through the pool when two deploys race, each once, and then nothing', async () => {
    const url = await pooledDatabase();
    const all = readdirSync(defaultMigrationsDirectory)
      .filter((file) => file.endsWith('.sql'))
      .map((file) => file.slice(0, -'.sql'.length))
      .sort();
    expect(all.length).toBeGreaterThan(0);

    const [first, second] = await Promise.all([migrate(url, { caCert: server.caCert }), migrate(url, { caCert: server.caCert })]);
    expect([...first, ...second].sort()).toEqual(all);
    expect(await migrate(url, { caCert: server.caCert })).toEqual([]);

    const sql = pooledClient(url, 1);
    const recorded = await sql<{ name: string }[]>`select name from schema_migrations order by name`;
    expect(recorded.map((row) => row.name)).toEqual(all);
  });

  it('creates, queues, claims and finishes a job through the pool; of concurrent claims exactly one wins', async () => {
    const url = await pooledDatabase();
    await migrate(url, { caCert: server.caCert });
    // More clients than server connections: their transactions interleave on shared ones.
    const db = pooledClient(url, 4);
    const api: Actor = { activationId: 'act-api', codeVersion: 'v1' };
    const worker = (n: number): Actor => ({ activationId: `act-worker-${n}`, codeVersion: 'v2' });

    const { fields } = newJobFields();
    const job = await insertJob(db, fields, api);
    expect(await markUploaded(db, job.id, api)).toMatchObject({ status: 'queued' });

    const claims = await Promise.all([1, 2, 3, 4].map((n) => claimJob(db, job.id, { leaseSeconds: 60, actor: worker(n) })));
    const winners = claims.filter((claim) => claim !== undefined);
    expect(winners).toHaveLength(1);
    const claimed = winners[0];
    if (claimed === undefined) throw new Error('not claimed');
    expect(claimed.fence).toEqual({ jobId: job.id, attempt: 1 });

    expect(await succeedJob(db, claimed.fence, { file: { size: fields.size } }, { activationId: claimed.activationId, codeVersion: 'v2' })).toMatchObject({ status: 'succeeded' });
    expect(await findJob(db, job.id)).toMatchObject({ status: 'succeeded', attempts: 1, result: { file: { size: fields.size } } });
    expect((await listJobEvents(db, job.id)).map((event) => event.event)).toEqual(['created', 'uploaded', 'claimed', 'succeeded']);
  });

  it('reserves jobs for dispatch through the pool: concurrent picks take each job once and never more than the cap', async () => {
    const url = await pooledDatabase();
    await migrate(url, { caCert: server.caCert });
    const db = pooledClient(url, 4);
    const api: Actor = { activationId: 'act-api', codeVersion: 'v1' };
    for (let index = 0; index < 12; index += 1) {
      const { fields } = newJobFields();
      await insertJob(db, fields, api);
      await markUploaded(db, fields.id, api);
    }
    // The advisory lock is transaction-scoped, so it holds on whichever server connection the pick lands.
    const picks = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => pickDispatchable(db, { actor: { activationId: `act-${n}`, codeVersion: 'v1' }, maxConcurrentJobs: 5, limit: 2, redispatchAfterSeconds: 60 })),
    );
    const reserved = picks.flatMap((pick) => pick.picked.map((job) => job.id));
    expect(reserved).toHaveLength(5);
    expect(new Set(reserved).size).toBe(5);
  });

  describe('query deadlines', () => {
    // In afterEach, not a finally: a test that times out (the deadline broken) must not leave the
    // server stopped, or the teardown would wait for it.
    let resumeServer: () => void = () => undefined;
    afterEach(() => resumeServer());

    /** A plain postgres.js client, as a server-side timeout would need it. */
    function plainClient(url: string, options: postgres.Options<Record<string, postgres.PostgresType>> = {}): postgres.Sql {
      const withoutMarker = new URL(url);
      withoutMarker.searchParams.delete('pgbouncer');
      const sql = postgres(withoutMarker.toString(), { max: 1, prepare: false, ssl: { ca: server.caCert, rejectUnauthorized: true }, onnotice: () => undefined, ...options });
      clients.push(sql);
      return sql;
    }

    it('cannot be the server\'s statement_timeout: the pool refuses it as a startup parameter', async () => {
      const url = await pooledDatabase();
      const withTimeout = plainClient(url, { connection: { statement_timeout: 1_000 } });
      await expect(withTimeout`select 1`).rejects.toThrow(/unsupported startup parameter/i);
    });

    it('cannot be a SET statement_timeout: it stays on the server connection for the next client, and is missing where the next transaction lands', async () => {
      const url = await pooledDatabase();
      const setter = pooledClient(url, 1);
      const other = pooledClient(url, 1);
      const holder = pooledClient(url, 1);
      const timeoutOf = async (sql: Sql): Promise<string> => {
        const [row] = await sql<{ statementTimeout: string }[]>`show statement_timeout`;
        return row?.statementTimeout ?? '';
      };
      await setter`set statement_timeout = '4321ms'`;
      try {
        // Another client, on the server connection the setter left idle, inherits it.
        expect(await timeoutOf(other)).toBe('4321ms');
        // With that connection busy, the setter's next query runs on the other one, without it.
        await whileHeld(holder, async () => {
          expect(await timeoutOf(setter)).toBe('0');
        });
      } finally {
        await other`reset statement_timeout`;
        await setter`reset statement_timeout`;
      }
    });

    it('is the client\'s: a query past it fails as DatabaseUnavailableError at the deadline, and the next query works at once', async () => {
      const url = await pooledDatabase();
      const sql = pooledClient(url, 1, { queryTimeoutMs: 500 });
      const started = performance.now();
      await expect(sql`select pg_sleep(5)`).rejects.toBeInstanceOf(DatabaseUnavailableError);
      expect(performance.now() - started).toBeLessThan(3_000);
      // So does a transaction, which counts as one query.
      await expect(sql.begin((tx) => tx`select pg_sleep(5)`)).rejects.toBeInstanceOf(DatabaseUnavailableError);
      expect(await sql`select 41 + 1 as answer`).toEqual([{ answer: 42 }]);
    });

    it('holds when the server behind the pool hangs (SIGSTOP): queries fail at the deadline, and work again once it resumes', async () => {
      const url = await pooledDatabase();
      const sql = pooledClient(url, 1, { queryTimeoutMs: 1_000 });
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
      resumeServer = pauseProcessTree(postmasterPid(path.join(workDir, 'pg')));
      const started = performance.now();
      await expect(sql`select 2 as two`).rejects.toBeInstanceOf(DatabaseUnavailableError);
      expect(performance.now() - started).toBeLessThan(4_000);
      resumeServer();
      expect(await sql`select 3 as three`).toEqual([{ three: 3 }]);
    });
  });
});
