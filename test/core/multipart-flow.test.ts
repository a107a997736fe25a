// Multipart resume and abort against real Postgres and the local S3 server: these need the
// store's ListParts and AbortMultipartUpload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minPartSizeBytes } from '../../src/config.js';
import { findJob } from '../../src/db/jobs.js';
import { abortUpload } from '../../src/jobs/abort.js';
import { completeUpload } from '../../src/jobs/complete.js';
import { createUpload } from '../../src/jobs/create.js';
import { signParts } from '../../src/jobs/parts.js';
import type { UploadServices } from '../../src/jobs/services.js';
import { headObject, listUploadedParts } from '../../src/storage/spaces.js';
import { apiError, freshClient, startCoreServices, uploadServicesFor, type CoreServices } from './support.js';

let core: CoreServices;
beforeAll(async () => {
  core = await startCoreServices({ spaces: true });
});
afterAll(async () => {
  await core?.stop();
});

const anonymousEnv = { ALLOW_ANONYMOUS_UPLOADS: 'true', MULTIPART_THRESHOLD_BYTES: String(minPartSizeBytes), ALLOWED_CONTENT_TYPES: 'text/*,application/octet-stream' };

function services(env: Record<string, string> = anonymousEnv): UploadServices {
  return uploadServicesFor(core, env);
}

describe('multipart upload', () => {
  it('resumes: parts reports what is uploaded, complete refuses missing parts, then completes', async () => {
    const s = services();
    const size = minPartSizeBytes + 1000;
    const file = Buffer.alloc(size, 7);
    const created = await createUpload(s, { filename: 'big.bin', size, contentType: 'application/octet-stream' }, freshClient());
    expect(created.upload).toMatchObject({ kind: 'multipart', partSize: minPartSizeBytes, partCount: 2 });
    const token = { jobId: created.jobId, token: created.token };

    const first = await signParts(s, { ...token, partNumbers: [1] });
    expect(first.uploaded).toEqual([]);
    const put1 = await fetch(first.parts[0]!.url, { method: 'PUT', body: new Uint8Array(file.subarray(0, minPartSizeBytes)) });
    expect(put1.status).toBe(200);

    // "Reload": a new client state asks what is there.
    const resumed = await signParts(s, { ...token, partNumbers: [2] });
    expect(resumed.uploaded.map((part) => [part.partNumber, part.size])).toEqual([[1, minPartSizeBytes]]);
    const incomplete = await apiError(completeUpload(s, token));
    expect([incomplete.status, incomplete.code, incomplete.details?.missingParts]).toEqual([409, 'UPLOAD_INCOMPLETE', [2]]);

    // The part URL signs the part's exact length: a longer body is refused.
    const tooLong = await fetch(resumed.parts[0]!.url, { method: 'PUT', body: new Uint8Array(file.subarray(0, 2000)) });
    expect(tooLong.status).toBeGreaterThanOrEqual(400);
    const put2 = await fetch(resumed.parts[0]!.url, { method: 'PUT', body: new Uint8Array(file.subarray(minPartSizeBytes)) });
    expect(put2.status).toBe(200);

    const job = await completeUpload(s, token);
    expect(job.status).toBe('queued');
    expect((await headObject(s.storage, `uploads/${created.jobId}/big.bin`))?.size).toBe(size);
    expect((await completeUpload(s, token)).status).toBe('queued');
  });

  it('abort aborts the multipart upload', async () => {
    const s = services();
    const created = await createUpload(s, { filename: 'm.bin', size: minPartSizeBytes * 2, contentType: 'application/octet-stream' }, freshClient());
    expect((await abortUpload(s, { jobId: created.jobId, token: created.token })).status).toBe('cancelled');
    const row = await findJob(s.db, created.jobId);
    expect(await listUploadedParts(s.storage, row!.objectKey, row!.uploadId!)).toBeUndefined();
  });
});

