import { describe, expect, it } from 'vitest';
import type { NdjsonSummary } from '../../src/analyzers/ndjson.js';
import { analyze, bytes } from './fixtures.js';

async function ndjsonSummary(text: string | Uint8Array, contentType = 'application/x-ndjson', filename = 'events.ndjson'): Promise<NdjsonSummary> {
  const report = await analyze(typeof text === 'string' ? bytes(text) : text, contentType, filename);
  expect(report.ran).toContain('ndjson');
  return report.results.ndjson as NdjsonSummary;
}

describe('ndjson analyzer', () => {
  it('counts records, blank lines and the one bad line, with its number', async () => {
    const text = [
      '{"id": 1, "user": "zoë", "tags": ["a"]}',
      '{"id": 2, "score": 1.5}',
      '',
      '{"id": 3, "user": "bob"',
      '[1, 2, 3]',
      '"just a string"',
      '{"id": 4, "nested": {"x": 1}}',
    ].join('\r\n');
    const summary = await ndjsonSummary(text);
    expect(summary).toMatchObject({
      valid: false,
      lines: 7,
      records: 5,
      blankLines: 1,
      badLines: 1,
      types: { object: 3, array: 1, string: 1, number: 0, boolean: 0, null: 0 },
      keys: ['id', 'user', 'tags', 'score', 'nested'],
      keysTruncated: false,
    });
    expect(summary.firstBadLines).toEqual([{ line: 4, error: expect.stringContaining('JSON') as string }]);
  });

  it('lists only the first few bad lines but counts them all', async () => {
    const lines = Array.from({ length: 40 }, (_, index) => (index % 4 === 1 ? `{bad ${index}` : `{"n": ${index}}`));
    const summary = await ndjsonSummary(`${lines.join('\n')}\n`, 'application/jsonl', 'data.jsonl');
    expect(summary).toMatchObject({ valid: false, lines: 40, records: 30, badLines: 10 });
    expect(summary.firstBadLines.map((bad) => bad.line)).toEqual([2, 6, 10, 14, 18]);
  });

  it('reports a clean file as valid', async () => {
    const text = Array.from({ length: 1000 }, (_, index) => JSON.stringify({ index, text: `ünïcödé ${index}` })).join('\n');
    const summary = await ndjsonSummary(`${text}\n`);
    expect(summary).toMatchObject({ valid: true, lines: 1000, records: 1000, badLines: 0, keys: ['index', 'text'] });
  });

  it('leaves invalid UTF-8 to the text analyzer: the line is a record with U+FFFD in it', async () => {
    // Every text analyzer reads the same decoded text (src/analyzers/text-input.ts); the encoding
    // error is counted once, by the text summary, with its offset.
    const data = new Uint8Array([...bytes('{"a": "ok"}\n{"a": "'), 0xff, ...bytes('"}\n{"a": 1}\n')]);
    const report = await analyze(data, 'application/x-ndjson', 'events.ndjson');
    expect(report.results.ndjson).toMatchObject({ valid: true, records: 3, badLines: 0 });
    expect(report.results.text).toMatchObject({ utf8Valid: false, invalidSequences: 1, firstInvalidByteOffset: 19 });
  });

});
