import { describe, expect, it } from 'vitest';
import { csvAnalyzer, type CsvSummary } from '../../src/analyzers/csv.js';
import { cellHash, hashCell } from '../../src/analyzers/csv/cell-hash.js';
import type { CsvColumnSummary } from '../../src/analyzers/csv/column.js';
import { HyperLogLog } from '../../src/analyzers/csv/hyperloglog.js';
import { analyze, bytes, seededRandom } from './fixtures.js';

/**
 * The CSV summary straight from the sink, fed in two chunkings that must agree: the files here
 * are too large to feed byte by byte as fixtures.analyze does.
 */
async function profile(text: string): Promise<CsvSummary> {
  const data = bytes(text);
  const summaries: CsvSummary[] = [];
  for (const chunkSize of [4093, 64 * 1024]) {
    const sink = csvAnalyzer.create({ contentType: 'text/csv', filename: 'data.csv', size: data.length });
    for (let offset = 0; offset < data.length; offset += chunkSize) await sink.write(data.subarray(offset, offset + chunkSize));
    summaries.push(await sink.finish({ decoding: null }));
  }
  expect(summaries[1]).toEqual(summaries[0]);
  return summaries[0] as CsvSummary;
}

function column(summary: CsvSummary, index: number): CsvColumnSummary {
  const entry = summary.columnProfiles[index];
  if (entry?.detail !== 'full') throw new Error(`column ${index} has no full profile`);
  return entry;
}

function csv(header: string, rows: number, row: (index: number) => string): string {
  const lines = [header];
  for (let index = 0; index < rows; index += 1) lines.push(row(index));
  return `${lines.join('\n')}\n`;
}

describe('csv column profiles', () => {
  it('counts distinct and top values exactly while they fit, with lengths in characters', async () => {
    const summary = (await analyze(bytes('city,n\nZoë,1\nOslo,2\nZoë,3\nLima,4\nZoë,5\nOslo,6\n'), 'text/csv', 'c.csv')).results.csv as CsvSummary;
    expect(column(summary, 0)).toMatchObject({
      distinct: 3,
      distinctEstimated: false,
      topValues: [
        { value: 'Zoë', count: 3 },
        { value: 'Oslo', count: 2 },
        { value: 'Lima', count: 1 },
      ],
      topValuesEstimated: false,
      topValuesMaxError: 0,
      minLength: 3,
      maxLength: 4,
    });
  });

  it('counts a quoted value with escaped quotes as the value it spells, in any chunking', async () => {
    const text = 'quote,n\n"say ""hi""",1\nsay hi,2\n"say ""hi""",3\n"x",4\nx,5\n';
    const summary = (await analyze(bytes(text), 'text/csv', 'q.csv')).results.csv as CsvSummary;
    expect(column(summary, 0)).toMatchObject({
      distinct: 3,
      topValues: [
        { value: 'say "hi"', count: 2 },
        { value: 'x', count: 2 },
        { value: 'say hi', count: 1 },
      ],
      minLength: 1,
      maxLength: 8,
    });
    expect(summary.sampleRows[0]).toEqual(['say "hi"', '1']);
  });

  it('estimates distinct values past the exact bound (HyperLogLog, within 5 %)', async () => {
    const summary = await profile(csv('id,code', 60_000, (index) => `${index},${index % 500}`));
    const ids = column(summary, 0);
    expect(ids.distinctEstimated).toBe(true);
    expect(Math.abs(ids.distinct - 60_000) / 60_000).toBeLessThan(0.05);
    expect(column(summary, 1)).toMatchObject({ distinct: 500, distinctEstimated: false });
  });

  it('hashes cells well enough for HyperLogLog on integers, e-mail addresses and decimals', () => {
    // 1.6 % is the sketch's standard error; a weaker hash body showed 4.5 % here.
    const shapes = [(index: number) => String(index), (index: number) => `user-${index}@example.com`, (index: number) => (index / 100).toFixed(2)];
    for (const shape of shapes) {
      const sketch = new HyperLogLog();
      const distinct = 100_000;
      for (let index = 0; index < distinct; index += 1) {
        const cell = bytes(shape(index));
        hashCell(cell, 0, cell.length);
        sketch.add(cellHash.hash >>> 0);
      }
      expect(Math.abs(sketch.estimate() - distinct) / distinct, shape(7)).toBeLessThan(0.04);
    }
  });

  it('finds the heavy hitters among many values, each count a lower bound within the error', async () => {
    const next = seededRandom(7);
    const rows = 100_000;
    const truth = new Map<string, number>();
    const text = csv('value', rows, (index) => {
      const draw = next();
      const value = draw < 0.2 ? 'hot' : draw < 0.3 ? 'warm' : `cold ${index}`;
      truth.set(value, (truth.get(value) ?? 0) + 1);
      return value;
    });
    const values = column(await profile(text), 0);
    expect(values.topValuesEstimated).toBe(true);
    expect(values.topValues.map((top) => top.value)).toEqual(['hot', 'warm']);
    for (const { value, count } of values.topValues) {
      const actual = truth.get(value) as number;
      expect(count).toBeLessThanOrEqual(actual);
      expect(actual - count).toBeLessThanOrEqual(values.topValuesMaxError);
    }
    expect(values.topValuesMaxError).toBeLessThan(rows / 100);
  });

  it('stops tallying a column whose values never stand out, with an error bound that stays true', async () => {
    const rows = 60_000;
    const ids = column(await profile(csv('id', rows, (index) => String(rows - index))), 0);
    expect(ids).toMatchObject({ topValues: [], topValuesEstimated: true, distinctEstimated: true, min: 1, max: rows, mean: (rows + 1) / 2 });
    // Every occurrence after it gave up may belong to any value: the bound covers them all.
    expect(ids.topValuesMaxError).toBeGreaterThan(rows / 2);
    expect(Math.abs(ids.distinct - rows) / rows).toBeLessThan(0.05);
  });

  it('gives the mean, sample standard deviation and exact quantiles of a small column', async () => {
    const summary = await profile(csv('x', 10, (index) => String(index + 1)));
    expect(column(summary, 0)).toMatchObject({
      type: 'integer',
      mean: 5.5,
      stddev: 3.0276503541,
      quantiles: { p5: 1.45, p25: 3.25, p50: 5.5, p75: 7.75, p95: 9.55 },
      quantilesEstimated: false,
    });
  });

  it('estimates quantiles of a large column within 1 % (DDSketch)', async () => {
    const next = seededRandom(11);
    const values: number[] = [];
    const text = csv('amount', 50_000, () => {
      // Log-uniform over six decades, as prices and sizes often are, with negatives.
      const value = Number(((next() < 0.1 ? -1 : 1) * 10 ** (next() * 6 - 2)).toPrecision(6));
      values.push(value);
      return String(value);
    });
    const amounts = column(await profile(text), 0);
    expect(amounts.quantilesEstimated).toBe(true);
    values.sort((left, right) => left - right);
    const quantiles = amounts.quantiles as Record<string, number>;
    for (const [label, q] of [['p5', 0.05], ['p25', 0.25], ['p50', 0.5], ['p75', 0.75], ['p95', 0.95]] as const) {
      const rank = q * (values.length - 1);
      const around = [values[Math.floor(rank)] as number, values[Math.ceil(rank)] as number];
      const nearest = Math.min(...around.map((value) => Math.abs((quantiles[label] as number) - value) / Math.abs(value)));
      expect(nearest, label).toBeLessThanOrEqual(0.0101);
    }
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(amounts.mean).toBeCloseTo(mean, 6);
  });

  it('bins numbers exactly, in widths of 1, 2, 10, 20, … and whole units for integers', async () => {
    const summary = await profile(csv('n,x', 1000, (index) => `${index % 100},${(index % 7) / 10}`));
    expect(column(summary, 0).histogram).toEqual({ min: 0, max: 100, counts: new Array(50).fill(20) });
    // Tenths, at the narrowest width that holds their range in 64 bins (0.01): every tenth bin.
    const tenths = column(summary, 1).histogram as { min: number; max: number; counts: number[] };
    expect(tenths).toMatchObject({ min: 0, max: 0.61 });
    expect(tenths.counts.filter((count) => count > 0)).toEqual([143, 143, 143, 143, 143, 143, 142]);
    expect(tenths.counts.map((count, index) => (count > 0 ? index : -1)).filter((index) => index >= 0)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    const wide = column(await profile(csv('n', 1000, (index) => String(index * 1000))), 0).histogram as { min: number; max: number; counts: number[] };
    expect(wide.counts.reduce((sum, count) => sum + count, 0)).toBe(1000);
    expect(wide.min).toBe(0);
    expect(wide.max).toBeGreaterThanOrEqual(999_000);
    expect(wide.counts.length).toBeLessThanOrEqual(64);
  });

  it('bins dates by days, with ISO edges', async () => {
    const summary = await profile(csv('day', 300, (index) => `2024-03-${String((index % 30) + 1).padStart(2, '0')}`));
    expect(column(summary, 0).histogram).toEqual({ min: '2024-03-01T00:00:00.000Z', max: '2024-03-31T00:00:00.000Z', counts: new Array(30).fill(10) });
  });
});
