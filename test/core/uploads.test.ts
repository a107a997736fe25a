// Pure parts of the upload API: filename cleaning, content types, the part plan, request schemas.
import { describe, expect, it } from 'vitest';
import { maxFilenameBytes, maxPartCount, minPartSizeBytes } from '../../src/config.js';
import { isContentTypeAllowed, mediaTypePattern, sameMediaType } from '../../src/jobs/content-types.js';
import { sanitizeFilename, utf8Bytes } from '../../src/jobs/filename.js';
import { createRequestSchema, partsRequestSchema } from '../../src/jobs/schemas.js';
import { partLength, planUpload } from '../../src/jobs/upload-plan.js';

describe('sanitizeFilename', () => {
  it.each([
    ['report.csv', 'report.csv'],
    ['../../x', 'x'],
    ['C:\\Users\\me\\data.json', 'data.json'],
    ['a\u0000b.txt', 'ab.txt'],
    ['invoice\u202Etxt.exe', 'invoicetxt.exe'],
    ['\u2066evil\u2069.png', 'evil.png'],
    ['  many   spaces\t.csv  ', 'many spaces .csv'],
    ['zero\u200Bwidth.txt', 'zerowidth.txt'],
    ['trailing dots...', 'trailing dots'],
    ['e\u0301te\u0301.txt', 'été.txt'],
  ])('%j → %j', (raw, clean) => {
    expect(sanitizeFilename(raw)).toBe(clean);
  });

  it.each(['', '..', '../..', '/', '\u0000\u0001', '\u202E', 'dir/', '   '])('%j has nothing usable', (raw) => {
    expect(sanitizeFilename(raw)).toBeUndefined();
  });

  it('shortens long names to the byte limit, whole characters only, keeping the extension', () => {
    const name = sanitizeFilename(`${'é'.repeat(300)}.csv`) ?? '';
    expect(utf8Bytes(name)).toBeLessThanOrEqual(maxFilenameBytes);
    expect(name.endsWith('é.csv')).toBe(true);
    expect(name).not.toContain('\uFFFD');
    const emoji = sanitizeFilename('😀'.repeat(100)) ?? '';
    expect(utf8Bytes(emoji)).toBe(252);
    expect([...emoji].every((character) => character === '😀')).toBe(true);
  });
});

describe('content types', () => {
  const allowed = ['text/csv', 'image/*', 'application/json'];

  it.each([
    ['text/csv', true],
    ['TEXT/CSV; charset=utf-8', true],
    ['image/png', true],
    ['image/svg+xml', true],
    ['application/json', true],
    ['application/pdf', false],
    ['text/plain', false],
    ['imagex/png', false],
  ])('%s allowed: %s', (type, expected) => {
    expect(isContentTypeAllowed(type, allowed)).toBe(expected);
  });

  it('compares stored and declared types ignoring case and parameter spacing', () => {
    expect(sameMediaType('text/csv;charset=utf-8', 'Text/CSV; charset=UTF-8')).toBe(true);
    expect(sameMediaType('text/csv', 'text/plain')).toBe(false);
    expect(sameMediaType('text/csv', 'text/csv; charset=utf-8')).toBe(false);
  });

  it('*/* allows everything', () => {
    expect(isContentTypeAllowed('application/x-anything', ['*/*'])).toBe(true);
  });

  it.each(['text/csv', 'text/csv; charset=utf-8', 'text/plain;format="flowed"', 'application/vnd.ms-excel'])('%s is a media type', (type) => {
    expect(mediaTypePattern.test(type)).toBe(true);
  });

  it.each(['text', 'text/csv\r\nx-evil: 1', 'text/csv; charset', '/csv', 'text/', 'a b/c', 'text/csv; a="b\nc"'])('%j is not', (type) => {
    expect(mediaTypePattern.test(type)).toBe(false);
  });
});

describe('planUpload', () => {
  const mebibyte = 1024 * 1024;

  it('uses a single PUT below the threshold', () => {
    expect(planUpload(64 * mebibyte - 1, 64 * mebibyte)).toEqual({ kind: 'single' });
  });

  it('uses 8 MiB parts from the threshold on', () => {
    expect(planUpload(20 * mebibyte, 16 * mebibyte)).toEqual({ kind: 'multipart', partSize: minPartSizeBytes, partCount: 3 });
  });

  it('grows parts in whole MiB to stay within 10,000 parts', () => {
    const size = 5 * 1024 ** 4;
    const plan = planUpload(size, 64 * mebibyte);
    if (plan.kind !== 'multipart') throw new Error('expected multipart');
    expect(plan.partSize % mebibyte).toBe(0);
    expect(plan.partCount).toBeLessThanOrEqual(maxPartCount);
    expect(plan.partSize * plan.partCount).toBeGreaterThanOrEqual(size);
  });

  it('gives exact part lengths that add up to the size', () => {
    const size = 20 * mebibyte + 5;
    expect([1, 2, 3].map((n) => partLength(size, minPartSizeBytes, n))).toEqual([minPartSizeBytes, minPartSizeBytes, 4 * mebibyte + 5]);
  });
});

describe('request schemas', () => {
  it('accepts a well-formed create request and lower-cases sha256', () => {
    const parsed = createRequestSchema.parse({ filename: 'a.csv', size: 10, contentType: 'text/csv', sha256: 'AB'.repeat(32) });
    expect(parsed.sha256).toBe('ab'.repeat(32));
  });

  it.each([
    [{ filename: 'a.csv', size: 0, contentType: 'text/csv' }, 'size'],
    [{ filename: 'a.csv', size: 1.5, contentType: 'text/csv' }, 'size'],
    [{ filename: 'a.csv', size: '10', contentType: 'text/csv' }, 'size'],
    [{ filename: 'x'.repeat(10_000), size: 1, contentType: 'text/csv' }, 'filename'],
    [{ size: 1, contentType: 'text/csv' }, 'filename'],
    [{ filename: 'a', size: 1, contentType: 'text/csv', extra: 1 }, ''],
  ])('rejects %#', (body, path) => {
    const result = createRequestSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe(path);
  });

  it('limits and de-duplicates part numbers', () => {
    const jobId = '00000000-0000-4000-8000-000000000000';
    expect(partsRequestSchema.safeParse({ jobId, token: 't', partNumbers: [1, 1] }).success).toBe(false);
    expect(partsRequestSchema.safeParse({ jobId, token: 't', partNumbers: Array.from({ length: 101 }, (_, i) => i + 1) }).success).toBe(false);
    expect(partsRequestSchema.safeParse({ jobId, token: 't', partNumbers: [0] }).success).toBe(false);
    expect(partsRequestSchema.safeParse({ jobId, token: 't', partNumbers: [] }).success).toBe(true);
  });
});
