import { describe, expect, it } from 'vitest';
import { csvSummaryBudgetBytes, maxProfiledColumns, type CsvSummary } from '../../src/analyzers/csv.js';
import { runAnalyzers } from '../../src/analyzers/run.js';

const mebibyte = 1024 * 1024;
/**
 * Growth of JS heap plus Buffer memory allowed while a hostile file streams, as in
 * memory.test.ts: far below the file sizes, so keeping rows, cells or the header would fail.
 */
const maxMemoryGrowthBytes = 48 * mebibyte;
const chunkBytes = 64 * 1024;
const samplingEveryChunks = 16;

function memoryInUse(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Streams `parts()` as 64 KiB chunks, each a fresh copy as a network stream hands over, written
 * through one buffer so the test itself makes little garbage; samples memory as it goes.
 */
async function* chunked(parts: () => Iterable<string>, peak: { bytes: number }): AsyncGenerator<Uint8Array> {
  const buffer = Buffer.alloc(chunkBytes);
  let filled = 0;
  let chunks = 0;
  for (const part of parts()) {
    let text = part;
    while (text.length > 0) {
      // Parts are ASCII here: one byte per character.
      const taken = Math.min(text.length, chunkBytes - filled);
      buffer.write(text.slice(0, taken), filled, 'latin1');
      filled += taken;
      text = text.slice(taken);
      if (filled === chunkBytes) {
        yield new Uint8Array(buffer);
        filled = 0;
        if (++chunks % samplingEveryChunks === 0) peak.bytes = Math.max(peak.bytes, memoryInUse());
      }
    }
  }
  if (filled > 0) yield new Uint8Array(buffer.subarray(0, filled));
}

async function profileHostile(parts: () => Iterable<string>): Promise<{ csv: CsvSummary; csvBytes: number; resultBytes: number; growth: number }> {
  globalThis.gc?.();
  const baseline = memoryInUse();
  const peak = { bytes: baseline };
  const report = await runAnalyzers(chunked(parts, peak), { contentType: 'text/csv', filename: 'hostile.csv', size: 0 });
  const csv = report.results.csv as CsvSummary;
  return {
    csv,
    csvBytes: Buffer.byteLength(JSON.stringify(csv)),
    resultBytes: Buffer.byteLength(JSON.stringify(report.results)),
    growth: peak.bytes - baseline,
  };
}

function* rows(header: string[], rowCount: number, cell: (row: number, column: number) => string): Iterable<string> {
  for (let column = 0; column < header.length; column += 1) yield `${column === 0 ? '' : ','}${header[column]}`;
  yield '\n';
  for (let row = 0; row < rowCount; row += 1) {
    for (let column = 0; column < header.length; column += 1) yield `${column === 0 ? '' : ','}${cell(row, column)}`;
    yield '\n';
  }
}

function expectBounded(result: Awaited<ReturnType<typeof profileHostile>>): void {
  expect(result.csvBytes).toBeLessThanOrEqual(csvSummaryBudgetBytes);
  // The runner did not have to cut it: the analyzer stayed within its own budget.
  expect(result.csv).not.toHaveProperty('truncatedToBudget');
  expect(result.growth).toBeLessThan(maxMemoryGrowthBytes);
}

describe('csv bounded on hostile shapes', () => {
  it('21,000 columns of numbers: compact and cut profiles, within the budget', { timeout: 60_000 }, async () => {
    const header = Array.from({ length: 21_000 }, (_, column) => `measurement_${column}`);
    const result = await profileHostile(() => rows(header, 20, (row, column) => String(row * column)));
    expectBounded(result);
    expect(result.csv).toMatchObject({ rows: 20, columns: 21_000, hasHeader: true, complete: false, profiledColumns: maxProfiledColumns });
    expect(result.csv.columnProfiles[0]).toMatchObject({ name: 'measurement_0', detail: 'full' });
    expect(result.csv.incomplete.join(' ')).toMatch(/first 1000 columns are profiled/);
    expect(result.csv.sampleRowsTruncated).toBe(true);
    console.log(`21,000 columns: csv summary ${result.csvBytes} bytes, result ${result.resultBytes} bytes, memory growth ${(result.growth / mebibyte).toFixed(1)} MiB`);
  });

  it('100,000 columns, and 100,000 columns with 100-character names', { timeout: 60_000 }, async () => {
    for (const nameChars of [6, 100]) {
      const header = Array.from({ length: 100_000 }, (_, column) => `c${column}`.padEnd(nameChars, 'x'));
      const result = await profileHostile(() => rows(header, 3, (row) => String(row)));
      expectBounded(result);
      expect(result.csv).toMatchObject({ rows: 3, columns: 100_000, complete: false });
      for (const profile of result.csv.columnProfiles) expect(profile.name.length).toBeLessThanOrEqual(101);
      console.log(`100,000 columns, names of ${nameChars}: csv summary ${result.csvBytes} bytes, memory growth ${(result.growth / mebibyte).toFixed(1)} MiB`);
    }
  });

  it('a 50 MB single line of `a,`', { timeout: 60_000 }, async () => {
    const result = await profileHostile(function* () {
      for (let part = 0; part < 50 * 1024; part += 1) yield 'a,'.repeat(512);
      yield 'a\n';
    });
    expectBounded(result);
    expect(result.csv).toMatchObject({ rows: 0, columns: 25 * 1024 * 1024 + 1, hasHeader: true, complete: false });
    console.log(`50 MB line: csv summary ${result.csvBytes} bytes, memory growth ${(result.growth / mebibyte).toFixed(1)} MiB`);
  });

  it('one endless quoted field', { timeout: 60_000 }, async () => {
    const result = await profileHostile(function* () {
      yield 'id,text\n1,"';
      for (let part = 0; part < 50 * 1024; part += 1) yield 'lorem ipsum, "" dolor\n'.repeat(48);
    });
    expectBounded(result);
    expect(result.csv).toMatchObject({ rows: 1, complete: false, malformedRows: 1, firstMalformedRows: [{ row: 1, line: 2, problem: 'unclosed-quote' }] });
    expect(result.csv.columnProfiles[1]).toMatchObject({ maxLength: expect.any(Number) });
    expect((result.csv.columnProfiles[1]?.maxLength ?? 0) > 40 * mebibyte).toBe(true);
    console.log(`endless field: csv summary ${result.csvBytes} bytes, memory growth ${(result.growth / mebibyte).toFixed(1)} MiB`);
  });
});
