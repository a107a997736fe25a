// The one line `sluice upload` prints per file: the page's headline (web/src/result-view.ts) of the
// most specific analyzer, for what the real analyzers make of real files, or the reason it failed.
import { describe, expect, it } from 'vitest';
import { runAnalyzers } from '../../src/analyzers/run.js';
import { jobOutcome, resultHeadline } from '../../src/cli/summary.js';
import { resultHeadline as pageHeadline } from '../../web/src/result-view.js';
import { bytes, makePng } from '../analyzers/fixtures.js';

async function resultFor(data: Uint8Array, contentType: string, filename: string): Promise<Record<string, unknown>> {
  async function* once(): AsyncGenerator<Uint8Array> {
    yield data;
  }
  return (await runAnalyzers(once(), { contentType, filename, size: data.length })).results;
}

describe('resultHeadline', () => {
  it.each([
    ['people.csv', bytes('name,age\nada,36\ngrace,45\n'), 'text/csv', 'CSV · 2 rows × 2 columns'],
    ['events.ndjson', bytes('{"a":1}\n{"a":2}\n'), 'application/x-ndjson', 'NDJSON · 2 records'],
    ['doc.json', bytes('{"a":[1,2]}'), 'application/json', 'JSON · an object with 1 key'],
    ['broken.json', bytes('{"a":[1,2}'), 'application/json', 'Invalid JSON at line 1, column 10'],
    ['dot.png', makePng(3, 2), 'image/png', 'Image · PNG · 3 × 2'],
    ['notes.txt', bytes('hello\nworld\n'), 'text/plain', 'Text · 2 lines · 2 words'],
    ['blob.bin', new Uint8Array([0, 1, 2, 3, 0, 0xff]), 'application/octet-stream', 'Binary file · 6 bytes'],
  ])('%s: the page’s headline, from the analysis that says most', async (filename, data, contentType, headline) => {
    const result = await resultFor(data, contentType, filename);
    expect(resultHeadline(result)).toBe(headline);
    expect(resultHeadline(result)).toBe(pageHeadline(result)?.text);
  });

  it('is empty when there is no result', () => {
    expect(resultHeadline(null)).toBe('');
  });
});

describe('jobOutcome', () => {
  const base = { size: 10, contentType: 'text/csv', result: null, error: null };
  it('gives the reason of a job that did not succeed', () => {
    expect(jobOutcome({ ...base, status: 'rejected', error: { code: 'CONTENT_TYPE_NOT_ALLOWED', message: 'The bytes are a PDF.' } })).toBe('CONTENT_TYPE_NOT_ALLOWED: The bytes are a PDF.');
    expect(jobOutcome({ ...base, status: 'queued', error: { code: 'LEASE_EXPIRED', message: 'gone' } })).toBe('waiting for a retry after LEASE_EXPIRED: gone');
    expect(jobOutcome({ ...base, status: 'cancelled' })).toBe('the upload was cancelled');
  });
});
