// Shared by the upload API's end-to-end tests: a fetch wrapper that records (and can disturb)
// every request the client makes, an S3 client with the platform's own Spaces credentials to read
// what really landed in the bucket, and a Postgres client to look at job rows.
import { createHash, randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { loadDatabaseConfig } from '../../src/config.js';
import type { Platform } from '../../src/local/platform.js';
import { expect } from 'vitest';
import type { FetchLike, JobView } from '../../src/client/index.js';

export const mebibyte = 1024 * 1024;
/** The server's smallest part (src/config.ts minPartSizeBytes); multipart tests use 8 MiB parts. */
export const partSizeBytes = 8 * mebibyte;

export interface RecordedRequest {
  method: string;
  url: URL;
  /** The JSON text of an API call's body. */
  body: string | undefined;
  status: number | 'network-error';
}

export interface RecordingFetch {
  fetch: FetchLike;
  requests: RecordedRequest[];
  /** PUTs that reached the object store (not the functions). */
  storePuts(): RecordedRequest[];
  /** Bodies of the calls to one function, parsed. */
  callsTo(fn: string): unknown[];
  /** The most store PUTs that were in flight at the same time. */
  maxConcurrentStorePuts(): number;
}

/**
 * Wraps the real fetch. `disturb` may answer a request itself (a Response, or an Error thrown as a
 * network failure would be) or send it to another URL (a tampered one, which the real store then
 * judges): that is how a test makes one PUT fail the way a flaky network or a busy store would.
 */
export function recordingFetch(
  platform: Pick<Platform, 'spaces'>,
  disturb?: (method: string, url: URL) => Response | Error | URL | undefined,
): RecordingFetch {
  const requests: RecordedRequest[] = [];
  const storeOrigin = new URL(platform.spaces.endpoint).origin;
  let inFlightPuts = 0;
  let maxInFlightPuts = 0;
  const fetch: FetchLike = async (input, init) => {
    const original = new URL(input instanceof Request ? input.url : input);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const body = typeof init?.body === 'string' ? init.body : undefined;
    const disturbance = disturb?.(method, original);
    const url = disturbance instanceof URL ? disturbance : original;
    const injected = disturbance instanceof URL ? undefined : disturbance;
    if (injected instanceof Error) {
      requests.push({ method, url, body, status: 'network-error' });
      throw injected;
    }
    const isStorePut = method === 'PUT' && url.origin === storeOrigin;
    if (isStorePut) maxInFlightPuts = Math.max(maxInFlightPuts, ++inFlightPuts);
    try {
      const response = injected ?? (await globalThis.fetch(disturbance instanceof URL ? url : input, init));
      requests.push({ method, url, body, status: response.status });
      return response;
    } finally {
      if (isStorePut) inFlightPuts--;
    }
  };
  return {
    fetch,
    requests,
    storePuts: () => requests.filter((request) => request.method === 'PUT' && request.url.origin === storeOrigin),
    callsTo: (fn) =>
      requests.filter((request) => request.url.pathname.endsWith(`/presign/${fn}`)).map((request) => JSON.parse(request.body ?? 'null') as unknown),
    maxConcurrentStorePuts: () => maxInFlightPuts,
  };
}

export function s3ClientFor(platform: Pick<Platform, 'spaces'>): S3Client {
  return new S3Client({
    endpoint: platform.spaces.endpoint,
    region: platform.spaces.region,
    forcePathStyle: true,
    credentials: { accessKeyId: platform.spaces.accessKeyId, secretAccessKey: platform.spaces.secretAccessKey },
    // Current SDK defaults add CRC32 checksums the local store (like Spaces) mishandles (docs/platform-facts.md "Spaces").
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function readObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (response.Body === undefined) throw new Error(`no body for ${key}`);
  return Buffer.from(await response.Body.transformToByteArray());
}

export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof Error && (error.name === 'NotFound' || error.name === 'NoSuchKey')) return false;
    throw error;
  }
}

export async function putObjectDirectly(s3: S3Client, bucket: string, key: string, body: Uint8Array, contentType: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

export async function deleteObject(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** The functions' own database settings (DATABASE_URL, DATABASE_CA_CERT): the local Postgres takes verified TLS only. */
export function databaseFor(platform: Pick<Platform, 'env'>): postgres.Sql {
  const { url, caCert } = loadDatabaseConfig(platform.env);
  return postgres(url, { max: 2, ...(caCert === undefined ? {} : { ssl: { ca: caCert, rejectUnauthorized: true } }), onnotice: () => undefined });
}

export interface JobRow {
  id: string;
  status: string;
  object_key: string;
  filename: string;
  size: number;
}

export async function jobRow(sql: postgres.Sql, jobId: string): Promise<JobRow | undefined> {
  const rows = await sql<JobRow[]>`SELECT id, status, object_key, filename, size::float8 AS size FROM jobs WHERE id = ${jobId}`;
  return rows[0];
}

export async function jobCount(sql: postgres.Sql): Promise<number> {
  const rows = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM jobs`;
  return rows[0]?.count ?? 0;
}

/**
 * Random bytes: patterned data could hide an off-by-one at a part boundary. A fixed text prefix
 * keeps processing from sniffing a real file type in them by chance (a mismatch with the declared
 * type rejects the job and deletes the object a test is about to read).
 */
export function randomBlob(size: number, type = 'application/octet-stream'): { blob: Blob; bytes: Buffer } {
  const bytes = randomBytes(size);
  bytes.write('sluice test data', 0, Math.min(size, 16), 'latin1');
  return { blob: new Blob([bytes], { type }), bytes };
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A raw POST to one function, for requests the typed client would never send. */
export async function postRaw(
  apiBase: string,
  fn: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const response = await fetch(`${apiBase}/presign/${fn}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json };
}

/**
 * `complete` queues the job and invokes process/file at once, so by the time a test looks the job
 * may already be processing or done: what must hold is that it left awaiting_upload through queued.
 */
export function expectQueued(job: Pick<JobView, 'status' | 'events'>): void {
  expect(job.status).not.toBe('awaiting_upload');
  expect(job.events).toEqual(expect.arrayContaining([expect.objectContaining({ from: 'awaiting_upload', to: 'queued' })]));
}

/** CSV text of about `approximateBytes`, with random values, so processing accepts it as text/csv. */
export function csvBlob(approximateBytes: number): { blob: Blob; bytes: Buffer } {
  const lines = ['id,name,score'];
  let size = lines[0]?.length ?? 0;
  for (let id = 1; size < approximateBytes; id++) {
    const line = `${id},${randomBytes(6).toString('hex')},${(id * 7919) % 1000}`;
    lines.push(line);
    size += line.length + 1;
  }
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  return { blob: new Blob([bytes], { type: 'text/csv' }), bytes };
}
