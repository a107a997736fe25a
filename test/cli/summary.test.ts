// The one line `sluice upload` prints per file: the page's headline (web/src/result-view.ts) of the
// most specific analyzer, for what the real analyzers make of real files, or the reason it failed.
import { describe, expect, it } from 'vitest';
import { runAnalyzers } from '../../src/analyzers/run.js';
import { jobOutcome, resultHeadline } from '../../src/cli/summary.js';
import { describeResult } from '../../web/src/result-view.js';
import { bytes, makePng } from '../analyzers/fixtures.js';

async function resultFor(data: Uint8Array, contentType: string, filename: string): Promise<Record<string, unknown>> {
  async function* once(): AsyncGenerator<Uint8Array> {
    yield data;
  }
  return (await runAnalyzers(once(), { contentType, filename, size: data.length })).results;
}

function pageHeadline(result: unknown, analyzer: string): string {
  const section = describeResult(result).find((candidate) => candidate.analyzer === analyzer);
  if (section === undefined) throw new Error(`no ${analyzer} section`);
  return section.headline;
}

describe('resultHeadline', () => {
  it.each([
    ['people.csv', bytes('name,age\nada,36\ngrace,45\n'), 'text/csv', 'csv', 'CSV'],
    ['events.ndjson', bytes('{"a":1}\n{"a":2}\n'), 'application/x-ndjson', 'ndjson', 'NDJSON'],
    ['doc.json', bytes('{"a":[1,2]}'), 'application/json', 'json', 'JSON'],
    ['dot.png', makePng(3, 2), 'image/png', 'image', 'Image'],
    ['notes.txt', bytes('hello\nworld\n'), 'text/plain', 'text', 'Text'],
  ])('%s: the %s analyzer says most', async (filename, data, contentType, analyzer, title) => {
    const result = await resultFor(data, contentType, filename);
    expect(resultHeadline(result)).toBe(`${title} · ${pageHeadline(result, analyzer)}`);
  });

  it('falls back to the file facts when no analyzer knows the format', async () => {
    const result = await resultFor(new Uint8Array([0, 1, 2, 3, 0, 0xff]), 'application/octet-stream', 'blob.bin');
    expect(resultHeadline(result)).toBe(pageHeadline(result, 'file'));
    expect(resultHeadline(result)).toMatch(/^6 bytes · application\/octet-stream · binary$/);
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
