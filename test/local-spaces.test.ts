// The local Spaces stand-in: a private bucket that accepts only correctly signed, unexpired
// requests, with the CORS rule a browser upload needs (docs/platform-facts.md "Spaces").
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSpaces, type LocalSpaces, type LocalSpacesRequest } from '../src/local/spaces.js';
import { abortMultipartUpload, createStorage, listUploadedParts, type Storage } from '../src/storage/spaces.js';

const allowedOrigin = 'http://allowed.test';
const otherOrigin = 'http://elsewhere.test';

let directory: string;
let spaces: LocalSpaces;
let client: S3Client;
/** The project's own client (src/storage/spaces.ts), as the functions use it. */
let storage: Storage;
const requests: LocalSpacesRequest[] = [];

function clientFor(credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  const s3 = new S3Client({
    endpoint: spaces.endpoint,
    region: spaces.region,
    credentials,
    forcePathStyle: true,
    // Current SDK defaults add CRC32 checksums that break presigned PUTs (docs/platform-facts.md "Spaces").
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  // The SDK sends bucket-level requests as `/bucket/`; s3rver signs `/bucket` (docs/platform-facts.md).
  s3.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { path?: unknown };
      if (typeof request.path === 'string' && /^\/[^/]+\/$/.test(request.path)) request.path = request.path.slice(0, -1);
      return next(args);
    },
    { step: 'build', name: 'stripBucketTrailingSlash' },
  );
  return s3;
}

async function objectExists(key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: spaces.bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'NotFound') return false;
    throw error;
  }
}

/** A presigned PUT that signs the exact Content-Type and Content-Length, as presign/create does. */
function presignPut(key: string, body: string, contentType: string, options: { expiresIn?: number; signingDate?: Date } = {}) {
  return getSignedUrl(client, new PutObjectCommand({ Bucket: spaces.bucket, Key: key, ContentType: contentType, ContentLength: Buffer.byteLength(body) }), {
    expiresIn: options.expiresIn ?? 60,
    signableHeaders: new Set(['content-type']),
    ...(options.signingDate ? { signingDate: options.signingDate } : {}),
  });
}

beforeAll(async () => {
  directory = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-spaces-test-'));
  spaces = await startLocalSpaces({
    directory,
    port: 0,
    bucket: 'sluice-test',
    allowedOrigins: [allowedOrigin],
    onRequest: (request) => requests.push(request),
  });
  client = clientFor(spaces);
  storage = createStorage({ ...spaces, forcePathStyle: true });
});

afterAll(async () => {
  client.destroy();
  storage.client.destroy();
  await spaces.stop();
  await fs.rm(directory, { recursive: true, force: true });
});

describe('startLocalSpaces', () => {
  it('serves an existing, private bucket on 127.0.0.1', async () => {
    expect(spaces.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: spaces.bucket }));
    expect(listed.KeyCount).toBe(0);

    const anonymousList = await fetch(`${spaces.endpoint}/${spaces.bucket}`);
    expect(anonymousList.status).toBe(403);
    const anonymousPut = await fetch(`${spaces.endpoint}/${spaces.bucket}/anonymous.txt`, { method: 'PUT', body: 'x' });
    expect(anonymousPut.status).toBe(403);
    expect(await objectExists('anonymous.txt')).toBe(false);
  });

  it('accepts only its own key pair, not s3rver\'s well-known one or a wrong secret', async () => {
    for (const credentials of [
      { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      { accessKeyId: spaces.accessKeyId, secretAccessKey: 'not-the-secret' },
    ]) {
      const intruder = clientFor(credentials);
      const attempt = intruder.send(new PutObjectCommand({ Bucket: spaces.bucket, Key: 'intruder.txt', Body: 'x' }));
      await expect(attempt).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      intruder.destroy();
    }
    expect(await objectExists('intruder.txt')).toBe(false);
  });

  it('stores the bytes of a presigned PUT, with no checksum parameters in the URL', async () => {
    const body = 'name,size\nreport.csv,42\n';
    const url = await presignPut('uploads/ok/report.csv', body, 'text/csv');
    expect(url).not.toMatch(/x-amz-(sdk-)?checksum/i);
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');

    const response = await fetch(url, { method: 'PUT', body, headers: { 'Content-Type': 'text/csv' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);

    const stored = await client.send(new GetObjectCommand({ Bucket: spaces.bucket, Key: 'uploads/ok/report.csv' }));
    expect(stored.ContentType).toBe('text/csv');
    expect(await stored.Body?.transformToString()).toBe(body);
  });

  it('rejects a tampered presigned URL and stores nothing', async () => {
    const body = 'tampered';
    const url = new URL(await presignPut('uploads/signed/a.txt', body, 'text/plain'));

    const otherKey = new URL(url);
    otherKey.pathname = `/${spaces.bucket}/uploads/signed/b.txt`;
    const longerExpiry = new URL(url);
    longerExpiry.searchParams.set('X-Amz-Expires', '604800');

    for (const tampered of [otherKey, longerExpiry]) {
      const response = await fetch(tampered, { method: 'PUT', body, headers: { 'Content-Type': 'text/plain' } });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
    expect(await objectExists('uploads/signed/a.txt')).toBe(false);
    expect(await objectExists('uploads/signed/b.txt')).toBe(false);
  });

  it('rejects an expired presigned URL and stores nothing', async () => {
    const body = 'late';
    // Signed two minutes ago for one minute: expired without waiting.
    const url = await presignPut('uploads/late/a.txt', body, 'text/plain', { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) });
    const response = await fetch(url, { method: 'PUT', body, headers: { 'Content-Type': 'text/plain' } });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Request has expired');
    expect(await objectExists('uploads/late/a.txt')).toBe(false);
  });

  it('rejects a PUT whose Content-Type or Content-Length differs from the signed one', async () => {
    const body = '{"a":1}';
    const url = await presignPut('uploads/typed/a.json', body, 'application/json');

    const otherType = await fetch(url, { method: 'PUT', body, headers: { 'Content-Type': 'text/html' } });
    expect(otherType.status).toBe(403);
    const otherLength = await fetch(url, { method: 'PUT', body: `${body} `, headers: { 'Content-Type': 'application/json' } });
    expect(otherLength.status).toBe(403);
    expect(await objectExists('uploads/typed/a.json')).toBe(false);
  });

  it('answers CORS for the allowed origin, ETag exposed, and not for another origin', async () => {
    const objectUrl = `${spaces.endpoint}/${spaces.bucket}/uploads/cors/a.txt`;
    const preflight = (origin: string) =>
      fetch(objectUrl, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
      });

    const allowed = await preflight(allowedOrigin);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toMatch(new RegExp(`^(\\*|${allowedOrigin})$`));
    expect(allowed.headers.get('access-control-allow-methods')?.split(', ')).toEqual(expect.arrayContaining(['PUT', 'POST', 'GET', 'HEAD', 'DELETE']));
    expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type');

    const denied = await preflight(otherOrigin);
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();

    // The actual (signed) request is where the browser reads ETag: it must be exposed.
    const body = 'cors';
    const url = await presignPut('uploads/cors/a.txt', body, 'text/plain');
    const put = await fetch(url, { method: 'PUT', body, headers: { 'Content-Type': 'text/plain', Origin: allowedOrigin } });
    expect(put.status).toBe(200);
    expect(put.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    expect(put.headers.get('access-control-expose-headers')).toBe('ETag');
    expect(Number(put.headers.get('access-control-max-age'))).toBeGreaterThan(0);

    const foreign = await fetch(url, { method: 'PUT', body, headers: { 'Content-Type': 'text/plain', Origin: otherOrigin } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(foreign.headers.get('access-control-expose-headers')).toBeNull();
  });

  it('completes a multipart upload from presigned part URLs and reports each request', async () => {
    const key = 'uploads/multi/data.bin';
    const parts = ['first part ', 'second part'];
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: spaces.bucket, Key: key, ContentType: 'application/octet-stream' }));
    const uploadId = created.UploadId ?? '';
    const before = requests.length;

    const etags: string[] = [];
    for (const [index, part] of parts.entries()) {
      const url = await getSignedUrl(client, new UploadPartCommand({ Bucket: spaces.bucket, Key: key, UploadId: uploadId, PartNumber: index + 1 }), { expiresIn: 60 });
      const response = await fetch(url, { method: 'PUT', body: part, headers: { Origin: allowedOrigin } });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-expose-headers')).toBe('ETag');
      etags.push(response.headers.get('etag') ?? '');
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: spaces.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
    const stored = await client.send(new GetObjectCommand({ Bucket: spaces.bucket, Key: key }));
    expect(await stored.Body?.transformToString()).toBe(parts.join(''));

    // `close` fires after the response is sent, so the last report may trail the fetch by a tick.
    await expect.poll(() => requests.length).toBeGreaterThanOrEqual(before + 3);
    const partPuts = requests.slice(before).filter((r) => r.method === 'PUT' && /[?&]partNumber=\d+/.test(r.url));
    expect(partPuts.map((r) => [new URL(r.url, spaces.endpoint).searchParams.get('partNumber'), r.status])).toEqual([
      ['1', 200],
      ['2', 200],
    ]);
  });

  it('applies the origins of each start to a persistent store, and stop frees the port', async () => {
    const persistent = path.join(directory, 'persistent');
    const first = await startLocalSpaces({ directory: persistent, bucket: 'sluice-keep', allowedOrigins: [allowedOrigin] });
    await first.stop();
    await first.stop();
    await expect(fetch(`${first.endpoint}/`)).rejects.toThrow();

    const second = await startLocalSpaces({ directory: persistent, bucket: 'sluice-keep', allowedOrigins: [otherOrigin] });
    try {
      const preflight = (origin: string) =>
        fetch(`${second.endpoint}/sluice-keep/a.txt`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT' } });
      expect((await preflight(otherOrigin)).status).toBe(200);
      expect((await preflight(allowedOrigin)).status).toBe(403);
    } finally {
      await second.stop();
    }
  });
});

describe('ListParts and AbortMultipartUpload (which s3rver lacks)', () => {
  const partBodies = ['a'.repeat(10), 'b'.repeat(20), 'c'.repeat(5)];

  interface Started {
    key: string;
    uploadId: string;
    /** UploadPart's ETag for part n at index n - 1. */
    etags: string[];
  }

  async function startUpload(key: string, bodies = partBodies): Promise<Started> {
    const created = await storage.client.send(new CreateMultipartUploadCommand({ Bucket: spaces.bucket, Key: key, ContentType: 'application/octet-stream' }));
    const uploadId = created.UploadId ?? '';
    const etags: string[] = [];
    // Last part first: the listing must be in part-number order, not upload order.
    for (let index = bodies.length - 1; index >= 0; index -= 1) {
      const answer = await storage.client.send(new UploadPartCommand({ Bucket: spaces.bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: bodies[index] }));
      etags[index] = answer.ETag ?? '';
    }
    return { key, uploadId, etags };
  }

  function listParts(upload: { key: string; uploadId: string }, page: { MaxParts?: number; PartNumberMarker?: string } = {}) {
    return storage.client.send(new ListPartsCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId, ...page }));
  }

  function uploadDirectory(uploadId: string): string {
    return path.join(directory, spaces.bucket, '._S3rver_uploads', uploadId);
  }

  async function exists(file: string): Promise<boolean> {
    return fs.access(file).then(
      () => true,
      () => false,
    );
  }

  const noSuchUpload = { name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } };
  const unknownUploadId = 'f'.repeat(32);

  it('lists the uploaded parts in order with the sizes and ETags UploadPart returned', async () => {
    const upload = await startUpload('uploads/list/three.bin');
    expect(upload.etags).toEqual(partBodies.map(() => expect.stringMatching(/^"[0-9a-f]{32}"$/)));
    const before = new Date(Date.now() - 60_000);

    const listed = await listParts(upload);
    expect(listed).toMatchObject({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId, MaxParts: 1000, IsTruncated: false, NextPartNumberMarker: '3' });
    expect(listed.Parts?.map((part) => [part.PartNumber, part.ETag, part.Size])).toEqual(partBodies.map((body, index) => [index + 1, upload.etags[index], body.length]));
    for (const part of listed.Parts ?? []) expect(part.LastModified?.getTime()).toBeGreaterThan(before.getTime());

    // The project's own helper (presign/parts and complete use it) sees the same parts.
    expect(await listUploadedParts(storage, upload.key, upload.uploadId)).toEqual(
      partBodies.map((body, index) => ({ partNumber: index + 1, etag: upload.etags[index], size: body.length })),
    );
    // An upload with no part yet lists none.
    const empty = await storage.client.send(new CreateMultipartUploadCommand({ Bucket: spaces.bucket, Key: 'uploads/list/empty.bin' }));
    expect((await listParts({ key: 'uploads/list/empty.bin', uploadId: empty.UploadId ?? '' })).Parts ?? []).toEqual([]);
  });

  it('pages with MaxParts and PartNumberMarker', async () => {
    const upload = await startUpload('uploads/list/paged.bin');
    const first = await listParts(upload, { MaxParts: 2 });
    expect(first.Parts?.map((part) => part.PartNumber)).toEqual([1, 2]);
    expect(first).toMatchObject({ IsTruncated: true, MaxParts: 2, NextPartNumberMarker: '2' });

    const second = await listParts(upload, { MaxParts: 2, PartNumberMarker: first.NextPartNumberMarker ?? '' });
    expect(second.Parts?.map((part) => [part.PartNumber, part.ETag])).toEqual([[3, upload.etags[2]]]);
    expect(second).toMatchObject({ IsTruncated: false, PartNumberMarker: '2', NextPartNumberMarker: '3' });

    await expect(listParts(upload, { MaxParts: -1 })).rejects.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } });
  });

  it('answers NoSuchUpload for an unknown upload, a malformed id, or another key', async () => {
    const upload = await startUpload('uploads/list/known.bin', ['x']);
    for (const call of [
      { key: upload.key, uploadId: unknownUploadId },
      { key: upload.key, uploadId: '../../..' },
      { key: 'uploads/list/other.bin', uploadId: upload.uploadId },
    ]) {
      await expect(listParts(call)).rejects.toMatchObject(noSuchUpload);
      await expect(storage.client.send(new AbortMultipartUploadCommand({ Bucket: spaces.bucket, Key: call.key, UploadId: call.uploadId }))).rejects.toMatchObject(noSuchUpload);
    }
    for (const uploadId of [unknownUploadId, '../../..']) {
      await expect(storage.client.send(new UploadPartCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: uploadId, PartNumber: 1, Body: 'y' }))).rejects.toMatchObject(noSuchUpload);
    }
    expect(await listUploadedParts(storage, upload.key, unknownUploadId)).toBeUndefined();
    expect(await exists(uploadDirectory(unknownUploadId))).toBe(false);
    expect((await listParts(upload)).Parts?.map((part) => [part.PartNumber, part.ETag])).toEqual([[1, upload.etags[0]]]);
  });

  it('aborts: the parts are deleted from disk, then ListParts, UploadPart, Complete and Abort say NoSuchUpload', async () => {
    const upload = await startUpload('uploads/abort/gone.bin');
    expect(await exists(path.join(uploadDirectory(upload.uploadId), '1'))).toBe(true);
    const before = requests.length;

    const aborted = await storage.client.send(new AbortMultipartUploadCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId }));
    expect(aborted.$metadata.httpStatusCode).toBe(204);
    expect(await exists(uploadDirectory(upload.uploadId))).toBe(false);

    await expect(listParts(upload)).rejects.toMatchObject(noSuchUpload);
    await expect(storage.client.send(new UploadPartCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId, PartNumber: 1, Body: 'late' }))).rejects.toMatchObject(noSuchUpload);
    expect(await exists(uploadDirectory(upload.uploadId))).toBe(false);
    const complete = storage.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: spaces.bucket,
        Key: upload.key,
        UploadId: upload.uploadId,
        MultipartUpload: { Parts: upload.etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
    await expect(complete).rejects.toMatchObject(noSuchUpload);
    expect(await objectExists(upload.key)).toBe(false);
    await expect(storage.client.send(new AbortMultipartUploadCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId }))).rejects.toMatchObject(noSuchUpload);
    // The project's abort is idempotent over that.
    await abortMultipartUpload(storage, upload.key, upload.uploadId);

    await expect.poll(() => requests.length).toBeGreaterThanOrEqual(before + 6);
    const calls = requests.slice(before).filter((r) => new URL(r.url, spaces.endpoint).searchParams.get('uploadId') === upload.uploadId);
    expect(calls.map((r) => [r.method, r.status])).toEqual([
      ['DELETE', 204],
      ['GET', 404],
      ['PUT', 404],
      ['POST', 404],
      ['DELETE', 404],
      ['DELETE', 404],
    ]);
  });

  it('completes only with the uploaded parts, in order, and then the upload is gone', async () => {
    const upload = await startUpload('uploads/complete/checked.bin');
    const complete = (parts: { ETag: string; PartNumber: number }[]) =>
      storage.client.send(new CompleteMultipartUploadCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId, MultipartUpload: { Parts: parts } }));
    const listedParts = upload.etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 }));

    await expect(complete(listedParts.map((part, index) => (index === 1 ? { ...part, ETag: upload.etags[0] ?? '' } : part)))).rejects.toMatchObject({ name: 'InvalidPart' });
    await expect(complete([...listedParts, { ETag: upload.etags[0] ?? '', PartNumber: 4 }])).rejects.toMatchObject({ name: 'InvalidPart' });
    await expect(complete([...listedParts].reverse())).rejects.toMatchObject({ name: 'InvalidPartOrder' });
    expect((await listParts(upload)).Parts).toHaveLength(3);

    await complete(listedParts);
    const stored = await storage.client.send(new GetObjectCommand({ Bucket: spaces.bucket, Key: upload.key }));
    expect(await stored.Body?.transformToString()).toBe(partBodies.join(''));
    await expect(listParts(upload)).rejects.toMatchObject(noSuchUpload);
    await expect(complete(listedParts)).rejects.toMatchObject(noSuchUpload);
  });

  it('completes an upload once when completes of it overlap (retries of a slow one): the later ones wait and find it gone', async () => {
    // Parts large enough that copying them into the object takes a while, and the same complete
    // sent again meanwhile, as the storage client's and `complete`'s callers' retries do. Each
    // complete used to copy every part again beside the others (a 1 GiB upload never completed).
    const bodies = ['a', 'b', 'c'].map((letter) => letter.repeat(32 * 1024 * 1024));
    const upload = await startUpload('uploads/complete/overlapping.bin', bodies);
    const Parts = upload.etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 }));
    const complete = () =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId, MultipartUpload: { Parts } })).then(
        () => 'completed',
        (error: unknown) => error,
      );
    // The copies in progress: each writes a temporary file beside the object's place.
    const folder = path.join(directory, spaces.bucket, 'uploads', 'complete');
    let copiesAtOnce = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const names = await fs.readdir(folder).catch(() => []);
        copiesAtOnce = Math.max(copiesAtOnce, names.filter((name) => name.startsWith('overlapping.bin') && name.endsWith('.receiving')).length);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const first = complete();
    const later: Promise<unknown>[] = [];
    for (let again = 0; again < 4; again += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      later.push(complete());
    }
    expect(await first).toBe('completed');
    for (const outcome of await Promise.all(later)) expect(outcome).toMatchObject(noSuchUpload);
    watching = false;
    await watcher;
    expect(copiesAtOnce).toBe(1);
    const stored = await client.send(new HeadObjectCommand({ Bucket: spaces.bucket, Key: upload.key }));
    expect(stored.ContentLength).toBe(3 * 32 * 1024 * 1024);
    expect(await exists(uploadDirectory(upload.uploadId))).toBe(false);
  });

  describe('authentication, as for every other request', () => {
    const listUrl = (upload: Started, options: { expiresIn?: number; signingDate?: Date } = {}) =>
      getSignedUrl(client, new ListPartsCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId }), {
        expiresIn: options.expiresIn ?? 60,
        ...(options.signingDate ? { signingDate: options.signingDate } : {}),
      });
    const abortUrl = (upload: Started, options: { expiresIn?: number; signingDate?: Date } = {}) =>
      getSignedUrl(client, new AbortMultipartUploadCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId }), {
        expiresIn: options.expiresIn ?? 60,
        ...(options.signingDate ? { signingDate: options.signingDate } : {}),
      });
    // Signed two minutes ago for one minute: expired without waiting.
    const expired = { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) };

    async function expectRefused(response: Response, code: string | RegExp): Promise<void> {
      expect(response.status).toBe(403);
      expect(await response.text()).toMatch(typeof code === 'string' ? `<Code>${code}</Code>` : code);
    }

    async function expectIntact(upload: Started): Promise<void> {
      expect((await listParts(upload)).Parts?.map((part) => part.ETag)).toEqual(upload.etags);
    }

    it('refuses unsigned ListParts and Abort', async () => {
      const upload = await startUpload('uploads/auth/unsigned.bin');
      const url = `${spaces.endpoint}/${spaces.bucket}/${upload.key}?uploadId=${upload.uploadId}`;
      await expectRefused(await fetch(url), 'AccessDenied');
      await expectRefused(await fetch(url, { method: 'DELETE' }), 'AccessDenied');
      await expectIntact(upload);
    });

    it('refuses header-signed calls with a wrong secret or an unknown key', async () => {
      const upload = await startUpload('uploads/auth/header.bin');
      for (const [credentials, code] of [
        [{ accessKeyId: spaces.accessKeyId, secretAccessKey: 'not-the-secret' }, 'SignatureDoesNotMatch'],
        [{ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, 'InvalidAccessKeyId'],
      ] as const) {
        const intruder = clientFor(credentials);
        await expect(intruder.send(new ListPartsCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId }))).rejects.toMatchObject({
          name: code,
          $metadata: { httpStatusCode: 403 },
        });
        await expect(intruder.send(new AbortMultipartUploadCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId }))).rejects.toMatchObject({
          name: code,
          $metadata: { httpStatusCode: 403 },
        });
        intruder.destroy();
      }
      await expectIntact(upload);
    });

    it('serves presigned ListParts and refuses it tampered, replayed as DELETE, or expired', async () => {
      const upload = await startUpload('uploads/auth/presigned-list.bin');
      const other = await startUpload('uploads/auth/presigned-list-other.bin', ['o']);
      const url = await listUrl(upload);
      const listed = await fetch(url, { headers: { Origin: allowedOrigin } });
      expect(listed.status).toBe(200);
      expect(listed.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
      const xml = await listed.text();
      expect(xml).toContain('<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">');
      // The quotes of an ETag may be escaped; the SDK reads both forms.
      expect(xml.replaceAll('&quot;', '"')).toContain(`<ETag>${upload.etags[0]}</ETag>`);

      const otherUpload = new URL(url);
      otherUpload.searchParams.set('uploadId', other.uploadId);
      const otherKey = new URL(url);
      otherKey.pathname = `/${spaces.bucket}/${other.key}`;
      const morePages = new URL(url);
      morePages.searchParams.set('max-parts', '1');
      for (const tampered of [otherUpload, otherKey, morePages]) await expectRefused(await fetch(tampered), 'SignatureDoesNotMatch');
      await expectRefused(await fetch(url, { method: 'DELETE' }), 'SignatureDoesNotMatch');
      await expectRefused(await fetch(await listUrl(upload, expired)), /Request has expired/);
      await expectIntact(upload);
      await expectIntact(other);
    });

    it('refuses a presigned ListParts without the signed header value it was signed with', async () => {
      const upload = await startUpload('uploads/auth/signed-header.bin');
      // Kept as a header (not hoisted into the query), so it is in X-Amz-SignedHeaders.
      const url = await getSignedUrl(client, new ListPartsCommand({ Bucket: spaces.bucket, Key: upload.key, UploadId: upload.uploadId, ExpectedBucketOwner: '111122223333' }), {
        expiresIn: 60,
        unhoistableHeaders: new Set(['x-amz-expected-bucket-owner']),
      });
      expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toContain('x-amz-expected-bucket-owner');
      expect((await fetch(url, { headers: { 'x-amz-expected-bucket-owner': '111122223333' } })).status).toBe(200);
      await expectRefused(await fetch(url, { headers: { 'x-amz-expected-bucket-owner': '444455556666' } }), 'SignatureDoesNotMatch');
      await expectRefused(await fetch(url), 'SignatureDoesNotMatch');
    });

    it('serves a presigned Abort and refuses it tampered, replayed as GET, or expired', async () => {
      const upload = await startUpload('uploads/auth/presigned-abort.bin');
      const other = await startUpload('uploads/auth/presigned-abort-other.bin', ['o']);
      const url = await abortUrl(upload);

      const otherUpload = new URL(url);
      otherUpload.searchParams.set('uploadId', other.uploadId);
      await expectRefused(await fetch(otherUpload, { method: 'DELETE' }), 'SignatureDoesNotMatch');
      await expectRefused(await fetch(url), 'SignatureDoesNotMatch');
      await expectRefused(await fetch(await abortUrl(upload, expired), { method: 'DELETE' }), /Request has expired/);
      await expectIntact(upload);
      await expectIntact(other);

      const aborted = await fetch(url, { method: 'DELETE', headers: { Origin: allowedOrigin } });
      expect(aborted.status).toBe(204);
      expect(aborted.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
      await expect(listParts(upload)).rejects.toMatchObject(noSuchUpload);
      await expectIntact(other);
    });
  });
});
