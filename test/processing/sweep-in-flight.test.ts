// The sweep and uploads still in flight. A browser's PUT can take minutes; the sweep must neither
// judge nor delete bytes that are still arriving. It leaves an upload alone while the URLs it was
// given can still start a PUT, and after that an upload whose bytes are still arriving is, as on
// Spaces, simply not there yet (the store shows an object whole or not at all).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { singlePutUrlExpirySeconds } from '../../src/config.js';
import { startProxiedSpaces, type ProxiedSpaces } from '../helpers/faulty-proxy.js';
import { bytesWrittenSince, startSlowPut } from '../helpers/slow-put.js';
import { startProcessingPlatform, type ProcessingPlatform } from './support.js';

let stored: ProxiedSpaces;
let p: ProcessingPlatform;
const mebibyte = 1024 * 1024;

beforeAll(async () => {
  // Through the proxy only to see which requests the sweep makes; no fault is injected here.
  stored = await startProxiedSpaces();
  p = await startProcessingPlatform(stored.env);
  await p.holdActivitySweeps();
});

afterAll(async () => {
  await p?.stop();
  await stored?.stop();
});

/** As if the job had been created long enough ago for every URL it was given to have expired. */
async function outliveUploadUrls(jobId: string): Promise<void> {
  await p.db`UPDATE jobs SET created_at = created_at - make_interval(secs => ${singlePutUrlExpirySeconds + 1}) WHERE id = ${jobId}`;
}

/** A job whose single PUT has sent its first half: the bytes are on the store's disk, the rest still to come. */
async function halfUploaded(size: number) {
  const created = await p.client.create({ filename: 'slow.bin', size, contentType: 'application/octet-stream' });
  if (created.upload.kind !== 'single') throw new Error('expected a single PUT');
  const job = await p.job(created.jobId);
  const body = randomBytes(size);
  const started = Date.now();
  const put = startSlowPut(created.upload.url, created.upload.headers, body, size / 2);
  const folder = path.join(stored.directory, stored.spaces.bucket, path.posix.dirname(job.objectKey));
  await expect.poll(() => bytesWrittenSince(folder, started), { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(size / 2);
  return { ...created, job, put };
}

function headsOf(objectKey: string): number {
  return stored.proxy.requests.filter((request) => request.method === 'HEAD' && request.path.endsWith(objectKey)).length;
}

describe('the sweep and uploads in flight', () => {
  it('leaves an upload alone while its URL can still start a PUT: no HEAD, no verdict', async () => {
    const { jobId, token, job, put } = await halfUploaded(2 * mebibyte);

    const swept = await p.sweep();
    expect(swept).toMatchObject({ skipped: false, uploadsRejected: 0, uploadsQueued: 0, errors: 0 });
    expect(headsOf(job.objectKey)).toBe(0);
    expect(await p.job(jobId)).toMatchObject({ status: 'awaiting_upload', uploadCheckedAt: null });

    expect(await put.finish()).toMatchObject({ status: 200 });
    await p.client.complete({ jobId, token });
    await expect.poll(async () => (await p.job(jobId)).status, { timeout: 15_000, interval: 50 }).toBe('succeeded');
    expect((await p.job(jobId)).result).toHaveProperty('file.size', 2 * mebibyte);
  });

  it('takes up an upload whose client vanished once its URL has expired, not before', async () => {
    const { jobId } = await p.uploadWithoutComplete(randomBytes(1024), 'vanished.bin', 'application/octet-stream');
    expect(await p.sweep()).toMatchObject({ uploadsQueued: 0 });
    expect((await p.job(jobId)).status).toBe('awaiting_upload');

    await outliveUploadUrls(jobId);
    expect(await p.sweep()).toMatchObject({ uploadsQueued: 1 });
    await expect.poll(async () => (await p.job(jobId)).status, { timeout: 15_000, interval: 50 }).toBe('succeeded');
  });

  it('an older upload whose PUT is still arriving is waiting, not rejected, and is processed once the bytes are in', async () => {
    const { jobId, job, put } = await halfUploaded(2 * mebibyte);
    await outliveUploadUrls(jobId);

    const swept = await p.sweep();
    expect(headsOf(job.objectKey)).toBe(1);
    expect(swept).toMatchObject({ uploadsWaiting: 1, uploadsRejected: 0, uploadsQueued: 0 });
    expect((await p.job(jobId)).status).toBe('awaiting_upload');

    expect(await put.finish()).toMatchObject({ status: 200 });
    await p.sweepUntil(jobId, 'succeeded');
    expect((await p.job(jobId)).result).toHaveProperty('file.size', 2 * mebibyte);
  });
});
