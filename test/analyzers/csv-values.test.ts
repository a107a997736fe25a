import { describe, expect, it } from 'vitest';
import type { CsvSummary } from '../../src/analyzers/csv.js';
import { CellReader, cellKinds, compareIntegerText } from '../../src/analyzers/csv/values.js';
import { analyze, bytes } from './fixtures.js';

async function csvSummary(text: string): Promise<CsvSummary> {
  const report = await analyze(bytes(text), 'text/csv', 'data.csv');
  return report.results.csv as CsvSummary;
}

function read(text: string): { kind: string; number: number; time: number } {
  const reader = new CellReader();
  const cell = bytes(text);
  const kind = cellKinds[reader.classify(cell, 0, cell.length)] as string;
  return { kind, number: reader.number, time: reader.time };
}

describe('csv values', () => {
  it('reads ISO dates field by field: no rolling over into the next month', () => {
    for (const text of ['2021-02-30', '2021-02-29', '2023-13-01', '2023-04-31', '1900-02-29', '2023-00-10', '2023-1-05']) {
      expect(read(text).kind, text).toBe('string');
    }
    for (const text of ['2024-02-29', '2000-02-29', '1999-12-31', '0001-01-01']) expect(read(text).kind, text).toBe('date');
    expect(read('2024-02-29').time).toBe(Date.UTC(2024, 1, 29));
  });

  it('reads ISO date-times with zones and fractions, and refuses impossible times', () => {
    const cases: [string, number][] = [
      ['2024-03-10T12:34:56Z', Date.UTC(2024, 2, 10, 12, 34, 56)],
      ['2024-03-10T12:34:56.789Z', Date.UTC(2024, 2, 10, 12, 34, 56, 789)],
      ['2024-03-10T12:34:56.123456789+02:00', Date.UTC(2024, 2, 10, 10, 34, 56, 123)],
      ['2024-03-10 12:34', Date.UTC(2024, 2, 10, 12, 34)],
      ['2024-03-10T23:30-0530', Date.UTC(2024, 2, 11, 5, 0)],
      ['2024-03-10T05:00+05', Date.UTC(2024, 2, 10, 0, 0)],
      ['2024-03-10T12:34:56,5z', Date.UTC(2024, 2, 10, 12, 34, 56, 500)],
    ];
    for (const [text, time] of cases) expect(read(text), text).toEqual({ kind: 'datetime', number: expect.any(Number), time });
    for (const text of ['2024-03-10T24:00', '2024-03-10T12:60', '2024-03-10T12:30:61', '2024-03-10T12:30+25:00', '2024-03-10T12', '2024-03-10X12:30', '2024-03-10T12:30Zulu']) {
      expect(read(text).kind, text).toBe('string');
    }
  });

  it('profiles a date column without impossible dates as dates, and one with them as text', async () => {
    const good = await csvSummary('day\n2024-01-31\n2024-02-29\n2023-12-01\n');
    expect(good.columnProfiles[0]).toMatchObject({ type: 'date', min: '2023-12-01', max: '2024-02-29' });
    const bad = await csvSummary('day\n2024-01-31\n2021-02-30\n2023-12-01\n');
    expect(bad.columnProfiles[0]).toMatchObject({ type: 'string', kinds: { date: 2, string: 1 }, min: null });
    const zoned = await csvSummary('at\n2024-01-01T00:30:00+02:00\n2023-12-31T23:00:00Z\n');
    // 00:30 at +02:00 is 22:30 UTC, before 23:00 UTC: order is by the instant, text as written.
    expect(zoned.columnProfiles[0]).toMatchObject({ type: 'datetime', min: '2024-01-01T00:30:00+02:00', max: '2023-12-31T23:00:00Z' });
  });

  it('keeps integers above 2^53 exact in min and max', async () => {
    const summary = await csvSummary('id\n9007199254740993\n9007199254740992\n18446744073709551615\n-18446744073709551616\n18446744073709551614\n42\n');
    expect(summary.columnProfiles[0]).toMatchObject({ type: 'integer', min: '-18446744073709551616', max: '18446744073709551615' });
    // 2^53 - 1 is the last integer a double holds exactly; 2^53 and 2^53 + 1 are one double.
    const close = await csvSummary('id\n9007199254740993\n9007199254740991\n9007199254740992\n9007199254740995\n');
    expect(close.columnProfiles[0]).toMatchObject({ min: 9007199254740991, max: '9007199254740995', distinct: 4 });
    expect(compareIntegerText('-0005', '-4')).toBe(-1);
    expect(compareIntegerText('+12', '012')).toBe(0);
    expect(compareIntegerText('-0', '0')).toBe(0);
  });

  it('reads numbers as Number() would, and missing markers as missing', async () => {
    for (const text of ['0.1', '-2.5e3', '1e-7', '.5', '5.', '+3.25', '123456789012345678', '1.7976931348623157e308', '0.30000000000000004']) {
      expect(read(text).number, text).toBe(Number(text));
    }
    for (const text of ['1.2.3', '1e', 'e5', '--1', '1,5', '0x1F', 'Infinity']) expect(read(text).kind, text).toBe('string');
    const summary = await csvSummary('score,id\n1.5,1\nNA,2\n,3\n2.5,4\nnull,5\n#N/A,6\n3,7\n');
    expect(summary.columnProfiles[0]).toMatchObject({ type: 'number', values: 3, nulls: 3, empty: 1, min: 1.5, max: 3, mean: expect.closeTo(7 / 3, 9) });
  });

  it('reads booleans in any case, and trims spaces around values', async () => {
    const summary = await csvSummary('flag,n\nTRUE, 1\nfalse,2 \nTrue,  3  \n');
    expect(summary.columnProfiles[0]).toMatchObject({ type: 'boolean', distinct: 3 });
    expect(summary.columnProfiles[1]).toMatchObject({ type: 'integer', min: 1, max: 3, minLength: 1, maxLength: 1 });
  });
});
