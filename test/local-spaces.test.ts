// The local Spaces stand-in: a private bucket that accepts only correctly signed, unexpired
// requests, with the CORS rule a browser upload needs (PLATFORM-FACTS "Spaces").
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSpaces, type LocalSpaces, type LocalSpacesRequest } from '../src/local/spaces.js';

const allowedOrigin = 'http://allowed.test';
const otherOrigin = 'http://elsewhere.test';

let directory: string;
let spaces: LocalSpaces;
let client: S3Client;
const requests: LocalSpacesRequest[] = [];

function clientFor(credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  const s3 = new S3Client({
    endpoint: spaces.endpoint,
    region: spaces.region,
    credentials,
    forcePathStyle: true,
    // Current SDK defaults add CRC32 checksums that break presigned PUTs (PLATFORM-FACTS "Spaces").
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  // The SDK sends bucket-level requests as `/bucket/`; s3rver signs `/bucket` (PLATFORM-FACTS).
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
});

afterAll(async () => {
  client.destroy();
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
