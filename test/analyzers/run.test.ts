import { describe, expect, it } from 'vitest';
import { analyzers } from '../../src/analyzers/index.js';
import { runAnalyzers } from '../../src/analyzers/run.js';
import type { Analyzer } from '../../src/analyzers/types.js';
import { analyze, bytes, chunked, makeJpeg, makePng, pseudoRandomBytes } from './fixtures.js';

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

  it('turns a crashing analyzer into its own error entry and keeps the others', async () => {
    const failing = (name: string, where: 'accepts' | 'write' | 'finish' | 'nowhere'): Analyzer => ({
      name,
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
