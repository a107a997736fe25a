// The client validates every answer with src/client/schemas.ts while the server builds its answers
// with its own code (src/jobs/*). This keeps the two in step without services: what the server's
// builders produce must pass the client's schemas, and the shared limits must agree.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createResponseSchema,
  jobResponseSchema,
  limitsResponseSchema,
  maxPartNumber,
  maxPartsPerSignRequest,
  partsResponseSchema,
} from '../../src/client/schemas.js';
import { maxPartCount, maxPartNumbersPerCall, type UploadConfig } from '../../src/config.js';
import type { JobEventRow, JobRow } from '../../src/db/jobs.js';
import type { CreatedUpload } from '../../src/jobs/create.js';
import { limitsView } from '../../src/jobs/limits.js';
import type { PartsAnswer } from '../../src/jobs/parts.js';
import { toJobView } from '../../src/jobs/view.js';

const now = new Date('2026-01-02T03:04:05Z');

function jobRow(overrides: Partial<JobRow>): JobRow {
  return {
    id: randomUUID(),
    status: 'awaiting_upload',
    filename: 'table.csv',
    objectKey: 'uploads/x/table.csv',
    size: 1234,
    contentType: 'text/csv',
    sha256: null,
    tokenHash: Buffer.alloc(32),
    clientId: 'ip:127.0.0.1',
    uploadKind: 'single',
    uploadId: null,
    partSize: null,
    partCount: null,
    attempts: 0,
    maxAttempts: 5,
    runAfter: now,
    leaseExpiresAt: null,
    activationId: null,
    buildId: null,
    dispatchedAt: null,
    result: null,
    resultJson: null,
    errorCode: null,
    errorMessage: null,
    createdAt: now,
    updatedAt: now,
    expiresAt: now,
    finishedAt: null,
    uploadCheckedAt: null,
    objectEtag: null,
    ...overrides,
  };
}

function event(jobId: string, overrides: Partial<JobEventRow>): JobEventRow {
  return {
    id: 1,
    jobId,
    at: now,
    event: 'created',
    fromStatus: null,
    toStatus: 'awaiting_upload',
    attempt: 0,
    activationId: null,
    codeVersion: null,
    detail: null,
    ...overrides,
  };
}

describe('server answers pass the client schemas', () => {
  it.each([
    ['awaiting upload', jobRow({})],
    ['succeeded with a result', jobRow({ status: 'succeeded', attempts: 1, result: { size: 1234, csv: { rows: 3 } }, finishedAt: now, buildId: 'abc' })],
    ['rejected with a reason', jobRow({ status: 'rejected', errorCode: 'SIZE_MISMATCH', errorMessage: 'too short', finishedAt: now })],
    ['multipart, with a sha256', jobRow({ uploadKind: 'multipart', uploadId: 'u', partSize: 8, partCount: 2, sha256: 'a'.repeat(64) })],
  ])('job view: %s', (_label, row) => {
    const events = [
      event(row.id, {}),
      event(row.id, { id: 2, event: 'uploaded', fromStatus: 'awaiting_upload', toStatus: 'queued', activationId: 'act', codeVersion: 'v1', detail: { size: 1234 } }),
    ];
    const parsed = jobResponseSchema.safeParse(JSON.parse(JSON.stringify({ job: toJobView(row, events) })));
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('create answers, single and multipart', () => {
    const single: CreatedUpload = {
      jobId: randomUUID(),
      token: 'sg7Y97vmgNFEwHullXk8h8_mIGtf8xJTnPREKoIClz0',
      expiresAt: now.toISOString(),
      upload: { kind: 'single', method: 'PUT', url: 'http://127.0.0.1:1/b/k?X-Amz-Signature=0', headers: { 'Content-Type': 'text/csv' }, expiresAt: now.toISOString() },
    };
    const multipart: CreatedUpload = { ...single, upload: { kind: 'multipart', uploadId: 'abc', partSize: 8 * 1024 * 1024, partCount: 3 } };
    expect(createResponseSchema.safeParse(single).error?.issues ?? []).toEqual([]);
    expect(createResponseSchema.safeParse(multipart).error?.issues ?? []).toEqual([]);
  });

  it('parts answers', () => {
    const answer: PartsAnswer = {
      parts: [{ partNumber: 2, url: 'http://127.0.0.1:1/b/k?partNumber=2' }],
      uploaded: [{ partNumber: 1, etag: '"abc"', size: 8 }],
      expiresAt: now.toISOString(),
      partSize: 8,
      partCount: 2,
    };
    expect(partsResponseSchema.safeParse(answer).error?.issues ?? []).toEqual([]);
  });

  it('limits answers', () => {
    const config: UploadConfig = {
      apiKeyHashes: [],
      allowAnonymousUploads: true,
      maxUploadBytes: 10,
      allowedContentTypes: ['image/*'],
      uploadsPerHour: 1,
      bytesPerDay: 1,
      multipartThresholdBytes: 5,
    };
    expect(limitsResponseSchema.safeParse(limitsView(config)).error?.issues ?? []).toEqual([]);
  });

  it('the client and the server agree on the part limits', () => {
    expect(maxPartsPerSignRequest).toBe(maxPartNumbersPerCall);
    expect(maxPartNumber).toBe(maxPartCount);
  });
});
