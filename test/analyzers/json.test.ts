import { describe, expect, it } from 'vitest';
import type { JsonSummary } from '../../src/analyzers/json.js';
import { analyze, bytes } from './fixtures.js';

async function jsonSummary(text: string | Uint8Array, filename = 'data.json'): Promise<JsonSummary> {
  const report = await analyze(typeof text === 'string' ? bytes(text) : text, 'application/json', filename);
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
      keysTruncated: false,
      bom: false,
    });
  });

  it('counts the records of a top-level array and unites their keys', async () => {
    const records = Array.from({ length: 250 }, (_, index) => ({ id: index, ...(index % 2 === 0 ? { even: true } : { odd: 'yes' }) }));
    const summary = await jsonSummary(JSON.stringify(records, null, 2));
    expect(summary).toMatchObject({ valid: true, topLevelType: 'array', records: 250, keys: ['id', 'even', 'odd'], maxDepth: 2 });
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
