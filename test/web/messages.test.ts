// What the page says about a job that did not simply succeed: a rejection in a line of plain words
// from the facts the server recorded with it, never a media type or an error code.
import { describe, expect, it } from 'vitest';
import type { JobView } from '../../src/client/index.js';
import { explainJob, rejectionHeadline } from '../../web/src/messages.js';

function rejected(code: string, message: string, detail: Record<string, unknown> | null): JobView {
  return {
    id: '00000000-0000-4000-8000-000000000000',
    status: 'rejected',
    filename: 'data.json',
    size: 2048,
    contentType: 'application/json',
    sha256: null,
    createdAt: '2026-12-02T00:00:00.000Z',
    updatedAt: '2026-12-02T00:00:01.000Z',
    finishedAt: '2026-12-02T00:00:01.000Z',
    attempts: 1,
    maxAttempts: 3,
    error: { code, message },
    result: null,
    buildId: null,
    downloadUrl: null,
    events: [
      { event: 'created', from: null, to: 'awaiting_upload', attempt: 0, at: '2026-12-02T00:00:00.000Z', activationId: null, codeVersion: null, detail: null },
      { event: 'rejected', from: 'processing', to: 'rejected', attempt: 1, at: '2026-12-02T00:00:01.000Z', activationId: null, codeVersion: null, detail },
    ],
  } as unknown as JobView;
}

describe('a rejected job', () => {
  it('says what the bytes are and what they were meant to be', () => {
    const job = rejected('CONTENT_TYPE_NOT_ALLOWED', 'The file’s bytes are application/zip, which is not an accepted type (declared application/json).', {
      code: 'CONTENT_TYPE_NOT_ALLOWED',
      detectedType: 'application/zip',
      declaredType: 'application/json',
    });
    expect(rejectionHeadline(job)).toBe('Rejected: the bytes are a ZIP archive, not JSON');
    expect(explainJob(job).detail).toBe(
      'It was sent as JSON, but its bytes are a ZIP archive, which this server does not accept. The stored file was deleted; check the file, then add it again.',
    );
    const audio = rejected('CONTENT_TYPE_NOT_ALLOWED', '…', { code: 'CONTENT_TYPE_NOT_ALLOWED', detectedType: 'audio/mpeg', declaredType: 'text/csv' });
    expect(rejectionHeadline(audio)).toBe('Rejected: the bytes are an MP3 audio file, not CSV');
  });

  it('says which sizes disagreed, or which hash', () => {
    const size = rejected('SIZE_MISMATCH', 'The uploaded file has 500 bytes; 1000 were declared.', { code: 'SIZE_MISMATCH', storedBytes: 500, declaredBytes: 1000 });
    expect(rejectionHeadline(size)).toBe('Rejected: not the size announced');
    expect(explainJob(size).detail).toMatch(/^500 bytes reached storage; 1,000 were announced\. /);
    expect(rejectionHeadline(rejected('SHA256_MISMATCH', 'x', { code: 'SHA256_MISMATCH' }))).toBe('Rejected: not the bytes announced (SHA-256 differs)');
  });

  it('falls back to the server’s sentence when it recorded no facts (a job from before they were kept)', () => {
    const job = rejected('CONTENT_TYPE_NOT_ALLOWED', 'The file’s bytes are application/zip, which is not an accepted type.', { code: 'CONTENT_TYPE_NOT_ALLOWED' });
    expect(rejectionHeadline(job)).toBe('Rejected: the file’s bytes are application/zip, which is not an accepted type');
    expect(explainJob(job).detail).toBe('The file’s bytes are application/zip, which is not an accepted type. The stored file was deleted; check the file, then add it again.');
  });
});
