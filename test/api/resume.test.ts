// Interrupting an upload: a "reload" (the upload stopped with abortJobOnCancel: false, then a new
// client with no memory but {jobId, token, upload}) resumes without re-sending what the store
// already holds; an explicit cancel aborts the job and frees its parts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import type postgres from 'postgres';
import { createClient, uploadFile, type UploadState } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { databaseFor, expectQueued, jobRow, mebibyte, objectExists, partSizeBytes, randomBlob, readObject, recordingFetch, s3ClientFor } from './support.js';

let platform: Platform;
let s3: S3Client;
let sql: postgres.Sql;
const fileSize = 2 * partSizeBytes + 1 * mebibyte;

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

class Reload extends Error {}

/** Starts an upload and stops it like a closed tab once `stopAfterParts` parts are stored. */
async function uploadUntilReload(blob: Blob, filename: string, stopAfterParts: number): Promise<{ state: UploadState; puts: number }> {
  const recorder = recordingFetch(platform);
  const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
  const controller = new AbortController();
  let state: UploadState | undefined;
  const upload = uploadFile(client, blob, {
    filename,
    partConcurrency: 1,
    signal: controller.signal,
    abortJobOnCancel: false,
    onCreated: (created) => {
      state = created;
      if (stopAfterParts === 0) controller.abort(new Reload());
    },
    onProgress: (event) => {
      if (event.partsDone >= stopAfterParts && event.part !== undefined) controller.abort(new Reload());
    },
  });
  await expect(upload).rejects.toBeInstanceOf(Reload);
  if (state === undefined) throw new Error('the job was never created');
  return { state, puts: recorder.storePuts().length };
}

describe('resume after a reload', () => {
  it('sends only the parts the store does not hold yet', async () => {
    const { blob, bytes } = randomBlob(fileSize);
    const { state, puts } = await uploadUntilReload(blob, 'resumed.bin', 1);
    expect(puts).toBe(1);

    // A fresh client, as after a reload: the server tells what is already uploaded.
    const recorder = recordingFetch(platform);
    const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
    const listing = await client.parts({ jobId: state.jobId, token: state.token, partNumbers: [] });
    expect(listing.uploaded).toEqual([expect.objectContaining({ partNumber: 1, size: partSizeBytes })]);
    expect((await client.status({ jobId: state.jobId, token: state.token })).job.status).toBe('awaiting_upload');

    // Only the capability is needed: `parts` echoes the plan.
    const result = await uploadFile(client, blob, { resume: { jobId: state.jobId, token: state.token } });

    expect(result).toMatchObject({ jobId: state.jobId, token: state.token });
    expectQueued(result.job);
    expect(recorder.storePuts().map((put) => put.url.searchParams.get('partNumber')).sort()).toEqual(['2', '3']);
    const row = await jobRow(sql, state.jobId);
    expect((await readObject(s3, platform.spaces.bucket, row?.object_key ?? '')).equals(bytes)).toBe(true);

    // Resuming a job that is already complete sends nothing and returns the job.
    const again = recordingFetch(platform);
    const rerun = await uploadFile(createClient({ apiBase: platform.apiBase, fetch: again.fetch }), blob, { resume: state });
    expect(rerun.job.id).toBe(state.jobId);
    expect(again.storePuts()).toHaveLength(0);
  });

  it('resumes a single-PUT upload stopped before its PUT', async () => {
    const { blob, bytes } = randomBlob(100 * 1024);
    const { state, puts } = await uploadUntilReload(blob, 'small.bin', 0);
    expect(puts).toBe(0);
    expect(state.upload?.kind).toBe('single');

    const recorder = recordingFetch(platform);
    const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
    // Only create hands out a single PUT's URL: without it there is no way to send the bytes.
    await expect(uploadFile(client, blob, { resume: { jobId: state.jobId, token: state.token } })).rejects.toMatchObject({ code: 'RESUME_NOT_POSSIBLE' });
    expect(recorder.storePuts()).toHaveLength(0);

    const result = await uploadFile(client, blob, { resume: state });
    expectQueued(result.job);
    expect(recorder.storePuts()).toHaveLength(1);
    const row = await jobRow(sql, state.jobId);
    expect((await readObject(s3, platform.spaces.bucket, row?.object_key ?? '')).equals(bytes)).toBe(true);
  });

  it('refuses to resume with a different file', async () => {
    const { blob } = randomBlob(fileSize);
    const { state } = await uploadUntilReload(blob, 'original.bin', 1);
    const other = randomBlob(fileSize - 1).blob;
    await expect(uploadFile(createClient({ apiBase: platform.apiBase }), other, { resume: state })).rejects.toMatchObject({ code: 'FILE_MISMATCH' });
  });
});

describe('cancel', () => {
  it('stops in-flight requests and aborts the job (default)', async () => {
    const recorder = recordingFetch(platform);
    const client = createClient({ apiBase: platform.apiBase, fetch: recorder.fetch });
    const controller = new AbortController();
    const { blob } = randomBlob(fileSize);
    let state: UploadState | undefined;
    const upload = uploadFile(client, blob, {
      filename: 'cancelled.bin',
      partConcurrency: 2,
      signal: controller.signal,
      onCreated: (created) => (state = created),
      onProgress: (event) => {
        if (event.part !== undefined) controller.abort();
      },
    });
    await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
    if (state === undefined) throw new Error('the job was never created');
    expect(recorder.callsTo('abort')).toHaveLength(1);
    expect(recorder.callsTo('complete')).toHaveLength(0);

    const { job } = await client.status({ jobId: state.jobId, token: state.token });
    expect(job.status).toBe('cancelled');
    const row = await jobRow(sql, state.jobId);
    expect(await objectExists(s3, platform.spaces.bucket, row?.object_key ?? '')).toBe(false);
    // The multipart upload is gone from the store, its parts freed…
    if (state.upload?.kind !== 'multipart') throw new Error('expected a multipart plan');
    await expect(
      s3.send(new ListPartsCommand({ Bucket: platform.spaces.bucket, Key: row?.object_key ?? '', UploadId: state.upload.uploadId })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    // …and the job cannot be resumed or completed any more.
    await expect(uploadFile(client, blob, { resume: state })).rejects.toMatchObject({ code: 'RESUME_NOT_POSSIBLE' });
  });
});
