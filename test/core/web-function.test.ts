// The web-function adapter with hand-built params in both shapes the platform uses.
import { S3ServiceException } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { webAnswerMarginMs } from '../../src/config.js';
import { DatabaseUnavailableError } from '../../src/db/client.js';
import { ApiError, toErrorResponse } from '../../src/errors.js';
import { webFunction, type WebResponse } from '../../src/http/web-function.js';
import { webParams } from '../../src/local/functions/web.js';
import { loadProject, type FunctionSpec } from '../../src/local/project.js';
import { StorageError } from '../../src/storage/spaces.js';
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

describe('outages', () => {
  const failingWith = (error: unknown) =>
    webFunction({
      methods: ['post'],
      fields: z.object({}),
      handle: async () => {
        throw error;
      },
    });
  const call = (fn: ReturnType<typeof failingWith>) => fn({ __ow_method: 'post', __ow_headers: { ...json, origin: allowedOrigin } });

  it('answers the database being unavailable with 503 SERVICE_UNAVAILABLE, Retry-After and the request id', async () => {
    const response = await call(failingWith(new DatabaseUnavailableError('The database did not answer within 4000 ms')));
    expect(response.statusCode).toBe(503);
    expect(errorOf(response)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/database/), requestId: response.headers['X-Request-Id'] });
    expect(Number(response.headers['Retry-After'])).toBeGreaterThan(0);
    expect(response.headers['Access-Control-Allow-Origin']).toBe(allowedOrigin);
    expect(JSON.stringify(response.body)).not.toContain('4000 ms');
  });

  it('answers a storage timeout, an unreachable store or one failing on its side with 503, also when wrapped', async () => {
    const timeout = new StorageError('STORAGE_TIMEOUT', 'HeadObject: the store did not answer within 5 s.');
    const refused = new StorageError('STORAGE_UNREACHABLE', 'HeadObject: the store refused or dropped the connection on every try.');
    const slowDown = new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' });
    for (const error of [timeout, refused, slowDown, new Error('complete: could not check the object', { cause: timeout })]) {
      const response = await call(failingWith(error));
      expect([response.statusCode, errorOf(response).code], error.message).toEqual([503, 'SERVICE_UNAVAILABLE']);
      expect(errorOf(response).message).toMatch(/store/);
    }
  });

  it('keeps other failures 500 INTERNAL: a refused statement, a store refusal, a changed object, a bare socket error, a plain bug', async () => {
    const missingTable = Object.assign(new Error('relation "jobs" does not exist'), { code: '42P01' });
    const forbidden = new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' });
    const changed = new StorageError('OBJECT_CHANGED', 'The object is not the one checked at complete.');
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    for (const error of [missingTable, forbidden, changed, socket, new TypeError('x is undefined')]) {
      const response = await call(failingWith(error));
      expect([response.statusCode, errorOf(response).code], error.message).toEqual([500, 'INTERNAL']);
    }
  });

  describe('the answer deadline', () => {
    let savedDeadline: string | undefined;
    beforeEach(() => {
      savedDeadline = process.env.__OW_DEADLINE;
    });
    afterEach(() => {
      if (savedDeadline === undefined) delete process.env.__OW_DEADLINE;
      else process.env.__OW_DEADLINE = savedDeadline;
    });

    it('answers 503 with Retry-After before __OW_DEADLINE when the work hangs, instead of being killed at the limit', async () => {
      const hanging = webFunction({ methods: ['post'], fields: z.object({}), handle: () => new Promise<never>(() => undefined) });
      const deadlineMs = Date.now() + webAnswerMarginMs + 300;
      process.env.__OW_DEADLINE = String(deadlineMs);
      const response = await hanging({ __ow_method: 'post', __ow_headers: json });
      expect(Date.now()).toBeLessThan(deadlineMs);
      expect(response.statusCode).toBe(503);
      expect(errorOf(response).code).toBe('SERVICE_UNAVAILABLE');
      expect(response.headers['Retry-After']).toBeDefined();
    });

    it('still sends the reply when only the after-reply work runs late', async () => {
      const lateAfter = webFunction({
        methods: ['post'],
        fields: z.object({}),
        handle: async () => ({ status: 200, body: { ok: true } }),
        afterReply: () => new Promise<never>(() => undefined),
      });
      process.env.__OW_DEADLINE = String(Date.now() + webAnswerMarginMs + 300);
      const response = await lateAfter({ __ow_method: 'post', __ow_headers: json });
      expect([response.statusCode, response.body]).toEqual([200, { ok: true }]);
    });
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
    expect(toErrorResponse(new ApiError('SERVICE_UNAVAILABLE', 'x'), 'r').status).toBe(503);
    expect(toErrorResponse('a string', 'r')).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL', requestId: 'r' } } });
  });
});
