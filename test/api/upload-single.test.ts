// A file below the multipart threshold goes up through the typed client as one presigned PUT; the
// bucket then holds exactly the file's bytes and the job is queued for processing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import type postgres from 'postgres';
import { createClient, uploadFile, waitForJob, type JobView, type UploadProgress } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { csvBlob, databaseFor, expectQueued, jobRow, randomBlob, readObject, recordingFetch, s3ClientFor } from './support.js';

let platform: Platform;
let s3: S3Client;
let sql: postgres.Sql;

beforeAll(async () => {
  platform = await startTestPlatform();
  s3 = s3ClientFor(platform);
  sql = databaseFor(platform);
});

afterAll(async () => {
  await sql?.end();
  s3?.destroy();
  await platform?.stop();
});

describe('single-PUT upload through the client', () => {
  it('stores the exact bytes and queues the job', async () => {
    const recorder = recordingFetch(platform);
    const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
    const { blob, bytes } = csvBlob(300 * 1024);
    const file = new File([blob], 'report.csv', { type: 'text/csv' });
    const progress: UploadProgress[] = [];

    const result = await uploadFile(client, file, { onProgress: (event) => progress.push(event) });

    expect(result.job).toMatchObject({ id: result.jobId, filename: 'report.csv', size: file.size, contentType: 'text/csv' });
    expectQueued(result.job);
    const row = await jobRow(sql, result.jobId);
    expect(row?.object_key.startsWith(`uploads/${result.jobId}/`)).toBe(true);
    expect((await readObject(s3, platform.spaces.bucket, row?.object_key ?? '')).equals(bytes)).toBe(true);

    // One PUT straight to the store, never through a function.
    expect(recorder.storePuts()).toHaveLength(1);
    expect(recorder.requests.map((r) => `${r.method} ${r.url.pathname.split('/').slice(-2).join('/')}`)).toEqual([
      'POST presign/create',
      expect.stringMatching(/^PUT /),
      'POST presign/complete',
    ]);
    expect(progress.at(0)).toMatchObject({ bytesSent: 0, bytesTotal: file.size });
    expect(progress.at(-1)).toMatchObject({ bytesSent: file.size, bytesTotal: file.size, partsDone: 1, partCount: 1 });

    // The status call shows the same job with its history.
    const { job } = await client.status({ jobId: result.jobId, token: result.token });
    expect(job.id).toBe(result.jobId);
    expect(['queued', 'processing', 'succeeded', 'failed']).toContain(job.status);
    expect(job.events?.map((event) => event.to)).toEqual(expect.arrayContaining(['awaiting_upload', 'queued']));

    // waitForJob polls until one of the asked statuses, reporting each view it fetched.
    const seen: JobView[] = [];
    const waited = await waitForJob(client, result.jobId, result.token, {
      until: ['queued', 'processing', 'succeeded', 'failed'],
      intervalMs: 50,
      onJob: (view) => seen.push(view),
    });
    expect(waited.id).toBe(result.jobId);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('waitForJob gives up after its timeout, and stops at once when its signal aborts', async () => {
    const client = createClient({ apiBase: platform.apiBase });
    const created = await client.create({ filename: 'never.txt', size: 5, contentType: 'text/plain' });
    await expect(waitForJob(client, created.jobId, created.token, { until: ['succeeded'], intervalMs: 50, timeoutMs: 300 })).rejects.toMatchObject({
      code: 'WAIT_TIMEOUT',
    });
    const controller = new AbortController();
    const waiting = waitForJob(client, created.jobId, created.token, { until: ['succeeded'], intervalMs: 60_000, signal: controller.signal, onJob: () => controller.abort() });
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    // Not-found is final, not polled forever.
    await expect(waitForJob(client, created.jobId, 'wrong-token', { intervalMs: 50 })).rejects.toMatchObject({ status: 404 });
  });

  it('uploads a Node file opened with fs.openAsBlob, naming it through the options', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { openAsBlob } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const directory = await mkdtemp(path.join(os.tmpdir(), 'sluice-client-'));
    try {
      const bytes = Buffer.from(JSON.stringify(Array.from({ length: 2_000 }, (_, id) => ({ id, tag: `t${id % 7}` }))));
      const filePath = path.join(directory, 'data.json');
      await writeFile(filePath, bytes);
      const client = createClient({ apiBase: platform.apiBase });
      const result = await uploadFile(client, await openAsBlob(filePath), { filename: 'data.json', contentType: 'application/json' });
      expect(result.job).toMatchObject({ filename: 'data.json', contentType: 'application/json', size: bytes.length });
      expectQueued(result.job);
      const row = await jobRow(sql, result.jobId);
      expect((await readObject(s3, platform.spaces.bucket, row?.object_key ?? '')).equals(bytes)).toBe(true);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('retries a PUT that failed on the network, then succeeds', async () => {
    let failed = false;
    const recorder = recordingFetch(platform, (method, url) => {
      if (method !== 'PUT' || failed || url.origin !== new URL(platform.spaces.endpoint).origin) return undefined;
      failed = true;
      return new TypeError('fetch failed (injected)');
    });
    const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
    const { blob } = randomBlob(10 * 1024);
    const result = await uploadFile(client, blob, { filename: 'flaky.bin', retryDelaysMs: [0] });
    expectQueued(result.job);
    expect(recorder.storePuts().map((r) => r.status)).toEqual(['network-error', 200]);
  });
});
