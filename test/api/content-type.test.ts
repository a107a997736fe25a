// POST bodies must be declared application/json. A page on any origin can make its visitors'
// browsers send a CORS "simple" request — text/plain, a form encoding, or no body type at all —
// without a preflight; the browser only hides the answer, the request itself goes through. With
// anonymous uploads on, accepting such bodies let any web page create jobs from its visitors.
// These requests are what such a page's fetch or form sends, through the local platform.
import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { databaseFor, jobCount } from './support.js';

const allowedOrigin = 'https://uploads.example.com';
const foreignOrigin = 'https://elsewhere.example.net';
const createBody = { filename: 'csrf.txt', size: 3, contentType: 'text/plain' };

let platform: Platform;
let sql: postgres.Sql;

beforeAll(async () => {
  platform = await startTestPlatform({ env: { ALLOWED_ORIGINS: allowedOrigin, ALLOW_ANONYMOUS_UPLOADS: 'true' } });
  sql = databaseFor(platform);
});

afterAll(async () => {
  await sql?.end();
  await platform?.stop();
});

const url = (fn: string, query = ''): string => `${platform.apiBase}/presign/${fn}${query}`;

async function answer(response: Response): Promise<{ status: number; code: unknown }> {
  const body = (await response.json()) as { error?: { code?: unknown } };
  return { status: response.status, code: body.error?.code };
}

const refused = { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' };

describe('a cross-origin simple request (no preflight)', () => {
  it.each([
    ['text/plain (a string body)', () => ({ body: JSON.stringify(createBody) })],
    ['a form encoding', () => ({ body: new URLSearchParams({ filename: 'csrf.txt', size: '3', contentType: 'text/plain' }) })],
    ['multipart/form-data', () => ({ body: Object.entries(createBody).reduce((form, [key, value]) => (form.append(key, String(value)), form), new FormData()) })],
    ['no body type (bytes)', () => ({ body: new TextEncoder().encode(JSON.stringify(createBody)) })],
    ['text/plain with JSON written as such', () => ({ body: JSON.stringify(createBody), headers: { 'content-type': 'text/plain' } })],
    ['application/octet-stream', () => ({ body: JSON.stringify(createBody), headers: { 'content-type': 'application/octet-stream' } })],
  ])('with %s creates no job: 415 UNSUPPORTED_MEDIA_TYPE', async (_, make) => {
    const before = await jobCount(sql);
    const { body, headers = {} } = make() as { body: BodyInit; headers?: Record<string, string> };
    const response = await fetch(url('create'), { method: 'POST', headers: { origin: foreignOrigin, ...headers }, body });
    expect(await answer(response)).toEqual(refused);
    expect(await jobCount(sql)).toBe(before);
  });

  it('without a body, its fields in the query string, creates no job either', async () => {
    const before = await jobCount(sql);
    const query = `?${new URLSearchParams({ filename: 'csrf.txt', size: '3', contentType: 'text/plain' }).toString()}`;
    const response = await fetch(url('create', query), { method: 'POST', headers: { origin: foreignOrigin } });
    expect(await answer(response)).toEqual(refused);
    expect(await jobCount(sql)).toBe(before);
  });

  it.each(['parts', 'complete', 'abort', 'status'])('to %s is refused the same way', async (fn) => {
    const response = await fetch(url(fn), { method: 'POST', headers: { origin: foreignOrigin }, body: JSON.stringify({ jobId: crypto.randomUUID(), token: 'x' }) });
    expect(await answer(response)).toEqual(refused);
  });
});

describe('JSON bodies', () => {
  it('need a preflight, which a foreign origin does not pass', async () => {
    const preflight = await fetch(url('create'), {
      method: 'OPTIONS',
      headers: { origin: foreignOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    await preflight.arrayBuffer();
  });

  it('are accepted from the allowed origin, with or without a charset, and through the typed client', async () => {
    for (const contentType of ['application/json', 'application/json; charset=utf-8']) {
      const response = await fetch(url('create'), { method: 'POST', headers: { origin: allowedOrigin, 'content-type': contentType }, body: JSON.stringify(createBody) });
      expect(response.status, contentType).toBe(201);
      expect(response.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
      await response.arrayBuffer();
    }
    const created = await createClient({ apiBase: platform.apiBase }).create(createBody);
    expect(created.jobId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
