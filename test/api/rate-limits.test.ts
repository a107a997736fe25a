// Per-client limits, enforced in Postgres: uploads per hour and bytes per day. Past either, `create`
// answers 429 RATE_LIMITED with a Retry-After a client can wait out, and no job is created.
// Anonymous callers are counted by an address they cannot write themselves (CLIENT_ADDRESS_SOURCE):
// the local platform, like DigitalOcean's edge, appends the socket's address to X-Forwarded-For,
// and each test client sends from its own loopback address (127.0.0.0/8 all reach the platform).
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type postgres from 'postgres';
import { createClient, SluiceApiError, uploadFile, type CreateRequest } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { databaseFor, jobCount, randomBlob, sha256Hex } from './support.js';

const uploadsPerHour = 3;
const bytesPerDay = 100_000;
const keys = { uploads: 'key-for-upload-count-0001', bytes: 'key-for-byte-quota-00002', fresh: 'key-untouched-000000003' };
const secondsPerHour = 60 * 60;
const secondsPerDay = 24 * secondsPerHour;

let platform: Platform;
let sql: postgres.Sql;

beforeAll(async () => {
  platform = await startTestPlatform({
    env: {
      ALLOW_ANONYMOUS_UPLOADS: 'true',
      API_KEYS: Object.values(keys).map(sha256Hex).join(','),
      UPLOADS_PER_HOUR: String(uploadsPerHour),
      BYTES_PER_DAY: String(bytesPerDay),
    },
  });
  sql = databaseFor(platform);
});

afterAll(async () => {
  await sql?.end();
  await platform?.stop();
});

async function rateLimited(promise: Promise<unknown>): Promise<SluiceApiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SluiceApiError);
  return error as SluiceApiError;
}

const small: CreateRequest = { filename: 'a.txt', size: 10, contentType: 'text/plain' };

interface Answer {
  status: number;
  code: string | undefined;
}

/**
 * An anonymous `create` sent from the socket address `from` (a loopback address of its own), with
 * whatever headers a client chooses to write.
 */
function createFrom(target: Platform, from: string, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(`${target.apiBase}/presign/create`);
  const body = JSON.stringify(small);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      { method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } };
          resolve({ status: response.statusCode ?? 0, code: json.error?.code });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

async function clientIdsOfJobs(db: postgres.Sql, clientIds: string[]): Promise<Record<string, number>> {
  const rows = await db<{ client_id: string; count: number }[]>`
    SELECT client_id, count(*)::int AS count FROM jobs WHERE client_id IN ${db(clientIds)} GROUP BY client_id`;
  return Object.fromEntries(rows.map((row) => [row.client_id, row.count]));
}

/** How close to the next UTC hour a test may start: each one sends its requests within seconds. */
const hourBoundaryMarginSeconds = 60;

// The limits count in fixed windows that restart on the UTC hour (and day): a test that straddled
// one would see its count restart and its last create pass. So each waits, when the hour is about
// to turn, until it has turned (seen at 00:00:00 in a CI run).
beforeEach(async () => {
  await vi.waitFor(
    () => {
      const secondsToNextHour = 3600 - ((Date.now() / 1000) % 3600);
      if (secondsToNextHour < hourBoundaryMarginSeconds) throw new Error(`the UTC hour turns in ${Math.ceil(secondsToNextHour)} s`);
    },
    { timeout: (hourBoundaryMarginSeconds + 10) * 1000, interval: 1000 },
  );
}, (hourBoundaryMarginSeconds + 20) * 1000);

describe('rate limits', () => {
  it('uploads per hour: the next create is 429 with Retry-After, and creates nothing', async () => {
    const client = createClient({ apiBase: platform.apiBase, apiKey: keys.uploads });
    for (let i = 0; i < uploadsPerHour; i++) await client.create(small);
    const before = await jobCount(sql);

    const error = await rateLimited(client.create(small));
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(secondsPerHour);
    expect(await jobCount(sql)).toBe(before);

    // The raw answer carries the header itself (the client read it from there).
    const raw = await fetch(client.url('create'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.uploads}` },
      body: JSON.stringify(small),
    });
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0);
    await raw.arrayBuffer();

    // uploadFile does not sit through an hour-long Retry-After: the caller hears about it at once.
    const started = Date.now();
    await expect(uploadFile(client, randomBlob(10).blob, { filename: 'b.txt' })).rejects.toMatchObject({ status: 429 });
    expect(Date.now() - started).toBeLessThan(5_000);

    // Another client is not affected.
    await createClient({ apiBase: platform.apiBase, apiKey: keys.fresh }).create(small);
  });

  it('bytes per day: a create that would pass the quota is 429 with Retry-After', async () => {
    const client = createClient({ apiBase: platform.apiBase, apiKey: keys.bytes });
    await client.create({ ...small, size: 60_000 });
    const before = await jobCount(sql);
    const error = await rateLimited(client.create({ ...small, size: 60_000 }));
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(secondsPerDay);
    expect(await jobCount(sql)).toBe(before);
    // What is left of the quota can still be used.
    await client.create({ ...small, size: bytesPerDay - 60_000 });
  });
});

describe('anonymous clients are counted by the address the edge saw', () => {
  it('rotating a client-written X-Forwarded-For does not reset the hourly count', async () => {
    const from = '127.0.0.2';
    for (let i = 1; i <= uploadsPerHour; i++) {
      expect(await createFrom(platform, from, { 'x-forwarded-for': `203.0.113.${i}` })).toEqual({ status: 201, code: undefined });
    }
    expect(await createFrom(platform, from, { 'x-forwarded-for': '203.0.113.99' })).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expect(await createFrom(platform, from, {})).toEqual({ status: 429, code: 'RATE_LIMITED' });
    // Every job was recorded against the socket's address, none against a written one.
    expect(await clientIdsOfJobs(sql, [`ip:${from}`, 'ip:203.0.113.1'])).toEqual({ [`ip:${from}`]: uploadsPerHour });
  });

  it("writing a victim's address in X-Forwarded-For spends the writer's allowance, not the victim's", async () => {
    const victim = '127.0.0.3';
    const writer = '127.0.0.4';
    for (let i = 0; i < uploadsPerHour; i++) {
      expect(await createFrom(platform, writer, { 'x-forwarded-for': victim })).toEqual({ status: 201, code: undefined });
    }
    expect(await createFrom(platform, writer, { 'x-forwarded-for': victim })).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expect(await createFrom(platform, victim)).toEqual({ status: 201, code: undefined });
  });
});

describe('CLIENT_ADDRESS_SOURCE=cf-connecting-ip', () => {
  // DigitalOcean does not document that its edge sets CF-Connecting-IP, so the local platform does
  // not invent it: the test writes it, standing in for a proxy that would.
  let headerPlatform: Platform;

  beforeAll(async () => {
    headerPlatform = await startTestPlatform({
      env: { ALLOW_ANONYMOUS_UPLOADS: 'true', UPLOADS_PER_HOUR: String(uploadsPerHour), CLIENT_ADDRESS_SOURCE: 'cf-connecting-ip' },
    });
  });

  afterAll(async () => {
    await headerPlatform?.stop();
  });

  it('counts the header, whatever the socket or X-Forwarded-For say', async () => {
    const proxied = { 'cf-connecting-ip': '198.51.100.7' };
    const sockets = ['127.0.0.5', '127.0.0.6', '127.0.0.7'];
    for (const [index, from] of sockets.entries()) {
      expect(await createFrom(headerPlatform, from, { ...proxied, 'x-forwarded-for': `203.0.113.${index}` })).toEqual({ status: 201, code: undefined });
    }
    expect(await createFrom(headerPlatform, '127.0.0.8', proxied)).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expect(await createFrom(headerPlatform, '127.0.0.5', { 'cf-connecting-ip': '198.51.100.8' })).toEqual({ status: 201, code: undefined });
  });
});
