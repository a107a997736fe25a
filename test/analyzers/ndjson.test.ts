import { describe, expect, it } from 'vitest';
import type { NdjsonSummary } from '../../src/analyzers/ndjson.js';
import { analyze, bytes, utf16 } from './fixtures.js';

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

  it('takes the keys of good lines only, and counts them all', async () => {
    const lines = ['{"a": 1, "b": 2}', '{"c": 3, "d": ', '{"a": 1, "e": [1, {"deep": 1}]}', '[{"inner": 1}]'];
    const summary = await ndjsonSummary(`${lines.join('\n')}\n`);
    expect(summary).toMatchObject({ records: 3, badLines: 1, keys: ['a', 'b', 'e'], keyCount: 3, keyCountExact: true, keysTruncated: false });
  });

  it('says what is wrong with a bad line', async () => {
    const summary = await ndjsonSummary('{"a": 1} {"b": 2}\n[1, 2\n{"a": tru}\n"unterminated\n');
    expect(summary.firstBadLines).toEqual([
      { line: 1, error: "Unexpected '{' after the JSON value (one value per line)" },
      { line: 2, error: 'Unexpected end of JSON input at the end of the line' },
      { line: 3, error: "Unexpected '}' in literal" },
      { line: 4, error: 'Bad control character in string literal' },
    ]);
  });

  it('reads a UTF-16 file with a BOM as the same lines', async () => {
    const summary = await ndjsonSummary(utf16('\uFEFF{"ü": 1}\r\n{"ü": 2}\r\n', 'utf-16be'));
    expect(summary).toMatchObject({ valid: true, lines: 2, records: 2, keys: ['ü'] });
  });
});
