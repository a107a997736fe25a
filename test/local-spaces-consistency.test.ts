// The local Spaces stand-in is as consistent as Spaces: an object appears whole or not at all (a
// PUT still arriving, or one cut off, is invisible, and a replacement shows the previous object
// until it is complete), the same for multipart parts, and reads honour If-Match (412
// PreconditionFailed on another ETag), which pins the bytes process/file analyses.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSpaces, type LocalSpaces } from '../src/local/spaces.js';
import { createMultipartUpload, createStorage, headObject, listUploadedParts, presignPut, presignUploadPart, type Storage } from '../src/storage/spaces.js';
import { bytesWrittenSince as bytesWritten, startSlowPut } from './helpers/slow-put.js';

let directory: string;
let spaces: LocalSpaces;
let storage: Storage;

beforeAll(async () => {
  directory = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-spaces-consistency-'));
  spaces = await startLocalSpaces({ directory, bucket: 'sluice-consistency', allowedOrigins: [] });
  storage = createStorage({ ...spaces, forcePathStyle: true });
});

afterAll(async () => {
  storage.client.destroy();
  await spaces.stop();
  await fs.rm(directory, { recursive: true, force: true });
});

/** Bytes of a PUT in flight that have reached the disk under a folder of the bucket. */
function bytesWrittenSince(folder: string, since: number): Promise<number> {
  return bytesWritten(path.join(directory, spaces.bucket, folder), since);
}

/** Files under a folder of the bucket, whatever they hold. */
async function fileCount(folder: string): Promise<number> {
  const entries = await fs.readdir(path.join(directory, spaces.bucket, folder), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).length;
}

async function presignedPut(key: string, size: number): Promise<string> {
  return presignPut(storage, { key, contentType: 'application/octet-stream', contentLength: size, expiresInSeconds: 60 });
}

async function readObject(key: string): Promise<Buffer> {
  const answer = await storage.client.send(new GetObjectCommand({ Bucket: spaces.bucket, Key: key }));
  return Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
}

async function statusOf(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof S3ServiceException) return error.$metadata.httpStatusCode;
    throw error;
  }
}

const octetStream = { 'Content-Type': 'application/octet-stream' };
const mebibyte = 1024 * 1024;

describe('objects appear whole or not at all', () => {
  it('a PUT still arriving is invisible to HEAD and GET, then the whole object appears', async () => {
    const key = 'in-flight/new.bin';
    const body = randomBytes(2 * mebibyte);
    const started = Date.now();
    const put = startSlowPut(await presignedPut(key, body.length), octetStream, body, mebibyte);
    await expect.poll(() => bytesWrittenSince('in-flight', started), { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(mebibyte);

    expect(await headObject(storage, key)).toBeUndefined();
    expect(await statusOf(readObject(key))).toBe(404);

    expect(await put.finish()).toMatchObject({ status: 200 });
    expect(await headObject(storage, key)).toMatchObject({ size: body.length });
    expect((await readObject(key)).equals(body)).toBe(true);
  });

  it('while a replacing PUT arrives, HEAD and GET show the previous object, whole, with its ETag', async () => {
    const key = 'replacing/object.bin';
    const first = randomBytes(2 * mebibyte);
    const url = await presignedPut(key, first.length);
    const stored = await fetch(url, { method: 'PUT', headers: octetStream, body: first });
    expect(stored.status).toBe(200);
    const firstEtag = stored.headers.get('etag');

    const second = randomBytes(first.length);
    const started = Date.now() + 1;
    const put = startSlowPut(url, octetStream, second, mebibyte);
    await expect.poll(() => bytesWrittenSince('replacing', started), { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(mebibyte);

    expect(await headObject(storage, key)).toEqual({ size: first.length, contentType: 'application/octet-stream', etag: firstEtag });
    expect((await readObject(key)).equals(first)).toBe(true);

    const done = await put.finish();
    expect(done.status).toBe(200);
    expect(done.etag).not.toBe(firstEtag);
    expect(await headObject(storage, key)).toMatchObject({ size: second.length, etag: done.etag });
    expect((await readObject(key)).equals(second)).toBe(true);
  });

  it('a PUT cut off half-way leaves nothing behind', async () => {
    const key = 'cut-off/never.bin';
    const body = randomBytes(2 * mebibyte);
    const started = Date.now();
    const put = startSlowPut(await presignedPut(key, body.length), octetStream, body, mebibyte);
    await expect.poll(() => bytesWrittenSince('cut-off', started), { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(mebibyte);
    put.abort();

    // The store notices the cut connection and drops what it had received.
    await expect.poll(() => fileCount('cut-off'), { timeout: 10_000, interval: 20 }).toBe(0);
    expect(await headObject(storage, key)).toBeUndefined();
  });

  it('a part still arriving is not listed, and a part uploaded again is listed with the new bytes only once they are all in', async () => {
    const key = 'parts/object.bin';
    const uploadId = await createMultipartUpload(storage, key, 'application/octet-stream');
    const partUrl = () => presignUploadPart(storage, { key, uploadId, partNumber: 1, contentLength: 2 * mebibyte, expiresInSeconds: 60 });
    const first = randomBytes(2 * mebibyte);
    const uploads = '._S3rver_uploads';
    const started = Date.now();
    const put = startSlowPut(await partUrl(), {}, first, mebibyte);
    await expect.poll(() => bytesWrittenSince(uploads, started), { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(mebibyte);
    expect(await listUploadedParts(storage, key, uploadId)).toEqual([]);
    const firstDone = await put.finish();
    expect(await listUploadedParts(storage, key, uploadId)).toEqual([{ partNumber: 1, etag: firstDone.etag, size: first.length }]);

    // A retried part: until its bytes are all in, the part listed is the first one, whole.
    const againStarted = Date.now() + 1;
    const again = startSlowPut(await partUrl(), {}, randomBytes(2 * mebibyte), mebibyte);
    await expect.poll(() => bytesWrittenSince(uploads, againStarted), { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(mebibyte);
    expect(await listUploadedParts(storage, key, uploadId)).toEqual([{ partNumber: 1, etag: firstDone.etag, size: first.length }]);
    const againDone = await again.finish();
    expect(await listUploadedParts(storage, key, uploadId)).toEqual([{ partNumber: 1, etag: againDone.etag, size: first.length }]);
  });
});

describe('If-Match on reads', () => {
  const key = 'pinned/object.txt';
  let etag: string;

  beforeAll(async () => {
    const answer = await storage.client.send(new PutObjectCommand({ Bucket: spaces.bucket, Key: key, Body: 'the bytes complete checked\n', ContentType: 'text/plain' }));
    etag = answer.ETag ?? '';
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  const get = (input: { IfMatch?: string; Range?: string }) => storage.client.send(new GetObjectCommand({ Bucket: spaces.bucket, Key: key, ...input }));
  const head = (input: { IfMatch?: string }) => storage.client.send(new HeadObjectCommand({ Bucket: spaces.bucket, Key: key, ...input }));

  it('serves the object when the ETag matches (or is *), with a Range too', async () => {
    expect(await (await get({ IfMatch: etag })).Body?.transformToString()).toBe('the bytes complete checked\n');
    expect(await (await get({ IfMatch: '*' })).Body?.transformToString()).toBe('the bytes complete checked\n');
    expect(await (await get({ IfMatch: `"0123", ${etag}` })).Body?.transformToString()).toBe('the bytes complete checked\n');
    const ranged = await get({ IfMatch: etag, Range: 'bytes=4-' });
    expect(ranged.ContentRange).toBe('bytes 4-26/27');
    expect(await ranged.Body?.transformToString()).toBe('bytes complete checked\n');
    expect((await head({ IfMatch: etag })).ContentLength).toBe(27);
  });

  it('answers 412 PreconditionFailed for another ETag, on GET, ranged GET and HEAD', async () => {
    const other = '"00000000000000000000000000000000"';
    await expect(get({ IfMatch: other })).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    await expect(get({ IfMatch: other, Range: 'bytes=4-' })).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    // Quotes are part of an entity tag (RFC 9110 §8.8.3): the bare hex is another tag.
    await expect(get({ IfMatch: etag.slice(1, -1) })).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await expect(head({ IfMatch: other })).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
  });

  it('answers 404 for a missing key whatever If-Match says', async () => {
    const missing = storage.client.send(new GetObjectCommand({ Bucket: spaces.bucket, Key: 'pinned/missing.txt', IfMatch: etag }));
    await expect(missing).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });
});
