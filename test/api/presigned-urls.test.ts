// What a presigned URL allows, judged by the store itself (the local S3 server verifies SigV4,
// signed headers and expiry, like Spaces): exactly the declared length and type, at the server's
// key, before expiry, and nothing else; and no URL carries SDK checksum parameters, which break
// browser uploads to Spaces (docs/api.md, docs/platform-facts.md "Spaces").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type postgres from 'postgres';
import { createClient, type SingleUploadPlan, type SluiceClient } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { databaseFor, jobRow, mebibyte, objectExists, partSizeBytes, readObject, s3ClientFor } from './support.js';

let platform: Platform;
let s3: S3Client;
let sql: postgres.Sql;
let client: SluiceClient;
/** URLs "expire in minutes, not days" (docs/api.md). */
const maxUrlLifetimeSeconds = 60 * 60;

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

function checksumParameters(url: string): string[] {
  return [...new URL(url).searchParams.keys()].filter((name) => /^x-amz-(sdk-)?checksum/i.test(name));
}

async function createSingle(size: number, contentType = 'text/plain'): Promise<{ jobId: string; token: string; plan: SingleUploadPlan; key: string }> {
  const created = await client.create({ filename: 'note.txt', size, contentType });
  if (created.upload.kind !== 'single') throw new Error('expected a single-PUT plan');
  const row = await jobRow(sql, created.jobId);
  return { jobId: created.jobId, token: created.token, plan: created.upload, key: row?.object_key ?? '' };
}

async function put(url: string | URL, body: Uint8Array<ArrayBuffer>, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, { method: 'PUT', body, headers });
  await response.arrayBuffer();
  return response.status;
}

describe('single PUT URL', () => {
  it('signs Content-Type and Content-Length, expires within minutes, carries no checksum parameters', async () => {
    const { plan } = await createSingle(1000);
    const url = new URL(plan.url);
    expect(checksumParameters(plan.url)).toEqual([]);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
    const lifetime = Number(url.searchParams.get('X-Amz-Expires'));
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThanOrEqual(maxUrlLifetimeSeconds);
    expect(Object.fromEntries(Object.entries(plan.headers).map(([name, value]) => [name.toLowerCase(), value]))).toMatchObject({ 'content-type': 'text/plain' });
  });

  it('is refused by the store for another length, another type, a tampered URL or after expiry; nothing is stored', async () => {
    const size = 1000;
    const { jobId, token, plan, key } = await createSingle(size);
    const body = new Uint8Array(size).fill(65);

    expect(await put(plan.url, body.subarray(0, size - 1), plan.headers)).toBe(403);
    expect(await put(plan.url, new Uint8Array(size + 1).fill(65), plan.headers)).toBe(403);
    expect(await put(plan.url, body, { ...plan.headers, 'Content-Type': 'application/octet-stream' })).toBe(403);

    const otherKey = new URL(plan.url);
    otherKey.pathname = otherKey.pathname.replace(/[^/]+$/, 'elsewhere.txt');
    expect(await put(otherKey, body, plan.headers)).toBe(403);

    const forgedSignature = new URL(plan.url);
    const signature = forgedSignature.searchParams.get('X-Amz-Signature') ?? '';
    forgedSignature.searchParams.set('X-Amz-Signature', `${signature.startsWith('0') ? '1' : '0'}${signature.slice(1)}`);
    expect(await put(forgedSignature, body, plan.headers)).toBe(403);

    const longerLife = new URL(plan.url);
    longerLife.searchParams.set('X-Amz-Expires', '604800');
    expect(await put(longerLife, body, plan.headers)).toBe(403);

    // A URL for this very object, correctly signed with the store's credentials but an hour ago:
    // only its age is wrong, so only expiry enforcement can refuse it.
    const expired = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: platform.spaces.bucket, Key: key, ContentType: 'text/plain', ContentLength: size }),
      { expiresIn: 60, signingDate: new Date(Date.now() - 60 * 60 * 1000) },
    );
    expect(await put(expired, body, plan.headers)).toBe(403);

    expect(await objectExists(s3, platform.spaces.bucket, key)).toBe(false);
    expect(await objectExists(s3, platform.spaces.bucket, key.replace(/[^/]+$/, 'elsewhere.txt'))).toBe(false);
    await expect(client.complete({ jobId, token })).rejects.toMatchObject({ status: 409 });

    // The URL itself was good all along: the exact request is accepted.
    expect(await put(plan.url, body, plan.headers)).toBe(200);
    expect((await readObject(s3, platform.spaces.bucket, key)).equals(Buffer.from(body))).toBe(true);
  });
});

describe('multipart part URLs', () => {
  it('carry no checksum parameters, expire within minutes, and are refused when tampered with or expired', async () => {
    const size = 2 * partSizeBytes + 5;
    const created = await client.create({ filename: 'big.bin', size, contentType: 'application/octet-stream' });
    if (created.upload.kind !== 'multipart') throw new Error('expected a multipart plan');
    expect(created.upload).toMatchObject({ partCount: 3, partSize: partSizeBytes });
    const { parts } = await client.parts({ jobId: created.jobId, token: created.token, partNumbers: [1, 2, 3] });
    expect(parts.map((part) => part.partNumber)).toEqual([1, 2, 3]);
    for (const part of parts) {
      expect(checksumParameters(part.url)).toEqual([]);
      expect(Number(new URL(part.url).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(maxUrlLifetimeSeconds);
    }

    const [first] = parts;
    if (first === undefined) throw new Error('no part 1');
    const partBody = new Uint8Array(partSizeBytes).fill(7);
    // Part 2's bytes sent to part 1's URL under part 2's number: the part number is signed.
    const renumbered = new URL(first.url);
    renumbered.searchParams.set('partNumber', '2');
    expect(await put(renumbered, partBody, {})).toBe(403);

    const row = await jobRow(sql, created.jobId);
    const expired = await getSignedUrl(
      s3,
      new UploadPartCommand({ Bucket: platform.spaces.bucket, Key: row?.object_key ?? '', UploadId: created.upload.uploadId, PartNumber: 1 }),
      { expiresIn: 60, signingDate: new Date(Date.now() - 60 * 60 * 1000) },
    );
    expect(await put(expired, partBody, {})).toBe(403);

    expect((await client.parts({ jobId: created.jobId, token: created.token, partNumbers: [] })).uploaded).toEqual([]);
    expect(await put(first.url, partBody, {})).toBe(200);
    expect((await client.parts({ jobId: created.jobId, token: created.token, partNumbers: [] })).uploaded).toEqual([
      expect.objectContaining({ partNumber: 1, size: partSizeBytes }),
    ]);
  });
});
