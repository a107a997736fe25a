// The upload operations (create, parts, complete, abort, status) against real Postgres and the
// SigV4-verifying local S3 server, called directly (the HTTP layer is covered in test/api).
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/api-keys.js';
import { minPartSizeBytes } from '../../src/config.js';
import { findJob, listJobEvents } from '../../src/db/jobs.js';
import { abortUpload } from '../../src/jobs/abort.js';
import { completeUpload } from '../../src/jobs/complete.js';
import { createUpload, type CreatedUpload } from '../../src/jobs/create.js';
import { signParts } from '../../src/jobs/parts.js';
import type { UploadServices } from '../../src/jobs/services.js';
import { jobStatus } from '../../src/jobs/status.js';
import { headObject } from '../../src/storage/spaces.js';
import { apiError, freshClient, startCoreServices, uploadServicesFor, type CoreServices } from './support.js';

let core: CoreServices;
beforeAll(async () => {
  core = await startCoreServices({ spaces: true });
});
afterAll(async () => {
  await core?.stop();
});

const apiKey = 'test-key-1';
const anonymousEnv = { ALLOW_ANONYMOUS_UPLOADS: 'true', MULTIPART_THRESHOLD_BYTES: String(minPartSizeBytes), ALLOWED_CONTENT_TYPES: 'text/*,application/octet-stream' };

function services(env: Record<string, string> = anonymousEnv): UploadServices {
  return uploadServicesFor(core, env);
}

async function putSingle(created: CreatedUpload, body: Buffer): Promise<Response> {
  if (created.upload.kind !== 'single') throw new Error('expected a single upload');
  return fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: new Uint8Array(body) });
}

describe('single upload', () => {
  it('create → PUT → complete queues the job; a second complete returns the same job', async () => {
    const s = services();
    const body = Buffer.from('a,b\n1,2\n');
    const created = await createUpload(s, { filename: '../../data.csv', size: body.length, contentType: 'text/csv' }, freshClient());
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.upload).toMatchObject({ kind: 'single', method: 'PUT', headers: { 'Content-Type': 'text/csv' } });
    const row = await findJob(s.db, created.jobId);
    expect(row).toMatchObject({ filename: 'data.csv', objectKey: `uploads/${created.jobId}/data.csv`, clientId: 'ip:10.0.0.1' });

    expect((await putSingle(created, body)).status).toBe(200);
    const job = await completeUpload(s, { jobId: created.jobId, token: created.token });
    expect(job).toMatchObject({ id: created.jobId, status: 'queued', filename: 'data.csv', size: body.length, contentType: 'text/csv' });
    // No invoke API here: the failed dispatch is recorded and the job waits for the sweep.
    expect(job.events.map((e) => e.event)).toEqual(['created', 'uploaded', 'dispatch_failed']);

    const again = await completeUpload(s, { jobId: created.jobId, token: created.token });
    expect(again.status).toBe('queued');
    expect(again.events.filter((e) => e.event === 'uploaded')).toHaveLength(1);
    expect((await jobStatus(s, { jobId: created.jobId, token: created.token })).id).toBe(created.jobId);
  });

  it('the store refuses a PUT of another length or type (both signed)', async () => {
    const s = services();
    const created = await createUpload(s, { filename: 'x.txt', size: 5, contentType: 'text/plain' }, freshClient());
    if (created.upload.kind !== 'single') throw new Error('expected single');
    const longer = await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: 'abcdef' });
    expect(longer.status).toBeGreaterThanOrEqual(400);
    const otherType = await fetch(created.upload.url, { method: 'PUT', headers: { 'Content-Type': 'text/csv' }, body: 'abcde' });
    expect(otherType.status).toBeGreaterThanOrEqual(400);
    expect(await headObject(s.storage, `uploads/${created.jobId}/x.txt`)).toBeUndefined();
  });

  it('complete before the upload → 409 UPLOAD_NOT_FOUND and the job keeps waiting', async () => {
    const s = services();
    const created = await createUpload(s, { filename: 'late.txt', size: 3, contentType: 'text/plain' }, freshClient());
    const error = await apiError(completeUpload(s, { jobId: created.jobId, token: created.token }));
    expect([error.status, error.code]).toEqual([409, 'UPLOAD_NOT_FOUND']);
    expect((await findJob(s.db, created.jobId))?.status).toBe('awaiting_upload');
    await putSingle(created, Buffer.from('abc'));
    expect((await completeUpload(s, { jobId: created.jobId, token: created.token })).status).toBe('queued');
  });

  it('a different size in the store → 422 SIZE_MISMATCH, job rejected, object deleted; repeated the same way', async () => {
    const s = services();
    const created = await createUpload(s, { filename: 'size.txt', size: 10, contentType: 'text/plain' }, freshClient());
    const key = `uploads/${created.jobId}/size.txt`;
    // Written around the presigned URL, as a misbehaving client with other credentials could.
    await s.storage.client.send(new PutObjectCommand({ Bucket: s.storage.bucket, Key: key, Body: 'short', ContentType: 'text/plain' }));
    const error = await apiError(completeUpload(s, { jobId: created.jobId, token: created.token }));
    expect([error.status, error.code]).toEqual([422, 'SIZE_MISMATCH']);
    expect(await findJob(s.db, created.jobId)).toMatchObject({ status: 'rejected', errorCode: 'SIZE_MISMATCH' });
    expect(await headObject(s.storage, key)).toBeUndefined();
    const again = await apiError(completeUpload(s, { jobId: created.jobId, token: created.token }));
    expect(again.code).toBe('SIZE_MISMATCH');
  });

  it('abort cancels and deletes; abort is idempotent; complete after abort → 409 INVALID_STATE', async () => {
    const s = services();
    const created = await createUpload(s, { filename: 'gone.txt', size: 3, contentType: 'text/plain' }, freshClient());
    await putSingle(created, Buffer.from('abc'));
    expect((await abortUpload(s, { jobId: created.jobId, token: created.token })).status).toBe('cancelled');
    expect(await headObject(s.storage, `uploads/${created.jobId}/gone.txt`)).toBeUndefined();
    expect((await abortUpload(s, { jobId: created.jobId, token: created.token })).status).toBe('cancelled');
    const error = await apiError(completeUpload(s, { jobId: created.jobId, token: created.token }));
    expect([error.status, error.code]).toEqual([409, 'INVALID_STATE']);
  });
});

describe('multipart upload', () => {
  it('refuses part numbers beyond the plan, and parts on a single upload', async () => {
    const s = services();
    const multi = await createUpload(s, { filename: 'm.bin', size: minPartSizeBytes * 2, contentType: 'application/octet-stream' }, freshClient());
    const beyond = await apiError(signParts(s, { jobId: multi.jobId, token: multi.token, partNumbers: [3] }));
    expect(beyond.code).toBe('VALIDATION_FAILED');
    const single = await createUpload(s, { filename: 's.txt', size: 1, contentType: 'text/plain' }, freshClient());
    const noParts = await apiError(signParts(s, { jobId: single.jobId, token: single.token, partNumbers: [1] }));
    expect([noParts.status, noParts.code]).toEqual([409, 'INVALID_STATE']);
  });
});

describe('create checks', () => {
  it('requires a valid key unless anonymous uploads are on; a key is the client id', async () => {
    const keyed = services({ ALLOW_ANONYMOUS_UPLOADS: 'false', API_KEYS: sha256Hex(apiKey), ALLOWED_CONTENT_TYPES: 'text/plain' });
    const request = { filename: 'k.txt', size: 1, contentType: 'text/plain' };
    expect((await apiError(createUpload(keyed, request, freshClient()))).code).toBe('UNAUTHORIZED');
    expect((await apiError(createUpload(keyed, request, { authorization: 'Bearer wrong' }))).status).toBe(401);
    const created = await createUpload(keyed, request, { authorization: `Bearer ${apiKey}` });
    expect((await findJob(keyed.db, created.jobId))?.clientId).toBe(`key:${sha256Hex(apiKey).slice(0, 16)}`);
  });

  it.each([
    [{ filename: 'a.txt', size: 10 ** 12, contentType: 'text/plain' }, 413, 'SIZE_LIMIT_EXCEEDED'],
    [{ filename: 'a.pdf', size: 10, contentType: 'application/pdf' }, 415, 'CONTENT_TYPE_NOT_ALLOWED'],
    [{ filename: '\u202E\u0000/', size: 10, contentType: 'text/plain' }, 400, 'VALIDATION_FAILED'],
  ])('refuses %o with %i %s and creates nothing', async (request, status, code) => {
    const s = services({ ...anonymousEnv, MAX_UPLOAD_BYTES: String(10 ** 9) });
    const [before] = await s.db<{ count: number }[]>`SELECT count(*) AS count FROM jobs`;
    const error = await apiError(createUpload(s, request, freshClient()));
    expect([error.status, error.code]).toEqual([status, code]);
    const [after] = await s.db<{ count: number }[]>`SELECT count(*) AS count FROM jobs`;
    expect(after?.count).toBe(before?.count);
  });

  it('limits uploads per hour and bytes per day per client, with Retry-After', async () => {
    const s = services({ ...anonymousEnv, UPLOADS_PER_HOUR: '2', BYTES_PER_DAY: '100' });
    const client = freshClient();
    const request = { filename: 'r.txt', size: 10, contentType: 'text/plain' };
    await createUpload(s, request, client);
    await createUpload(s, request, client);
    const limited = await apiError(createUpload(s, request, client));
    expect([limited.status, limited.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers['Retry-After'])).toBeGreaterThan(0);
    // Another client is not affected; its bytes are counted on their own.
    const other = freshClient();
    await createUpload(s, { ...request, size: 90 }, other);
    const volume = await apiError(createUpload(s, { ...request, size: 20 }, other));
    expect([volume.code, volume.details?.limit]).toEqual(['RATE_LIMITED', 'bytesPerDay']);
    // The refused request consumed nothing: the hourly count still allows one more.
    await createUpload(s, { ...request, size: 10 }, other);
  });
});

describe('status', () => {
  it('shows the job with its events, and hides it behind the token', async () => {
    const s = services();
    const created = await createUpload(s, { filename: 's.txt', size: 1, contentType: 'text/plain' }, freshClient());
    const job = await jobStatus(s, { jobId: created.jobId, token: created.token });
    expect(job).toMatchObject({ id: created.jobId, status: 'awaiting_upload', attempts: 0, result: null, error: null });
    expect(job.events).toHaveLength(1);
    expect(JSON.stringify(job)).not.toMatch(/token|uploads\/|clientId/);
    expect((await apiError(jobStatus(s, { jobId: created.jobId, token: 'nope' }))).status).toBe(404);
    expect((await listJobEvents(s.db, created.jobId))[0]?.event).toBe('created');
  });
});
