// A generated run of malformed requests across all five functions (seeded, so a failure can be
// replayed with FUZZ_SEED): wrong types, missing fields, huge strings, bad JSON, wrong methods and
// junk headers. None may cause a 5xx, every refusal must be in the API's error format, and none may
// create a job or change one.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import { createClient } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { databaseFor, jobCount } from './support.js';

const seed = Number(process.env.FUZZ_SEED ?? 20_251_126);
const requestCount = 2_000;
/** In flight at once: enough to overlap round trips, few enough for two shared cores. */
const concurrency = 6;
const functions = ['create', 'parts', 'complete', 'abort', 'status', 'retry'] as const;
type FunctionName = (typeof functions)[number];

/** mulberry32: tiny, fast and good enough to spread cases; the point is replayability. */
function prng(initial: number): () => number {
  let state = initial >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface FuzzRequest {
  fn: FunctionName;
  method: string;
  headers: Record<string, string>;
  body?: string;
  query?: string;
  label: string;
}

function generator(random: () => number, realJob: { jobId: string; token: string }) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (max: number): number => Math.floor(random() * max);
  const huge = (): string => pick(['x', '\u0000', '💥', 'é', '<', '"']).repeat(20_000 + int(40_000));

  /** Values of the wrong type (or absurd values) for any field. */
  const junkValues = (): unknown =>
    pick<() => unknown>([
      () => null,
      () => true,
      () => 0,
      () => -1,
      () => 1.5,
      () => 1e308,
      () => -1e308,
      () => Number.MAX_SAFE_INTEGER + 2,
      () => '',
      () => ' ',
      () => '\u0000',
      () => '1e999',
      () => 'NaN',
      () => '__proto__',
      () => huge(),
      () => [],
      () => [1, 'two', null],
      () => ({}),
      () => ({ $gt: '' }),
      () => ({ __proto__: { polluted: true } }),
      () => 'DROP TABLE jobs; --',
      () => "' OR '1'='1",
    ])();

  /**
   * Only names with nothing usable left: the server cleans any other string (controls, bidi
   * overrides and paths are stripped) and accepts it, so a junk string would be a valid name.
   */
  const invalidFilename = (): unknown =>
    pick<() => unknown>([
      () => pick([null, true, 0, 1.5, [], ['a.txt'], { name: 'a.txt' }]),
      () => '',
      () => 'x'.repeat(20_000),
      () => '..',
      () => '/',
      () => '\u0000\u202E',
      () => 'a/../',
    ])();
  const invalidSize = (): unknown => pick<() => unknown>([junkValues, () => 0, () => -5, () => 2.5, () => '10', () => 1e300, () => Number.MAX_SAFE_INTEGER * 4])();
  const invalidContentType = (): unknown => pick<() => unknown>([junkValues, () => '', () => 'x', () => 'a/b/c', () => 'text/plain\r\nx: y', () => '*/*'.repeat(5_000)])();
  const invalidSha = (): unknown => pick<() => unknown>([junkValues, () => 'abc', () => 'G'.repeat(64), () => '0'.repeat(63), () => '0'.repeat(65)])();
  const invalidJobId = (): unknown => pick<() => unknown>([junkValues, () => 'not-a-uuid', () => `${randomUUID()}x`, () => randomUUID().toUpperCase().replace(/-/g, ''), () => '00000000-0000-0000-0000-000000000000'])();
  const invalidPartNumbers = (): unknown =>
    pick<() => unknown>([
      junkValues,
      () => [0],
      () => [-1],
      () => [10_001],
      () => [1.5],
      () => ['1'],
      () => [1, 1],
      () => Array.from({ length: 101 }, (_, i) => i + 1),
      () => Array.from({ length: 5_000 }, () => int(20_000)),
    ])();
  const invalidParts = (): unknown =>
    pick<() => unknown>([junkValues, () => [{ partNumber: 0, etag: '"x"' }], () => [{ partNumber: 1 }], () => [{ etag: 1 }], () => [null], () => 'parts'])();

  /** A create body that is wrong in at least one way, so none can make a job. */
  const createBody = (): Record<string, unknown> => {
    const body: Record<string, unknown> = { filename: 'fuzz.txt', size: 10, contentType: 'text/plain' };
    const mutations: Array<() => void> = [
      () => (body.filename = invalidFilename()),
      () => (body.size = invalidSize()),
      () => (body.contentType = invalidContentType()),
      () => (body.sha256 = invalidSha()),
      () => delete body.filename,
      () => delete body.size,
      () => delete body.contentType,
    ];
    for (let count = 1 + int(3); count > 0; count--) pick(mutations)();
    if (random() < 0.2) body[pick(['extra', 'jobId', '__ow_method', 'http', 'constructor'])] = junkValues();
    return body;
  };

  /** A body for the token-guarded calls: malformed, or well-formed for a job it cannot open. */
  const jobBody = (fn: FunctionName): Record<string, unknown> => {
    const body: Record<string, unknown> = pick([
      () => ({ jobId: realJob.jobId, token: `${realJob.token}x` }),
      () => ({ jobId: realJob.jobId, token: realJob.token.slice(0, -1) }),
      () => ({ jobId: randomUUID(), token: realJob.token }),
      () => ({ jobId: realJob.jobId }),
      () => ({ token: realJob.token }),
      () => ({}),
    ])();
    if (random() < 0.6) body.jobId = random() < 0.5 ? invalidJobId() : body.jobId;
    if (random() < 0.4) body.token = junkValues();
    if (fn === 'parts') body.partNumbers = random() < 0.7 ? invalidPartNumbers() : [1];
    if (fn === 'complete' && random() < 0.5) body.parts = invalidParts();
    return body;
  };

  const junkHeaders = (): Record<string, string> =>
    pick<() => Record<string, string>>([
      () => ({}),
      () => ({ authorization: pick(['Bearer', 'Bearer ', `Bearer ${'k'.repeat(4_000)}`, 'Basic Zm9vOmJhcg==', 'Bearer \u00e9', 'null']) }),
      () => ({ 'x-forwarded-for': pick(['not-an-ip', '::::', '1.2.3.4, , ,', 'x'.repeat(2_000), '999.999.999.999']) }),
      () => ({ origin: pick(['null', 'https://evil.example', 'javascript:alert(1)']) }),
      () => ({ accept: 'application/xml' }),
      () => ({ 'x-http-method-override': 'DELETE' }),
      () => ({ cookie: 'a=b; '.repeat(200) }),
    ])();

  return (): FuzzRequest => {
    const fn = pick(functions);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...junkHeaders() };
    const fields = fn === 'create' ? createBody() : jobBody(fn);
    const shape = random();
    if (shape < 0.55) return { fn, method: 'POST', headers, body: safeStringify(fields), label: 'json fields' };
    if (shape < 0.7) {
      const text = pick(['{', '{"jobId":', '[]', '"x"', '123', 'null', '{"a":1}{', '\u0000', 'x'.repeat(300_000), String.fromCharCode(...Array.from({ length: 64 }, () => int(256)))]);
      return { fn, method: 'POST', headers, body: text, label: 'bad json' };
    }
    if (shape < 0.78) {
      return { fn, method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: formEncode(fields), label: 'form' };
    }
    if (shape < 0.86) return { fn, method: 'GET', headers, query: formEncode(fields), label: 'query' };
    if (shape < 0.94) {
      return { fn, method: pick(['PUT', 'DELETE', 'PATCH']), headers, body: safeStringify(fields), label: 'wrong method' };
    }
    const contentType = pick(['text/plain', 'multipart/form-data; boundary=zzz', 'application/octet-stream', 'application/json; charset=utf-16', '']);
    return { fn, method: 'POST', headers: { ...headers, 'content-type': contentType }, body: safeStringify(fields), label: 'junk content-type' };
  };
}

function safeStringify(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'number' && !Number.isFinite(item) ? String(item) : item));
}

function formEncode(fields: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) params.set(key, typeof value === 'string' ? value : safeStringify(value));
  return params.toString();
}

let platform: Platform;
let sql: postgres.Sql;

beforeAll(async () => {
  // DigitalOcean's 600 invocations a minute (emulated by the local runtime) would turn most of the
  // run into the runtime's own 429s, so the namespace limit is lifted for this file.
  platform = await startTestPlatform({ runtimeLimits: { maxInvocationsPerMinute: 100_000 } });
  sql = databaseFor(platform);
});

afterAll(async () => {
  await sql?.end();
  await platform?.stop();
});

describe('fuzzing the API', () => {
  it(`${requestCount} malformed requests: no 5xx, every refusal in the error format, no job created or changed`, { timeout: 120_000 }, async () => {
    const client = createClient({ apiBase: platform.apiBase });
    const realJob = await client.create({ filename: 'target.txt', size: 10, contentType: 'text/plain' });
    const eventsBefore = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM job_events`;
    const jobsBefore = await jobCount(sql);

    const next = generator(prng(seed), realJob);
    const requests = Array.from({ length: requestCount }, next);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let handlerRefusals = 0;
    let platformRefusals = 0;
    let index = 0;
    const worker = async (): Promise<void> => {
      for (let i = index++; i < requests.length; i = index++) {
        const request = requests[i] as FuzzRequest;
        const url = `${client.url(request.fn)}${request.query === undefined ? '' : `?${request.query}`}`;
        const init: RequestInit = { method: request.method, headers: request.headers };
        if (request.body !== undefined) init.body = request.body;
        const response = await fetch(url, init);
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const where = `#${i} ${request.method} ${request.fn} (${request.label})`;
        if (response.status >= 500) failures.push(`${where}: ${response.status} ${text.slice(0, 200)}`);
        else if (response.status < 400) failures.push(`${where}: accepted with ${response.status}: ${(request.body ?? request.query ?? '').slice(0, 300)}`);
        // Past the platform's 1 MB request limit the runtime answers before any handler runs.
        else if (isErrorBody(text)) handlerRefusals++;
        else if (isPlatformErrorBody(text) || transportRefusals.has(response.status)) platformRefusals++;
        else if (byteLength(request) <= maxRequestBytes) failures.push(`${where}: ${response.status} not in the error format: ${text.slice(0, 200)}`);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsedMs = Date.now() - started;
    console.log(
      `fuzz seed ${seed}: ${requestCount} requests in ${elapsedMs} ms; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `${handlerRefusals} refused by the functions, ${platformRefusals} by the platform before them`,
    );

    expect(failures.slice(0, 20)).toEqual([]);
    // Most of the run must reach the handlers, or it would test only the platform's JSON parser.
    expect(handlerRefusals).toBeGreaterThan(requestCount * 0.9);
    // The runtime's own 429 (namespace invocation limit) would mean the handlers were never reached.
    expect(statuses.get(429) ?? 0).toBe(0);
    expect(await jobCount(sql)).toBe(jobsBefore);
    const eventsAfter = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM job_events`;
    expect(eventsAfter[0]?.count).toBe(eventsBefore[0]?.count);
    expect((await client.status({ jobId: realJob.jobId, token: realJob.token })).job.status).toBe('awaiting_upload');
  });
});

/** URL or headers too long: the HTTP server refuses before the platform even parses the request. */
const transportRefusals = new Set([414, 431]);

/** Params are limited to 1 MB (docs/platform-facts.md "Functions limits"). */
const maxRequestBytes = 1024 * 1024;

function byteLength(request: FuzzRequest): number {
  return Buffer.byteLength(request.body ?? '') + Buffer.byteLength(request.query ?? '');
}

/**
 * The platform answers some requests itself, before any function runs, in OpenWhisk's format
 * `{error: "…", code: "<activation id>"}`: a JSON body that does not parse, or a request setting
 * reserved `__ow_*` parameters (docs/platform-facts.md "Web functions"). DigitalOcean does the same.
 */
function isPlatformErrorBody(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown };
    return typeof body.error === 'string' && typeof body.code === 'string';
  } catch {
    return false;
  }
}

function isErrorBody(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    return typeof body.error?.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(body.error.code) && typeof body.error.message === 'string';
  } catch {
    return false;
  }
}
