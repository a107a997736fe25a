import { describe, expect, it } from 'vitest';
import { analyzers } from '../../src/analyzers/index.js';
import { defaultSummaryBudgetBytes, maxSummaryDepth, resultBudgetBytes } from '../../src/analyzers/result-budget.js';
import { runAnalyzers } from '../../src/analyzers/run.js';
import type { Analyzer, JsonObject, JsonValue } from '../../src/analyzers/types.js';
import { analyze, bytes, chunked, makeJpeg, makePng, pseudoRandomBytes, utf16, windows1252 } from './fixtures.js';

/** An analyzer that reads bytes and returns `summary` whatever the file holds. */
function returning(name: string, summary: JsonObject, summaryBudgetBytes?: number): Analyzer {
  return {
    name,
    input: 'bytes',
    ...(summaryBudgetBytes === undefined ? {} : { summaryBudgetBytes }),
    accepts: () => true,
    create: () => ({ write: () => undefined, finish: async () => summary }),
  };
}

function nested(depth: number): JsonValue {
  let value: JsonValue = 'bottom';
  for (let level = 0; level < depth; level += 1) value = { level: value };
  return value;
}

const fileOnly = analyzers.filter((analyzer) => analyzer.name === 'file');

describe('runAnalyzers', () => {
  it('offers each file to the analyzers its declared type and its bytes call for', async () => {
    const cases: [Uint8Array, string, string, string[]][] = [
      [bytes('a,b\n1,2\n'), 'text/csv', 'a.csv', ['file', 'text', 'csv']],
      [bytes('a\tb\n1\t2\n'), 'text/tab-separated-values', 'a.tsv', ['file', 'text', 'csv']],
      [bytes('{"a": 1}'), 'application/json', 'a.json', ['file', 'text', 'json']],
      [bytes('{"a": 1}\n'), 'application/x-ndjson', 'a.ndjson', ['file', 'text', 'ndjson']],
      [bytes('hello\n'), 'text/plain', 'a.txt', ['file', 'text']],
      [makePng(2, 2), 'image/png', 'a.png', ['file', 'image']],
      [makePng(2, 2), 'text/csv', 'a.csv', ['file', 'image']],
      [makeJpeg(8, 8), 'application/octet-stream', 'upload', ['file', 'image']],
      [pseudoRandomBytes(10_000), 'application/octet-stream', 'a.bin', ['file']],
    ];
    for (const [data, contentType, filename, expected] of cases) {
      const report = await analyze(data, contentType, filename);
      expect({ filename, contentType, ran: report.ran }).toEqual({ filename, contentType, ran: expected });
      expect(report.crashed).toEqual([]);
      expect(Object.keys(report.results)).toEqual(expected);
    }
  });

  it('recognises UTF-16 with a BOM as text before byte signatures, and runs the text analyzers on it', async () => {
    // "Unicode Text" from a spreadsheet: UTF-16LE with a BOM, tab-separated, CRLF. Its BOM FF FE is
    // also an MPEG audio frame header, which is how file-type saw it.
    const table = '\uFEFFStadt\tEinwohner\tFläche\r\nKöln\t1084831\t405.02\r\nMünchen\t1512491\t310.7\r\n';
    const asUtf8 = await analyze(bytes(table), 'text/tab-separated-values', 'städte.tsv');
    for (const encoding of ['utf-16le', 'utf-16be'] as const) {
      const report = await analyze(utf16(table, encoding), 'text/tab-separated-values', 'städte.tsv');
      expect(report.sniffed).toEqual({ mime: null, ext: null, text: true, encoding });
      expect(report.ran).toEqual(['file', 'text', 'csv']);
      expect(report.results.file).toMatchObject({ kind: 'text', sniffedType: null, typeCheck: 'match' });
      // The CSV analyzer reads the same UTF-8 as for a UTF-8 file: nothing in it knows about UTF-16.
      expect(report.results.csv).toEqual(asUtf8.results.csv);
      expect(report.results.csv).toMatchObject({ valid: true, columns: 3 });
      expect(JSON.stringify(report.results.csv)).toContain('Fläche');
    }
  });

  it('keeps binary that merely starts like a UTF-16 BOM binary', async () => {
    const data = new Uint8Array([0xff, 0xfe, ...pseudoRandomBytes(5000, 3)]);
    const report = await analyze(data, 'application/octet-stream', 'blob.bin');
    expect(report.sniffed).toMatchObject({ text: false, encoding: null });
    expect(report.ran).toEqual(['file']);
  });

  it('reads 8-bit text as windows-1252 for every text analyzer', async () => {
    const table = 'Straße;Größe;Preis\nMüllerstraße;½;€ 5\nÆblevej;¼;“12”\n';
    const report = await analyze(windows1252(table), 'text/csv', 'legacy.csv');
    expect(report.sniffed.encoding).toBe('windows-1252');
    expect(report.results.csv).toEqual((await analyze(bytes(table), 'text/csv', 'legacy.csv')).results.csv);
    expect(JSON.stringify(report.results.csv)).toContain('Müllerstraße');
  });

  it('keeps every result storable: no U+0000, no unpaired surrogate, no nesting Postgres refuses', async () => {
    const hostile = returning('hostile', {
      nul: 'a\u0000b',
      loneHigh: 'x\uD800y',
      loneLow: '\uDC00',
      pair: '😀',
      ['key\u0000with nul']: [1, '\u0000', Number.NaN],
      deep: nested(maxSummaryDepth + 8),
    });
    const report = await runAnalyzers(chunked(bytes('x'), 1), { contentType: 'text/plain', filename: 'x', size: 1 }, { analyzers: [hostile] });
    const summary = report.results.hostile as Record<string, JsonValue>;
    expect(summary).toMatchObject({ nul: 'a\uFFFDb', loneHigh: 'x\uFFFDy', loneLow: '\uFFFD', pair: '😀', replacedCharacters: 5 });
    expect(summary['key\uFFFDwith nul']).toEqual([1, '\uFFFD', null]);
    const text = JSON.stringify(report.results);
    expect(text).not.toContain('\\u0000');
    expect(text).not.toMatch(/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i);
    expect(text.split('"level"').length - 1).toBe(maxSummaryDepth - 1);
  });

  it('holds each summary to its budget and the whole result to resultBudgetBytes, marking what it cut', async () => {
    const list = Array.from({ length: 100_000 }, (_, index) => ({ value: `item ${index}`, count: index }));
    const report = await runAnalyzers(chunked(bytes('x'), 1), { contentType: 'text/plain', filename: 'x', size: 1 }, {
      analyzers: [
        returning('small', { valid: true, note: 'fits' }, 1024),
        returning('list', { valid: true, items: list }),
        returning('string', { valid: true, sample: 'é'.repeat(1_000_000) }, 10 * 1024),
        ...Array.from({ length: 5 }, (_, index) => returning(`wide${index}`, { valid: true, items: list.slice(0, 3000) })),
      ],
    });
    const sizes = Object.fromEntries(Object.entries(report.results).map(([name, summary]) => [name, Buffer.byteLength(JSON.stringify(summary))]));
    expect(Buffer.byteLength(JSON.stringify(report.results))).toBeLessThanOrEqual(resultBudgetBytes);
    expect(report.results.small).toEqual({ valid: true, note: 'fits' });
    expect(sizes.list).toBeLessThanOrEqual(defaultSummaryBudgetBytes);
    expect(sizes.string).toBeLessThanOrEqual(10 * 1024);
    const cut = report.results.list as { valid: boolean; items: unknown[]; truncatedToBudget: { bytes: number; budgetBytes: number } };
    expect(cut.valid).toBe(true);
    expect(Array.isArray(cut.items)).toBe(true);
    expect(cut.items[0]).toEqual({ value: 'item 0', count: 0 });
    expect(cut.truncatedToBudget.bytes).toBe(Buffer.byteLength(JSON.stringify({ valid: true, items: list })));
    expect(report.results.string).toMatchObject({ valid: true, truncatedToBudget: { budgetBytes: 10 * 1024 } });
  });

  it('gives the registered analyzers budgets that add up to less than the whole result', () => {
    const total = analyzers.reduce((sum, analyzer) => sum + (analyzer.summaryBudgetBytes ?? defaultSummaryBudgetBytes), 0);
    expect(total).toBeLessThanOrEqual(resultBudgetBytes);
  });

  it('lists summaries, and the fields in them, in the order the analyzers define', async () => {
    const report = await analyze(bytes('{"b": 1, "a": [2]}\n'), 'application/json', 'a.json');
    expect(Object.keys(report.results)).toEqual(['file', 'text', 'json']);
    expect(Object.keys(report.results.json ?? {}).slice(0, 3)).toEqual(['valid', 'error', 'topLevelType']);
    expect(Object.keys(report.results.file ?? {}).slice(0, 3)).toEqual(['size', 'sizeMatchesDeclared', 'sha256']);
  });

  it('turns a crashing analyzer into its own error entry and keeps the others', async () => {
    const failing = (name: string, where: 'accepts' | 'write' | 'finish' | 'nowhere'): Analyzer => ({
      name,
      input: 'bytes',
      accepts: () => {
        if (where === 'accepts') throw new Error(`${name} broke in accepts`);
        return true;
      },
      create: () => {
        let chunks = 0;
        return {
          write: async () => {
            chunks += 1;
            if (where === 'write' && chunks === 3) throw new Error(`${name} broke on chunk 3`);
          },
          finish: async () => {
            if (where === 'finish') throw new Error(`${name} broke in finish`);
            return { chunks };
          },
        };
      },
    });
    const data = pseudoRandomBytes(50_000);
    const report = await runAnalyzers(chunked(data, 4096), { contentType: 'application/octet-stream', filename: 'x', size: data.length }, {
      analyzers: [...fileOnly, failing('a', 'accepts'), failing('b', 'write'), failing('c', 'finish'), failing('d', 'nowhere')],
    });
    expect(report.crashed).toEqual(['a', 'b', 'c']);
    expect(report.results.a).toEqual({ error: { code: 'ANALYZER_CRASHED', message: 'a broke in accepts' } });
    expect(report.results.b).toEqual({ error: { code: 'ANALYZER_CRASHED', message: 'b broke on chunk 3' } });
    expect(report.results.c).toEqual({ error: { code: 'ANALYZER_CRASHED', message: 'c broke in finish' } });
    expect(report.results.d).toEqual({ chunks: Math.ceil(50_000 / 4096) });
    expect(report.results.file).toMatchObject({ size: 50_000 });
  });

  it('pulls the next chunk only when a slow asynchronous sink has taken the current one', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let index = 0; index < 20; index += 1) {
        pulled += 1;
        yield new Uint8Array(8192).fill(index);
      }
    }
    const pulledAtWrite: number[] = [];
    const slow: Analyzer = {
      name: 'slow',
      input: 'bytes',
      accepts: () => true,
      create: () => ({
        write: (chunk) => {
          pulledAtWrite.push(pulled);
          expect(chunk[0]).toBe(pulledAtWrite.length - 1);
          return new Promise((resolve) => setImmediate(resolve));
        },
        finish: async () => ({ writes: pulledAtWrite.length }),
      }),
    };
    const report = await runAnalyzers(source(), { contentType: 'application/octet-stream', filename: 'x', size: 20 * 8192 }, { analyzers: [slow] });
    expect(report.results.slow).toEqual({ writes: 20 });
    // The first chunk is read ahead for sniffing; after that the source is never ahead of the sink.
    expect(pulledAtWrite).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
  });

  it('stops reading when aborted, rejects with the reason and releases the source', async () => {
    const controller = new AbortController();
    let released = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let index = 0; ; index += 1) {
          if (index === 10) controller.abort(new Error('deadline near'));
          yield new Uint8Array(1024);
        }
      } finally {
        released = true;
      }
    }
    const run = runAnalyzers(source(), { contentType: 'text/plain', filename: 'x', size: 0 }, { signal: controller.signal });
    await expect(run).rejects.toThrow('deadline near');
    expect(released).toBe(true);
  });

  it('lets an error of the stream itself reject the run', async () => {
    async function* source(): AsyncGenerator<Uint8Array> {
      yield bytes('a,b\n1,2\n');
      throw new Error('connection reset');
    }
    await expect(runAnalyzers(source(), { contentType: 'text/csv', filename: 'a.csv', size: 100 })).rejects.toThrow('connection reset');
  });

  it('refuses two analyzers with the same name', async () => {
    await expect(
      runAnalyzers(chunked(bytes('x'), 1), { contentType: 'text/plain', filename: 'x', size: 1 }, { analyzers: [...fileOnly, ...fileOnly] }),
    ).rejects.toThrow('Two analyzers are named "file"');
  });
});
