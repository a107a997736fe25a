// A file above the multipart threshold goes up in parts: signed just in time through `parts`,
// sent in parallel, retried per the policy (a lost request, a busy store, a refused signature that
// needs re-signing), then assembled by `complete`. The bucket holds exactly the file's bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import type postgres from 'postgres';
import { createClient, uploadFile, type UploadProgress } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { databaseFor, expectQueued, jobRow, mebibyte, partSizeBytes, randomBlob, readObject, recordingFetch, s3ClientFor } from './support.js';

let platform: Platform;
let s3: S3Client;
let sql: postgres.Sql;
/** Three parts: 8 MiB, 8 MiB and a short last one. */
const fileSize = 2 * partSizeBytes + 3 * mebibyte + 17;

beforeAll(async () => {
  platform = await startTestPlatform({ env: { MULTIPART_THRESHOLD_BYTES: String(1 * mebibyte) } });
  s3 = s3ClientFor(platform);
  sql = databaseFor(platform);
});

afterAll(async () => {
  await sql?.end();
  s3?.destroy();
  await platform?.stop();
});

async function storedBytes(jobId: string): Promise<Buffer> {
  const row = await jobRow(sql, jobId);
  if (row === undefined) throw new Error(`no job ${jobId}`);
  return readObject(s3, platform.spaces.bucket, row.object_key);
}

describe('multipart upload through the client', () => {
  it('sends every part once, in parallel, and the object equals the file', async () => {
    const recorder = recordingFetch(platform);
    const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
    const { blob, bytes } = randomBlob(fileSize);
    const progress: UploadProgress[] = [];

    const result = await uploadFile(client, blob, { filename: 'big.bin', partConcurrency: 2, onProgress: (event) => progress.push(event) });

    expect(result.job.size).toBe(fileSize);
    expectQueued(result.job);
    expect((await storedBytes(result.jobId)).equals(bytes)).toBe(true);
    const partPuts = recorder.storePuts();
    expect(partPuts.map((put) => Number(put.url.searchParams.get('partNumber'))).sort()).toEqual([1, 2, 3]);
    expect(recorder.maxConcurrentStorePuts()).toBeLessThanOrEqual(2);
    // All three URLs came from one `parts` call; `complete` named every part with its ETag.
    expect(recorder.callsTo('parts')).toEqual([expect.objectContaining({ partNumbers: [1, 2, 3] })]);
    const [completeBody] = recorder.callsTo('complete') as [{ parts: { partNumber: number; etag: string }[] }];
    expect(completeBody.parts.map((part) => part.partNumber)).toEqual([1, 2, 3]);
    expect(completeBody.parts.every((part) => part.etag.length > 0)).toBe(true);
    // Progress: a start event, then one per stored part, ending at the full size.
    expect(progress[0]).toMatchObject({ bytesSent: 0, partsDone: 0, partCount: 3 });
    expect(progress.slice(1).map((event) => event.part?.partNumber).sort()).toEqual([1, 2, 3]);
    expect(progress.at(-1)).toMatchObject({ bytesSent: fileSize, bytesTotal: fileSize, partsDone: 3 });
  });

  it('signs URLs just in time, in batches of the asked size', async () => {
    const recorder = recordingFetch(platform);
    const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
    const { blob, bytes } = randomBlob(fileSize);
    const result = await uploadFile(client, blob, { filename: 'batched.bin', partConcurrency: 1, signBatchSize: 2 });
    expect((await storedBytes(result.jobId)).equals(bytes)).toBe(true);
    expect(recorder.callsTo('parts')).toEqual([
      expect.objectContaining({ partNumbers: [1, 2] }),
      expect.objectContaining({ partNumbers: [3] }),
    ]);
  });

  it('retries a lost part and a busy store, and re-signs a part URL the store refused', async () => {
    const storeOrigin = new URL(platform.spaces.endpoint).origin;
    const attempts = new Map<number, number>();
    const recorder = recordingFetch(platform, (method, url) => {
      if (method !== 'PUT' || url.origin !== storeOrigin) return undefined;
      const partNumber = Number(url.searchParams.get('partNumber'));
      const attempt = (attempts.get(partNumber) ?? 0) + 1;
      attempts.set(partNumber, attempt);
      if (partNumber === 1 && attempt === 1) return new TypeError('fetch failed (injected)');
      if (partNumber === 2 && attempt === 1) {
        return new Response('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>', { status: 503 });
      }
      if (partNumber === 3 && attempt === 1) {
        // A real refusal by the store: the signature no longer matches the URL.
        const tampered = new URL(url);
        const signature = url.searchParams.get('X-Amz-Signature') ?? '';
        tampered.searchParams.set('X-Amz-Signature', signature.replace(/^./, (c) => (c === '0' ? '1' : '0')));
        return tampered;
      }
      return undefined;
    });
    const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
    const { blob, bytes } = randomBlob(fileSize);
    // The store's 503 is retried on the list for 503s: at once here too.
    const result = await uploadFile(client, blob, { filename: 'flaky.bin', retryDelaysMs: [0, 0], unavailableRetryDelaysMs: [0, 0] });

    expect((await storedBytes(result.jobId)).equals(bytes)).toBe(true);
    const statuses = recorder.storePuts().map((put) => `${put.url.searchParams.get('partNumber')}:${put.status}`);
    expect(statuses).toEqual(expect.arrayContaining(['1:network-error', '1:200', '2:503', '2:200', '3:403', '3:200']));
    expect(statuses).toHaveLength(6);
    // The 403 made the client sign part 3 again.
    expect(recorder.callsTo('parts')).toEqual([
      expect.objectContaining({ partNumbers: [1, 2, 3] }),
      expect.objectContaining({ partNumbers: [3] }),
    ]);
  });

  it('gives up on a part the store keeps refusing, without completing', async () => {
    const storeOrigin = new URL(platform.spaces.endpoint).origin;
    const recorder = recordingFetch(platform, (method, url) =>
      method === 'PUT' && url.origin === storeOrigin && url.searchParams.get('partNumber') === '2'
        ? new Response('<Error><Code>InternalError</Code><Message>boom</Message></Error>', { status: 500 })
        : undefined,
    );
    const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
    const { blob } = randomBlob(fileSize);
    await expect(uploadFile(client, blob, { filename: 'doomed.bin', retryDelaysMs: [0, 0] })).rejects.toMatchObject({
      name: 'SluiceApiError',
      status: 500,
      code: 'STORAGE_ERROR',
    });
    expect(recorder.callsTo('complete')).toHaveLength(0);
    expect(recorder.storePuts().filter((put) => put.url.searchParams.get('partNumber') === '2')).toHaveLength(3);
  });
});
