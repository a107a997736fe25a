// `complete` is the trigger that turns an upload into a job, so it must check the bytes are
// really there and are what was declared, and be safe to repeat (docs/api.md, issue 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import type postgres from 'postgres';
import { createClient, jobResponseSchema, type SluiceClient } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { databaseFor, expectQueued, jobRow, mebibyte, objectExists, partSizeBytes, putObjectDirectly, s3ClientFor } from './support.js';

let platform: Platform;
let s3: S3Client;
let sql: postgres.Sql;
let client: SluiceClient;

beforeAll(async () => {
  platform = await startTestPlatform({ env: { MULTIPART_THRESHOLD_BYTES: String(1 * mebibyte) } });
  s3 = s3ClientFor(platform);
  sql = databaseFor(platform);
  client = createClient({ apiBase: platform.apiBase });
});

afterAll(async () => {
  await sql?.end();
  s3?.destroy();
  await platform?.stop();
});

/** Creates a single-PUT job and sends exactly the declared bytes through its presigned URL. */
async function uploadedJob(size: number): Promise<{ jobId: string; token: string }> {
  const created = await client.create({ filename: 'data.txt', size, contentType: 'text/plain' });
  if (created.upload.kind !== 'single') throw new Error('expected a single-PUT plan');
  const response = await fetch(created.upload.url, { method: 'PUT', body: new Uint8Array(size).fill(120), headers: created.upload.headers });
  expect(response.status).toBe(200);
  return { jobId: created.jobId, token: created.token };
}

async function queuedTransitions(jobId: string): Promise<number> {
  const rows = await sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM job_events WHERE job_id = ${jobId} AND from_status = 'awaiting_upload' AND to_status = 'queued'`;
  return rows[0]?.count ?? 0;
}

describe('complete', () => {
  it('before the upload: 409 UPLOAD_NOT_FOUND, and the job keeps waiting for its bytes', async () => {
    const { jobId, token } = await client.create({ filename: 'later.txt', size: 10, contentType: 'text/plain' });
    await expect(client.complete({ jobId, token })).rejects.toMatchObject({ name: 'SluiceApiError', status: 409, code: 'UPLOAD_NOT_FOUND' });
    expect((await client.status({ jobId, token })).job.status).toBe('awaiting_upload');
  });

  it('a multipart upload with parts missing: 409 (none: UPLOAD_NOT_FOUND, some: UPLOAD_INCOMPLETE), and the job keeps waiting', async () => {
    const created = await client.create({ filename: 'parts.bin', size: partSizeBytes + 1, contentType: 'application/octet-stream' });
    expect(created.upload.kind).toBe('multipart');
    await expect(client.complete({ jobId: created.jobId, token: created.token })).rejects.toMatchObject({ status: 409, code: 'UPLOAD_NOT_FOUND' });
    const { parts } = await client.parts({ jobId: created.jobId, token: created.token, partNumbers: [1] });
    const response = await fetch(parts[0]?.url ?? '', { method: 'PUT', body: new Uint8Array(partSizeBytes) });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    await expect(client.complete({ jobId: created.jobId, token: created.token })).rejects.toMatchObject({
      status: 409,
      code: 'UPLOAD_INCOMPLETE',
      details: { missingParts: [2] },
    });
    // A parts list that does not name every part is a malformed request, not a missing upload.
    await expect(client.complete({ jobId: created.jobId, token: created.token, parts: [] })).rejects.toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect((await client.status({ jobId: created.jobId, token: created.token })).job.status).toBe('awaiting_upload');
  });

  it('an object of another size: 422 SIZE_MISMATCH, the job is rejected and the object deleted', async () => {
    const { jobId, token } = await client.create({ filename: 'liar.txt', size: 1000, contentType: 'text/plain' });
    const key = (await jobRow(sql, jobId))?.object_key ?? '';
    // Written behind the presigned URL's back (the URL itself would refuse another length).
    await putObjectDirectly(s3, platform.spaces.bucket, key, new Uint8Array(500), 'text/plain');

    await expect(client.complete({ jobId, token })).rejects.toMatchObject({ status: 422, code: 'SIZE_MISMATCH' });
    const { job } = await client.status({ jobId, token });
    expect(job.status).toBe('rejected');
    expect(job.error?.code).toBe('SIZE_MISMATCH');
    expect(job.events?.at(-1)).toMatchObject({ event: 'rejected', detail: { code: 'SIZE_MISMATCH', storedBytes: 500, declaredBytes: 1000 } });
    expect(await objectExists(s3, platform.spaces.bucket, key)).toBe(false);
    // Rejected is final: completing again changes nothing.
    await expect(client.complete({ jobId, token })).rejects.toMatchObject({ status: expect.any(Number) });
    expect((await client.status({ jobId, token })).job.status).toBe('rejected');
  });

  it('twice, and concurrently: the same job, queued once', async () => {
    const { jobId, token } = await uploadedJob(2048);
    const first = await client.complete({ jobId, token });
    const second = await client.complete({ jobId, token });
    expect(first.job.id).toBe(jobId);
    expect(second.job.id).toBe(jobId);
    expectQueued(first.job);
    expectQueued(second.job);
    expect(await queuedTransitions(jobId)).toBe(1);

    const racing = await uploadedJob(4096);
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.complete(racing)));
    expect(new Set(answers.map((answer) => answer.job.id))).toEqual(new Set([racing.jobId]));
    expect(await queuedTransitions(racing.jobId)).toBe(1);
    const rows = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM jobs WHERE id = ${racing.jobId}`;
    expect(rows[0]?.count).toBe(1);
  });

  it('answers 202 with the job', async () => {
    const { jobId, token } = await uploadedJob(16);
    const response = await fetch(client.url('complete'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobId, token }),
    });
    expect(response.status).toBe(202);
    const body = jobResponseSchema.parse(await response.json());
    expect(body.job.id).toBe(jobId);
    expectQueued(body.job);
  });
});
