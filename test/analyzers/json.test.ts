import { describe, expect, it } from 'vitest';
import type { JsonSummary } from '../../src/analyzers/json.js';
import { analyze, bytes, largeChunkSizes, utf16 } from './fixtures.js';

async function jsonSummary(text: string | Uint8Array, filename = 'data.json', sizes?: readonly number[]): Promise<JsonSummary> {
  const report = await analyze(typeof text === 'string' ? bytes(text) : text, 'application/json', filename, sizes);
  expect(report.ran).toContain('json');
  return report.results.json as JsonSummary;
}

describe('json analyzer', () => {
  it('reports the top-level keys and depth of an object', async () => {
    const summary = await jsonSummary('{"name": "Zoë", "tags": ["a", {"deep": [1, 2.5e-3, -0]}], "caf\\u00e9": null, "ok": true}');
    expect(summary).toEqual({
      valid: true,
      error: null,
      topLevelType: 'object',
      maxDepth: 4,
      records: null,
      keys: ['name', 'tags', 'café', 'ok'],
      keyCount: 4,
      keyCountExact: true,
      keysTruncated: false,
      bom: false,
    });
  });

  it('counts the records of a top-level array and unites their keys', async () => {
    const records = Array.from({ length: 250 }, (_, index) => ({ id: index, ...(index % 2 === 0 ? { even: true } : { odd: 'yes' }) }));
    const summary = await jsonSummary(JSON.stringify(records, null, 2));
    expect(summary).toMatchObject({ valid: true, topLevelType: 'array', records: 250, keys: ['id', 'even', 'odd'], keyCount: 3, maxDepth: 2 });
  });

  it('counts every distinct key but lists only the first ones, each cut short if huge', async () => {
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, index) => [`key_${index}`, index]));
    const summary = await jsonSummary(JSON.stringify([many, { key_1: 'again', extra: true }]), 'data.json', largeChunkSizes);
    expect(summary).toMatchObject({ valid: true, keyCount: 5001, keyCountExact: true, keysTruncated: true });
    expect(summary.keys.slice(0, 3)).toEqual(['key_0', 'key_1', 'key_2']);
    expect(summary.keys.length).toBeLessThanOrEqual(200);

    // Long keys that share their first 256 bytes are still told apart by the count.
    const huge = Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`${'k'.repeat(100_000)}${index}`, index]));
    const hugeSummary = await jsonSummary(JSON.stringify(huge), 'data.json', largeChunkSizes);
    expect(hugeSummary).toMatchObject({ keyCount: 300, keysTruncated: true });
    expect(hugeSummary.keys[0]).toBe('k'.repeat(256));
    expect(Buffer.byteLength(JSON.stringify(hugeSummary.keys))).toBeLessThanOrEqual(16 * 1024);
  });

  it('knows an escaped key and its plain spelling are the same key', async () => {
    const summary = await jsonSummary('[{"caf\\u00e9": 1, "\\ud83d\\ude00": 2}, {"café": 3, "😀": 4, "a\\"b": 5}]');
    expect(summary).toMatchObject({ valid: true, keys: ['café', '😀', 'a"b'], keyCount: 3 });
  });

  it('reports nesting deeper than it analyses as an error, not a crash', async () => {
    const depth = 100_001;
    const summary = await jsonSummary(`${'['.repeat(depth)}${']'.repeat(depth)}`, 'data.json', [7, ...largeChunkSizes]);
    expect(summary).toMatchObject({ valid: false, maxDepth: 100_000, error: { message: 'Nesting deeper than 100000 levels is not analysed', offset: 100_000 } });
  });

  it('reads a UTF-16 document as the same JSON', async () => {
    const text = '\uFEFF{"städte": ["Köln", "Zürich"], "n": 2}';
    const summary = await jsonSummary(utf16(text, 'utf-16le'), 'data.json');
    expect(summary).toMatchObject({ valid: true, bom: true, topLevelType: 'object', keys: ['städte', 'n'], keyCount: 2 });
  });

  it('gives the byte offset, line and column of the first error', async () => {
    const text = '{\n  "a": [1, 2],\n  "b": {"c": tru}\n}';
    const summary = await jsonSummary(text);
    expect(summary.valid).toBe(false);
    expect(summary.error).toEqual({ message: "Unexpected '}' in literal", offset: text.indexOf('tru}') + 3, line: 3, column: 17 });
    // Columns count characters, not bytes.
    expect((await jsonSummary('["ü€", x]')).error).toMatchObject({ line: 1, column: 8, offset: 10 });
    expect((await jsonSummary('[1, 2')).error).toEqual({ message: 'Unexpected end of JSON input', offset: 5, line: 1, column: 6 });
    expect((await jsonSummary('{"a":1}\n{"b":2}\n')).error).toMatchObject({ line: 2, column: 1, offset: 8 });
  });

  it('agrees with JSON.parse on what is valid', async () => {
    const cases = [
      '0', '-0', '01', '1.', '.5', '-', '1e', '1e+', '1E-7', '-12.5e10', '"\\u12"', '"\\u00zz"', '"a\\qb"', '"tab\there"',
      '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '[1,]', '{"a":1,}', '{a:1}', "{'a':1}", '[1 2]', '{"a" 1}', 'true', 'tru', 'nul', 'falsey',
      'null', '  ', '', '[[[[]]]]', '[[[[]]]', '{"a":{"b":{"c":[]}}}', '"unterminated', '[1]]', '{}', '[]', '[{}, {"":""}]',
    ];
    for (const text of cases) {
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      expect({ text, valid: (await jsonSummary(text)).valid }).toEqual({ text, valid: parses });
    }
  });

  it('skips a UTF-8 byte order mark and reports it', async () => {
    const summary = await jsonSummary(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('[1]')]));
    expect(summary).toMatchObject({ valid: true, bom: true, records: 1 });
  });

  it('reports an empty document as invalid', async () => {
    expect((await jsonSummary('')).error?.message).toContain('empty');
  });
});
