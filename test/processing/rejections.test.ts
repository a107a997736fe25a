// A file that is not what it claims is rejected by process/file and its object deleted: bytes of a
// type the deployment does not accept (whatever was declared), or a SHA-256 other than the one
// declared at create. A file that is what it claims succeeds.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headObject } from '../../src/storage/spaces.js';
import { bytes, makePng } from '../analyzers/fixtures.js';
import { startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;

beforeAll(async () => {
  // No image types: a PNG may be declared as text/csv at create, but its bytes are not accepted.
  p = await startProcessingPlatform({ ALLOWED_CONTENT_TYPES: 'text/csv,text/plain,application/json' });
  await p.holdActivitySweeps();
});

afterAll(async () => {
  await p?.stop();
});

async function settled(jobId: string): Promise<string> {
  let status = '';
  await expect
    .poll(
      async () => {
        status = (await p.job(jobId)).status;
        return ['succeeded', 'rejected', 'failed'].includes(status);
      },
      { timeout: 15_000, interval: 50 },
    )
    .toBe(true);
  return status;
}

describe('a file that is not what it claims', () => {
  it('is rejected when its bytes are a type that is not allowed, and its object deleted', async () => {
    const { jobId, token } = await p.upload(makePng(4, 4), 'table.csv', 'text/csv');
    expect(await settled(jobId)).toBe('rejected');
    const job = await p.job(jobId);
    expect(job).toMatchObject({ attempts: 1, errorCode: 'CONTENT_TYPE_NOT_ALLOWED', result: null });
    expect(job.errorMessage).toContain('image/png');
    expect(await headObject(p.storage, job.objectKey)).toBeUndefined();
    const { job: view } = await p.client.status({ jobId, token });
    expect(view).toMatchObject({ status: 'rejected', error: { code: 'CONTENT_TYPE_NOT_ALLOWED' } });
    // The types that disagreed, for a client to say in its own words (the page's "Rejected: the bytes are a PNG image, not CSV").
    expect(view.events?.at(-1)).toMatchObject({
      event: 'rejected',
      from: 'processing',
      to: 'rejected',
      attempt: 1,
      detail: { code: 'CONTENT_TYPE_NOT_ALLOWED', detectedType: 'image/png', declaredType: 'text/csv' },
    });
  });

  it('is rejected when its SHA-256 differs from the declared one, and its object deleted', async () => {
    const data = bytes('the real content\n');
    const declared = createHash('sha256').update('something else').digest('hex');
    const { jobId } = await p.upload(data, 'notes.txt', 'text/plain', { sha256: declared });
    expect(await settled(jobId)).toBe('rejected');
    const job = await p.job(jobId);
    expect(job).toMatchObject({ errorCode: 'SHA256_MISMATCH' });
    expect(job.errorMessage).toContain(createHash('sha256').update(data).digest('hex'));
    expect(await headObject(p.storage, job.objectKey)).toBeUndefined();
  });

  it('succeeds when it is what it claims (declared SHA-256 and an allowed type)', async () => {
    const data = bytes('a,b\n1,2\n');
    const { jobId } = await p.upload(data, 'good.csv', 'text/csv', { sha256: createHash('sha256').update(data).digest('hex') });
    expect(await settled(jobId)).toBe('succeeded');
    const job = await p.job(jobId);
    expect(await headObject(p.storage, job.objectKey)).toBeDefined();
  });
});
