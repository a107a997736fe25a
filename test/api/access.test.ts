// Who may call what, and what `create` accepts: API keys when anonymous uploads are off, the
// per-job token for every other call (a wrong one is indistinguishable from an unknown job), and
// the limits on type, size and filename — each refusal with its status and stable code.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import { createClient, SluiceApiError, type CreateRequest, type SluiceClient } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { databaseFor, jobCount, jobRow, mebibyte, sha256Hex } from './support.js';

const apiKey = 'test-key-0123456789abcdef';
const maxUploadBytes = 10 * mebibyte;

let platform: Platform;
let sql: postgres.Sql;
let client: SluiceClient;

beforeAll(async () => {
  platform = await startTestPlatform({
    env: {
      ALLOW_ANONYMOUS_UPLOADS: 'false',
      API_KEYS: sha256Hex(apiKey),
      MAX_UPLOAD_BYTES: String(maxUploadBytes),
      ALLOWED_CONTENT_TYPES: 'text/csv,text/plain,image/*',
    },
  });
  sql = databaseFor(platform);
  client = createClient({ apiBase: platform.apiBase, apiKey });
});

afterAll(async () => {
  await sql?.end();
  await platform?.stop();
});

async function failure(promise: Promise<unknown>): Promise<SluiceApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SluiceApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const valid: CreateRequest = { filename: 'table.csv', size: 1234, contentType: 'text/csv' };

describe('API keys', () => {
  it('a create without a key, or with a wrong one, is 401 UNAUTHORIZED and creates nothing', async () => {
    const before = await jobCount(sql);
    const anonymous = createClient({ apiBase: platform.apiBase });
    expect(await failure(anonymous.create(valid))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    const wrong = createClient({ apiBase: platform.apiBase, apiKey: 'not-the-key' });
    expect(await failure(wrong.create(valid))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    const malformed = await fetch(anonymous.url('create'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(apiKey)}` },
      body: JSON.stringify(valid),
    });
    expect(malformed.status).toBe(401);
    await malformed.arrayBuffer();
    expect(await jobCount(sql)).toBe(before);
  });

  it('the right key creates the job', async () => {
    const created = await client.create(valid);
    expect(created.upload.kind).toBe('single');
    expect((await jobRow(sql, created.jobId))?.status).toBe('awaiting_upload');
  });
});

describe('job tokens', () => {
  it('a wrong token is answered exactly like an unknown job, on every call', async () => {
    const { jobId, token } = await client.create(valid);
    const wrongToken = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    const calls = {
      parts: (id: string, t: string) => client.parts({ jobId: id, token: t, partNumbers: [1] }),
      complete: (id: string, t: string) => client.complete({ jobId: id, token: t }),
      abort: (id: string, t: string) => client.abort({ jobId: id, token: t }),
      status: (id: string, t: string) => client.status({ jobId: id, token: t }),
    };
    for (const [name, call] of Object.entries(calls)) {
      const wrong = await failure(call(jobId, wrongToken));
      const unknown = await failure(call(randomUUID(), token));
      expect(wrong, name).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
      expect({ status: unknown.status, code: unknown.code, message: unknown.message }, name).toEqual({
        status: wrong.status,
        code: wrong.code,
        message: wrong.message,
      });
    }
    // Nothing the wrong token asked for happened.
    expect((await client.status({ jobId, token })).job.status).toBe('awaiting_upload');
  });

  it('a token of another job does not open this one', async () => {
    const first = await client.create(valid);
    const second = await client.create(valid);
    expect(await failure(client.status({ jobId: first.jobId, token: second.token }))).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
  });
});

describe('create limits', () => {
  it('a type outside ALLOWED_CONTENT_TYPES is 415; a wildcard match is fine', async () => {
    expect(await failure(client.create({ ...valid, contentType: 'application/x-msdownload' }))).toMatchObject({
      status: 415,
      code: 'CONTENT_TYPE_NOT_ALLOWED',
    });
    expect(await failure(client.create({ ...valid, contentType: 'text/html' }))).toMatchObject({ status: 415 });
    expect((await client.create({ ...valid, filename: 'a.png', contentType: 'image/png' })).jobId).toBeTruthy();
  });

  it('more than MAX_UPLOAD_BYTES is 413; exactly the limit is fine', async () => {
    expect(await failure(client.create({ ...valid, size: maxUploadBytes + 1 }))).toMatchObject({ status: 413, code: 'SIZE_LIMIT_EXCEEDED' });
    expect((await client.create({ ...valid, size: maxUploadBytes })).jobId).toBeTruthy();
  });

  it('an empty file is 400 VALIDATION_FAILED', async () => {
    expect(await failure(client.create({ ...valid, size: 0 }))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });
});

describe('hostile filenames', () => {
  it.each([
    ['10 KB name', `${'a'.repeat(10 * 1024)}.csv`],
    ['empty', ''],
    ['only dots', '..'],
    ['nothing visible left', '\u0000\u202E\u200B'],
  ])('%s is refused with 400 VALIDATION_FAILED and creates nothing', async (_label, filename) => {
    const before = await jobCount(sql);
    expect(await failure(client.create({ ...valid, filename }))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await jobCount(sql)).toBe(before);
  });

  // Names with something usable are cleaned rather than refused (src/jobs/filename.ts): the job
  // shows, and the key uses, only the visible last path segment.
  it.each([
    ['parent path', '../../x.csv', 'x.csv'],
    ['Windows parent path', '..\\..\\x.csv', 'x.csv'],
    ['absolute path', '/etc/passwd.csv', 'passwd.csv'],
    ['NUL', 'report\u0000.csv', 'report.csv'],
    ['control character', 'report\u0007.csv', 'report.csv'],
    ['right-to-left override', 'invoice\u202Evsc.exe', 'invoicevsc.exe'],
  ])('%s is cleaned: 201, and nothing hostile reaches the job or the key', async (_label, filename, expected) => {
    const created = await client.create({ ...valid, filename });
    const row = await jobRow(sql, created.jobId);
    expect(row?.filename).toBe(expected);
    expect(row?.object_key).toBe(`uploads/${created.jobId}/${expected}`);
    expect((await client.status(created)).job.filename).toBe(expected);
  });
});
