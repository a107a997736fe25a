// The web functions answer CORS themselves (`web-custom-options`) from ALLOWED_ORIGINS, preflight
// included: an allowed origin gets the headers, any other origin gets none (docs/processing.md "The sweep").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';

const allowedOrigin = 'https://uploads.example.com';
const otherOrigin = 'https://evil.example.net';
const functions = ['create', 'parts', 'complete', 'abort', 'status', 'retry'] as const;

let platform: Platform;

beforeAll(async () => {
  platform = await startTestPlatform({ env: { ALLOWED_ORIGINS: allowedOrigin } });
});

afterAll(async () => {
  await platform?.stop();
});

function preflight(fn: string, origin: string): Promise<Response> {
  return fetch(`${platform.apiBase}/presign/${fn}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
  });
}

function post(fn: string, origin: string, body: unknown): Promise<Response> {
  return fetch(`${platform.apiBase}/presign/${fn}`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('CORS', () => {
  it.each(functions)('%s: the allowed origin gets the headers on preflight and on the response', async (fn) => {
    const answer = await preflight(fn, allowedOrigin);
    expect(answer.status).toBeLessThan(300);
    expect(answer.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    expect(answer.headers.get('access-control-allow-methods')?.toUpperCase()).toContain('POST');
    const allowedHeaders = answer.headers.get('access-control-allow-headers')?.toLowerCase() ?? '';
    expect(allowedHeaders).toContain('content-type');
    expect(allowedHeaders).toContain('authorization');
    expect(answer.headers.get('vary')?.toLowerCase()).toContain('origin');
    await answer.arrayBuffer();

    // Error answers too: a browser can only read the error message if CORS lets it.
    const response = await post(fn, allowedOrigin, {});
    expect(response.status).toBe(400);
    expect(response.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    await response.arrayBuffer();
  });

  it('a real create answered to the allowed origin carries the headers', async () => {
    const response = await post('create', allowedOrigin, { filename: 'a.txt', size: 3, contentType: 'text/plain' });
    expect(response.status).toBe(201);
    expect(response.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    await response.arrayBuffer();
  });

  it.each(functions)('%s: another origin gets no CORS headers', async (fn) => {
    const answer = await preflight(fn, otherOrigin);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    await answer.arrayBuffer();
    const response = await post(fn, otherOrigin, {});
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    await response.arrayBuffer();
  });

  it('a request without Origin (curl, scripts) still works and gets no CORS headers', async () => {
    const response = await fetch(`${platform.apiBase}/presign/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'b.txt', size: 3, contentType: 'text/plain' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    await response.arrayBuffer();
  });
});
