// The file one click away: `status` gives the job's token holder a short-lived signed GET URL
// while the file is stored, which downloads the very bytes uploaded under their original name.
// Against the SigV4-verifying local S3 server, so a tampered or expired URL is refused as Spaces
// would refuse it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, uploadFile, type SluiceClient } from '../../src/client/index.js';
import { downloadUrlExpirySeconds } from '../../src/config.js';
import type { Platform } from '../../src/local/platform.js';
import { attachmentDisposition, createStorage, presignGet } from '../../src/storage/spaces.js';
import { startTestPlatform } from '../helpers/platform.js';
import { mebibyte, postRaw, randomBlob, sha256Hex } from './support.js';

let platform: Platform;
let client: SluiceClient;

beforeAll(async () => {
  platform = await startTestPlatform({ env: { MULTIPART_THRESHOLD_BYTES: String(8 * mebibyte) } });
  client = createClient({ apiBase: platform.apiBase });
});

afterAll(async () => {
  await platform?.stop();
});

async function uploaded(size: number, filename: string): Promise<{ jobId: string; token: string; bytes: Buffer }> {
  const { blob, bytes } = randomBlob(size);
  const result = await uploadFile(client, new File([blob], filename, { type: 'application/octet-stream' }));
  return { jobId: result.jobId, token: result.token, bytes };
}

async function settled(jobId: string, token: string) {
  await expect.poll(async () => (await client.status({ jobId, token })).job.status, { timeout: 20_000, interval: 100 }).toBe('succeeded');
  return (await client.status({ jobId, token })).job;
}

describe('downloadUrl', () => {
  it('downloads the very bytes uploaded, as an attachment under the original name (single PUT)', async () => {
    const { jobId, token, bytes } = await uploaded(200_000, 'report "final" v2.bin');
    const job = await settled(jobId, token);
    expect(job.downloadUrl).toBeDefined();
    const response = await fetch(job.downloadUrl ?? '');
    expect(response.status).toBe(200);
    expect(sha256Hex(new Uint8Array(await response.arrayBuffer()))).toBe(sha256Hex(bytes));
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="report \\"final\\" v2.bin"');
  });

  it('names a non-ASCII file exactly for browsers that read filename*, and with an ASCII stand-in for the rest', () => {
    // Not fetched here: the local S3 server mis-encodes the quote of filename*'s UTF-8'' in its
    // signature check (src/storage/spaces.ts attachmentDisposition); Spaces verifies it as signed.
    expect(attachmentDisposition('résumé (1).csv')).toBe(`attachment; filename="r_sum_ (1).csv"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.csv`);
  });

  it('downloads a multipart upload whole', async () => {
    const { jobId, token, bytes } = await uploaded(9 * mebibyte + 77, 'parts.bin');
    const job = await settled(jobId, token);
    expect(job.uploadKind).toBe('multipart');
    const response = await fetch(job.downloadUrl ?? '');
    expect(sha256Hex(new Uint8Array(await response.arrayBuffer()))).toBe(sha256Hex(bytes));
  });

  it('is short-lived, the same URL for polls close together, and cannot be altered', async () => {
    const { jobId, token } = await uploaded(1_000, 'short.bin');
    const job = await settled(jobId, token);
    const url = new URL(job.downloadUrl ?? '');
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(downloadUrlExpirySeconds));
    const expiresInMs = Date.parse(job.downloadExpiresAt ?? '') - Date.now();
    expect(expiresInMs).toBeGreaterThan(0);
    expect(expiresInMs).toBeLessThanOrEqual(downloadUrlExpirySeconds * 1000);

    // Signed as of the start of the minute: the next poll (unless a minute boundary fell between
    // the two calls) gets the same URL, so the page's preview is not fetched again.
    const again = (await client.status({ jobId, token })).job;
    if (again.downloadExpiresAt === job.downloadExpiresAt) expect(again.downloadUrl).toBe(job.downloadUrl);

    // Asking the store to serve it inline instead breaks the signature.
    const inline = new URL(url);
    inline.searchParams.set('response-content-disposition', 'inline');
    expect((await fetch(inline)).status).toBe(403);
  });

  it('stops working once expired', async () => {
    const storage = createStorage({ ...platform.spaces, forcePathStyle: true });
    try {
      const { jobId, token } = await uploaded(1_000, 'stale.bin');
      await settled(jobId, token);
      const key = `uploads/${jobId}/stale.bin`;
      const fresh = await presignGet(storage, { key, filename: 'stale.bin', expiresInSeconds: 60, signedAt: new Date() });
      const stale = await presignGet(storage, { key, filename: 'stale.bin', expiresInSeconds: 60, signedAt: new Date(Date.now() - 61_000) });
      expect((await fetch(fresh)).status).toBe(200);
      expect((await fetch(stale)).status).toBe(403);
    } finally {
      storage.client.destroy();
    }
  });

  it('is given to the token holder only: a wrong token gets a 404 and no URL', async () => {
    const { jobId, token } = await uploaded(1_000, 'private.bin');
    await settled(jobId, token);
    const wrong = await postRaw(platform.apiBase, 'status', { jobId, token: `${token.slice(0, -2)}xx` });
    expect(wrong.status).toBe(404);
    expect(wrong.json).toEqual({ error: { code: 'JOB_NOT_FOUND', message: expect.any(String) } });
    expect(JSON.stringify(wrong.json)).not.toContain('X-Amz');
    // The other calls a holder makes carry no URL either: only status hands it out.
    const repeated = await client.complete({ jobId, token });
    expect(repeated.job).toMatchObject({ id: jobId, status: 'succeeded' });
    expect(repeated.job.downloadUrl).toBeUndefined();
  });

  it('is absent while the file is not stored: before the upload, and once cancelled', async () => {
    const created = await client.create({ filename: 'later.bin', size: 10, contentType: 'application/octet-stream' });
    expect((await client.status(created)).job).toMatchObject({ status: 'awaiting_upload' });
    expect((await client.status(created)).job.downloadUrl).toBeUndefined();
    await client.abort(created);
    const cancelled = (await client.status(created)).job;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.downloadUrl).toBeUndefined();
  });
});
