// The Postgres client's options are platform facts (docs/platform-facts.md "Managed PostgreSQL"): no
// prepared statements through the PgBouncer pool, TLS verified against the cluster's CA, one
// connection, and one lazily created client per container. postgres.js connects on the first
// query, so these are checked without a server; the deadlines against a server that never answers.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseConnectTimeoutSeconds, databaseQueryTimeoutMs } from '../../src/config.js';
import { createSql, DatabaseUnavailableError, isDatabaseUnavailable, sql } from '../../src/db/client.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('createSql', () => {
  it('uses no prepared statements on the pool port, and verifies TLS against the given CA', () => {
    const pool = createSql({ url: 'postgresql://u:p@db.example.com:25061/pool?sslmode=require', caCert: pem });
    expect(pool.options.prepare).toBe(false);
    expect(pool.options.ssl).toEqual({ ca: pem, rejectUnauthorized: true });
    expect(pool.options.max).toBe(1);
  });

  it('treats pgbouncer=true as a transaction pool on any port, and keeps the marker from the server', () => {
    const pool = createSql({ url: 'postgresql://u:p@127.0.0.1:6432/sluice?sslmode=verify-full&pgbouncer=true', caCert: pem });
    expect(pool.options.prepare).toBe(false);
    expect(pool.options.port).toEqual([6432]);
    // postgres.js sends unknown URL parameters as startup parameters, which PgBouncer refuses.
    expect(pool.options.connection).not.toHaveProperty('pgbouncer');
    expect(pool.options.ssl).toEqual({ ca: pem, rejectUnauthorized: true });
  });

  it('prepares statements on a direct connection, and leaves TLS off without a CA', () => {
    const direct = createSql({ url: 'postgresql://u:p@127.0.0.1:5432/sluice', caCert: undefined });
    expect(direct.options.prepare).toBe(true);
    expect(direct.options.ssl).toBe(false);
  });
});

describe('sql()', () => {
  const saved = process.env.DATABASE_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  });

  it('is one client per container, created on first use and reused', () => {
    process.env.DATABASE_URL = 'postgresql://u:p@127.0.0.1:5432/sluice';
    const first = sql();
    expect(sql()).toBe(first);
    expect(first.options.max).toBe(1);
  });
});

/** Accepts connections and never sends a byte: a hung server, or one behind a dead network path. */
async function silentServer(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `postgresql://u:p@127.0.0.1:${port}/sluice`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('deadlines', () => {
  it('fit a web function: a connect gives up before a query does, both well inside the 10 s limit', () => {
    expect(databaseConnectTimeoutSeconds * 1_000).toBeLessThan(databaseQueryTimeoutMs);
    expect(databaseQueryTimeoutMs).toBeLessThanOrEqual(5_000);
  });

  it('a query the server never answers fails as DatabaseUnavailableError at its deadline, and the next one connects afresh', async () => {
    const server = await silentServer();
    const db = createSql({ url: server.url, caCert: undefined }, { queryTimeoutMs: 300 });
    try {
      const started = performance.now();
      await expect(db`select 1`).rejects.toThrow(DatabaseUnavailableError);
      expect(performance.now() - started).toBeLessThan(2_000);
      await expect(db.begin((tx) => tx`select 1`)).rejects.toThrow(DatabaseUnavailableError);
      // A connection whose query got no answer is dropped, not reused.
      expect(server.connections()).toBe(2);
    } finally {
      await db.end({ timeout: 0 });
      await server.close();
    }
  });

  it('a connection the server never completes fails as DatabaseUnavailableError at the connect timeout', async () => {
    const server = await silentServer();
    const db = createSql({ url: server.url, caCert: undefined });
    try {
      const started = performance.now();
      const error: unknown = await db`select 1`.then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as Error).cause).toMatchObject({ code: 'CONNECT_TIMEOUT' });
      expect(performance.now() - started).toBeLessThan(databaseQueryTimeoutMs);
    } finally {
      await db.end({ timeout: 0 });
      await server.close();
    }
  });
});

describe('isDatabaseUnavailable', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  it('is true for lost or refused connections and for a server shutting down, starting or full', () => {
    for (const code of ['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '53300', '08006', '08P01', '57014']) {
      expect(isDatabaseUnavailable(withCode(code)), code).toBe(true);
    }
  });
  it('is false for refused statements, bad credentials and configuration errors', () => {
    for (const code of ['23505', '42P01', '28P01', '3D000', 'ENOTFOUND', 'DEPTH_ZERO_SELF_SIGNED_CERT']) {
      expect(isDatabaseUnavailable(withCode(code)), code).toBe(false);
    }
    expect(isDatabaseUnavailable(new Error('no code'))).toBe(false);
  });
});

