// The Postgres client's options are platform facts (PLATFORM-FACTS "Managed PostgreSQL"): no
// prepared statements through the PgBouncer pool, TLS verified against the cluster's CA, one
// connection, and one lazily created client per container. postgres.js connects on the first
// query, so these are checked without a server.
import { afterEach, describe, expect, it } from 'vitest';
import { createSql, sql } from '../../src/db/client.js';

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
