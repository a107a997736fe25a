// Spaces has no bucket notifications, so the sweep looks for the bytes of uploads whose client never
// called `complete`, once the URLs they were given have expired (before that, the client may still
// be uploading: sweep-in-flight.test.ts): found (a single PUT, or every part of a multipart upload)
// → completed exactly as `complete` would and processed; not there → left waiting, and past the
// upload window expired with its multipart upload aborted and any object deleted.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { singlePutUrlExpirySeconds } from '../../src/config.js';
import { headObject, listUploadedParts } from '../../src/storage/spaces.js';
import { bytes } from '../analyzers/fixtures.js';
import { startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;
const mebibyte = 1024 * 1024;

beforeAll(async () => {
  // Multipart from 1 MiB (parts are 8 MiB), so a 9 MiB file is two parts.
  p = await startProcessingPlatform({ MULTIPART_THRESHOLD_BYTES: String(mebibyte) });
  await p.holdActivitySweeps();
});

afterAll(async () => {
  await p?.stop();
});

/** As if the job had been created long enough ago for its upload URLs to have expired (15 minutes). */
async function outliveUploadUrls(jobId: string): Promise<void> {
  await p.db`UPDATE jobs SET created_at = created_at - make_interval(secs => ${singlePutUrlExpirySeconds + 1}) WHERE id = ${jobId}`;
}

/** The upload window closing, without waiting 24 hours. */
async function closeUploadWindow(jobId: string): Promise<void> {
  await p.db`UPDATE jobs SET expires_at = now() - interval '1 second' WHERE id = ${jobId}`;
}


describe('the sweep and uploads nobody completed', () => {
  it('processes a single PUT whose client vanished before complete', async () => {
    const { jobId } = await p.uploadWithoutComplete(bytes('k,v\na,1\nb,2\n'), 'orphan.csv', 'text/csv');
    expect((await p.job(jobId)).status).toBe('awaiting_upload');
    await outliveUploadUrls(jobId);

    const result = await p.sweep();
    expect(result).toMatchObject({ skipped: false, uploadsQueued: 1 });
    await expect.poll(async () => (await p.job(jobId)).status, { timeout: 10_000, interval: 50 }).toBe('succeeded');

    const job = await p.job(jobId);
    expect(job.result).toHaveProperty('csv.rows', 2);
    const uploaded = (await p.events(jobId)).find((event) => event.event === 'uploaded');
    // Queued by the sweep's activation, not by a `complete` call.
    expect(p.activation(uploaded?.activationId ?? '')?.name).toBe('sweep');
  });

  it('completes a multipart upload whose parts are all there, then processes it', async () => {
    const data = randomBytes(9 * mebibyte);
    const { jobId } = await p.uploadWithoutComplete(data, 'orphan.bin', 'application/octet-stream');
    const before = await p.job(jobId);
    expect(before).toMatchObject({ status: 'awaiting_upload', uploadKind: 'multipart', partCount: 2 });
    await outliveUploadUrls(jobId);

    await p.sweepUntil(jobId, 'succeeded');
    expect((await p.job(jobId)).result).toHaveProperty('file.size', data.length);
    expect(await headObject(p.storage, before.objectKey)).toMatchObject({ size: data.length });
  });

  it('leaves a half-uploaded multipart upload waiting, then expires it and aborts the upload', async () => {
    const created = await p.client.create({ filename: 'half.bin', size: 9 * mebibyte, contentType: 'application/octet-stream' });
    expect(created.upload.kind).toBe('multipart');
    const { parts } = await p.client.parts({ jobId: created.jobId, token: created.token, partNumbers: [1] });
    const put = await fetch(parts[0]?.url ?? '', { method: 'PUT', body: randomBytes(8 * mebibyte) });
    expect(put.status).toBe(200);
    const job = await p.job(created.jobId);
    expect(await listUploadedParts(p.storage, job.objectKey, job.uploadId ?? '')).toHaveLength(1);
    await outliveUploadUrls(created.jobId);

    // Within its window: the client may still come back for part 2.
    expect(await p.sweep()).toMatchObject({ uploadsWaiting: 1, uploadsQueued: 0, uploadsExpired: 0 });
    expect((await p.job(created.jobId)).status).toBe('awaiting_upload');

    await closeUploadWindow(created.jobId);
    expect(await p.sweep()).toMatchObject({ uploadsExpired: 1 });
    expect(await p.job(created.jobId)).toMatchObject({ status: 'expired', errorCode: 'UPLOAD_EXPIRED' });
    // The multipart upload is gone (its stored part freed) and no object was left behind.
    expect(await listUploadedParts(p.storage, job.objectKey, job.uploadId ?? '')).toBeUndefined();
    expect(await headObject(p.storage, job.objectKey)).toBeUndefined();
    const { job: view } = await p.client.status({ jobId: created.jobId, token: created.token });
    expect(view).toMatchObject({ status: 'expired', error: { code: 'UPLOAD_EXPIRED' } });
  });

  it('expires an upload never made, once its window has closed', async () => {
    const created = await p.client.create({ filename: 'never.txt', size: 10, contentType: 'text/plain' });
    await p.sweep();
    expect((await p.job(created.jobId)).status).toBe('awaiting_upload');
    await closeUploadWindow(created.jobId);
    await p.sweepUntil(created.jobId, 'expired');
    expect((await p.events(created.jobId)).map((event) => event.event)).toEqual(['created', 'expired']);
  });
});
