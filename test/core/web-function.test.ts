// The web-function adapter with hand-built params in both shapes the platform uses.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ApiError, toErrorResponse } from '../../src/errors.js';
import { webFunction, type WebResponse } from '../../src/http/web-function.js';
import { webParams } from '../../src/local/functions/web.js';
import { loadProject, type FunctionSpec } from '../../src/local/project.js';
import { rootDir } from '../helpers/paths.js';

const allowedOrigin = 'https://app.example.com';
/** What every POST of the typed client and the page carries. */
const json = { 'content-type': 'application/json' };
let savedOrigins: string | undefined;

beforeEach(() => {
  savedOrigins = process.env.ALLOWED_ORIGINS;
  process.env.ALLOWED_ORIGINS = allowedOrigin;
});
afterEach(() => {
  if (savedOrigins === undefined) delete process.env.ALLOWED_ORIGINS;
  else process.env.ALLOWED_ORIGINS = savedOrigins;
});

const echo = webFunction({
  methods: ['post'],
  fields: z.strictObject({ name: z.string(), count: z.number().int().optional() }),
  handle: async (input) => ({ status: 201, body: { echoed: input } }),
});

function errorOf(response: WebResponse): { code: string; message: string; requestId?: string } {
  return (response.body as { error: { code: string; message: string; requestId?: string } }).error;
}

describe('webFunction', () => {
  it('reads the OpenWhisk shape: merged fields, __ow_method, lower-case headers', async () => {
    const response = await echo({ __ow_method: 'post', __ow_headers: { ...json, origin: allowedOrigin }, __ow_path: '', name: 'a', count: 2 });
    expect(response.statusCode).toBe(201);
    expect(response.body).toEqual({ echoed: { name: 'a', count: 2 } });
    expect(response.headers['Access-Control-Allow-Origin']).toBe(allowedOrigin);
    expect(response.headers.Vary).toBe('Origin');
    expect(response.headers['Access-Control-Expose-Headers']).toContain('Retry-After');
  });

  it('reads the DigitalOcean http shape with a JSON (or base64) body', async () => {
    const plain = await echo({ http: { method: 'POST', headers: { 'Content-Type': 'application/json' }, path: '', body: '{"name":"b"}' } });
    expect(plain.body).toEqual({ echoed: { name: 'b' } });
    const encoded = await echo({
      http: { method: 'POST', headers: json, path: '', body: Buffer.from('{"name":"c"}').toString('base64'), isBase64Encoded: true },
    });
    expect(encoded.body).toEqual({ echoed: { name: 'c' } });
  });

  it('strips platform keys but refuses unknown fields', async () => {
    const response = await echo({ __ow_method: 'post', __ow_headers: json, __ow_user: 'x', name: 'a', admin: true });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe('VALIDATION_FAILED');
    expect(errorOf(response).message).toContain('admin');
  });

  it('keeps a __proto__ key a plain (refused) field', async () => {
    const response = await echo({ http: { method: 'POST', headers: json, body: '{"__proto__":{"count":1},"name":"a"}' } });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).message).toContain('__proto__');
  });

  it('answers a bad body with 400, not 500', async () => {
    const response = await echo({ http: { method: 'POST', headers: json, body: '{not json' } });
    expect(response.statusCode).toBe(400);
    const array = await echo({ __ow_method: 'post', __ow_headers: json, __ow_body: '[1,2]' });
    expect(array.statusCode).toBe(400);
  });

  it('answers preflight for an allowed origin, and without CORS headers for another', async () => {
    const allowed = await echo({ __ow_method: 'options', __ow_headers: { origin: allowedOrigin, 'access-control-request-method': 'POST' } });
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers).toMatchObject({
      'Access-Control-Allow-Origin': allowedOrigin,
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type',
      Vary: 'Origin',
    });
    const other = await echo({ __ow_method: 'options', __ow_headers: { origin: 'https://evil.example' } });
    expect(other.statusCode).toBe(204);
    expect(other.headers['Access-Control-Allow-Origin']).toBeUndefined();
    expect(other.headers['Access-Control-Allow-Methods']).toBeUndefined();
    const actual = await echo({ __ow_method: 'post', __ow_headers: { ...json, origin: 'https://evil.example' }, name: 'a' });
    expect(actual.headers['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('refuses other methods with 405 and an Allow header', async () => {
    const response = await echo({ __ow_method: 'get', __ow_headers: {} });
    expect(response.statusCode).toBe(405);
    expect(response.headers.Allow).toBe('POST, OPTIONS');
  });

  it('never throws: an unexpected error is a 500 INTERNAL with the request id and no internals', async () => {
    const failing = webFunction({
      methods: ['post'],
      fields: z.object({}),
      handle: async () => {
        throw new Error('relation "jobs" does not exist');
      },
    });
    const response = await failing({ __ow_method: 'post', __ow_headers: { ...json, origin: allowedOrigin } });
    expect(response.statusCode).toBe(500);
    const error = errorOf(response);
    expect(error.code).toBe('INTERNAL');
    expect(error.requestId).toBe(response.headers['X-Request-Id']);
    expect(JSON.stringify(response.body)).not.toContain('relation');
    expect(response.headers['Access-Control-Allow-Origin']).toBe(allowedOrigin);
  });

  it('passes ApiError status, code and headers through', async () => {
    const limited = webFunction({
      methods: ['post'],
      fields: z.object({}),
      handle: async () => {
        throw new ApiError('RATE_LIMITED', 'Too many.', { headers: { 'Retry-After': '42' } });
      },
    });
    const response = await limited({ __ow_method: 'post', __ow_headers: json });
    expect(response.statusCode).toBe(429);
    expect(response.headers['Retry-After']).toBe('42');
    expect(response.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'Too many.' } });
  });

  it('runs authorize before validation (401 before 400)', async () => {
    const guarded = webFunction({
      methods: ['post'],
      authorize: () => {
        throw new ApiError('UNAUTHORIZED', 'Key required.');
      },
      fields: z.strictObject({ name: z.string() }),
      handle: async () => ({ status: 200, body: {} }),
    });
    const response = await guarded({ __ow_method: 'post', __ow_headers: json, junk: 1 });
    expect(response.statusCode).toBe(401);
  });
});

describe('request bodies', () => {
  const guarded = webFunction({
    methods: ['get', 'post'],
    authorize: (request) => {
      if (request.headers.authorization !== 'Bearer k') throw new ApiError('UNAUTHORIZED', 'Key required.');
    },
    fields: z.strictObject({ name: z.string().optional() }),
    handle: async (input) => ({ status: 201, body: { echoed: input } }),
  });
  const post = (contentType: string | undefined, body = '{"name":"a"}') =>
    guarded({ http: { method: 'POST', headers: { authorization: 'Bearer k', origin: allowedOrigin, ...(contentType === undefined ? {} : { 'content-type': contentType }) }, body } });

  it.each([['text/plain'], ['text/plain;charset=UTF-8'], ['application/x-www-form-urlencoded'], ['multipart/form-data; boundary=x'], ['application/octet-stream'], ['application/json; charset=utf-16'], ['application/jsonx'], [undefined]])(
    'refuses a POST declared %s with 415 UNSUPPORTED_MEDIA_TYPE, before the key is even checked',
    async (contentType) => {
      const response = await post(contentType);
      expect(response.statusCode).toBe(415);
      expect(errorOf(response).code).toBe('UNSUPPORTED_MEDIA_TYPE');
      // The refusal is readable by the allowed origin, like every other answer.
      expect(response.headers['Access-Control-Allow-Origin']).toBe(allowedOrigin);
      const anonymous = await guarded({ http: { method: 'POST', headers: contentType === undefined ? {} : { 'content-type': contentType }, body: '{}' } });
      expect(anonymous.statusCode).toBe(415);
    },
  );

  it('accepts application/json with parameters, in any case', async () => {
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;Charset="UTF-8"', 'application/json;charset=utf8']) {
      expect((await post(contentType)).statusCode, contentType).toBe(201);
    }
  });

  it('refuses a bodiless POST without the JSON type too: its fields would come from the query', async () => {
    const response = await guarded({ __ow_method: 'post', __ow_headers: { authorization: 'Bearer k' }, __ow_query: 'name=a' });
    expect(response.statusCode).toBe(415);
  });

  it('does not ask GET or OPTIONS for a body type', async () => {
    expect((await guarded({ __ow_method: 'get', __ow_headers: { authorization: 'Bearer k' }, __ow_query: 'name=q' })).statusCode).toBe(201);
    expect((await guarded({ __ow_method: 'options', __ow_headers: { origin: allowedOrigin } })).statusCode).toBe(204);
  });
});

describe('with the params the local runtime builds', () => {
  const project = loadProject(rootDir, { unresolved: 'placeholder' });
  const create = project.functions.find((fn) => fn.qualifiedName === 'presign/create');
  if (create === undefined) throw new Error('presign/create missing from project.yml');

  function params(fn: FunctionSpec, method: string, body: string, query = '', contentType = 'application/json') {
    return webParams(fn, {
      method,
      subPath: '',
      query: new URLSearchParams(query),
      headers: { 'content-type': contentType, origin: allowedOrigin },
      body: Buffer.from(body),
      clientAddress: '127.0.0.1',
    });
  }

  it.each([
    ['merged (web: true)', { ...create, web: true as const }],
    ['raw (web: raw)', { ...create, web: 'raw' as const }],
  ])('reads %s bodies and queries, and answers bad JSON in the error format', async (_, fn) => {
    expect((await echo(params(fn, 'POST', '{"name":"a","count":1}'))).body).toEqual({ echoed: { name: 'a', count: 1 } });
    expect((await echo(params(fn, 'POST', '', 'name=q'))).body).toEqual({ echoed: { name: 'q' } });
    const plain = await echo(params(fn, 'POST', '{"name":"t"}', '', 'text/plain'));
    expect([plain.statusCode, errorOf(plain).code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    if (fn.web === 'raw') {
      const bad = await echo(params(fn, 'POST', '{"name":'));
      expect(bad.statusCode).toBe(400);
      expect(errorOf(bad).code).toBe('VALIDATION_FAILED');
      // The platform would refuse this itself in merged mode, outside our error format.
      const reserved = await echo(params(fn, 'POST', '{"name":"a","__ow_method":"get"}'));
      expect([reserved.statusCode, errorOf(reserved).code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    const array = await echo(params(fn, 'POST', '[1]'));
    expect(array.statusCode).toBe(400);
  });
});

describe('toErrorResponse', () => {
  it('maps every code to its catalogue status', () => {
    expect(toErrorResponse(new ApiError('SIZE_LIMIT_EXCEEDED', 'x'), 'r').status).toBe(413);
    expect(toErrorResponse(new ApiError('CONTENT_TYPE_NOT_ALLOWED', 'x'), 'r').status).toBe(415);
    expect(toErrorResponse(new ApiError('SIZE_MISMATCH', 'x'), 'r').status).toBe(422);
    expect(toErrorResponse(new ApiError('UPLOAD_NOT_FOUND', 'x'), 'r').status).toBe(409);
    expect(toErrorResponse(new ApiError('JOB_NOT_FOUND', 'x'), 'r').status).toBe(404);
    expect(toErrorResponse(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'x'), 'r').status).toBe(415);
    expect(toErrorResponse('a string', 'r')).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL', requestId: 'r' } } });
  });
});
