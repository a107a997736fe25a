import { describe, expect, it } from 'vitest';
import type { CsvSummary } from '../../src/analyzers/csv.js';
import { analyze, bytes } from './fixtures.js';

async function csvSummary(text: string): Promise<CsvSummary> {
  const report = await analyze(bytes(text), 'text/csv', 'data.csv');
  return report.results.csv as CsvSummary;
}

const names = (summary: CsvSummary) => summary.columnProfiles.map((column) => column.name);

describe('csv header detection', () => {
  it('takes numeric names over decimals as a header (Country,2019,2020)', async () => {
    const summary = await csvSummary('Country,2019,2020\nFrance,1.52,1.48\nGermany,1.12,0.98\nItaly,2.01,1.87\n');
    expect(summary).toMatchObject({ hasHeader: true, rows: 3 });
    expect(names(summary)).toEqual(['Country', '2019', '2020']);
    expect(summary.headerReason).toMatch(/"2019", a whole number, over decimals/);
    expect(summary.columnProfiles[1]).toMatchObject({ type: 'number', min: 1.12, max: 2.01 });
  });

  it('takes numeric names over fixed-width integers as a header', async () => {
    const summary = await csvSummary('Country,2019,2020\nFrance,67059887,67391582\nGermany,83019213,83166711\nItaly,60359546,59641488\n');
    expect(summary).toMatchObject({ hasHeader: true, rows: 3 });
    expect(summary.headerReason).toMatch(/all 8 characters long/);
  });

  it('takes year-like names over integers of any width as a header, unless the data counts up too', async () => {
    const years = await csvSummary('Country,2019,2020,2021\nFrance,2716,2630,2957\nLuxembourg,71,73,85\nMalta,15,14,17\n');
    expect(years).toMatchObject({ hasHeader: true, rows: 3 });
    expect(years.headerReason).toMatch(/"2019" to "2021" count up by one/);
    // The first data row counts up the same way, so the run is no sign of names: the integer
    // columns, all one digit wide, say data.
    const sequence = await csvSummary('label,1,2,3\nrow,4,5,6\nrow,9,2,7\n');
    expect(sequence.hasHeader).toBe(false);
    expect(sequence.headerReason).not.toMatch(/count up by one/);
  });

  it("takes pandas' to_csv header, whose index name is blank, as a header", async () => {
    const summary = await csvSummary(',a,b\n0,1.5,x\n1,2.5,y\n2,3.5,zz\n');
    expect(summary).toMatchObject({ hasHeader: true, rows: 3 });
    expect(names(summary)).toEqual(['column_1', 'a', 'b']);
    expect(summary.headerReason).toMatch(/blank name over a column never blank/);
  });

  it('keeps repeated names', async () => {
    const summary = await csvSummary('name,score,score\nAda,1,2\nBob,3,4\n');
    expect(summary).toMatchObject({ hasHeader: true, rows: 2 });
    expect(names(summary)).toEqual(['name', 'score', 'score']);
  });

  it('profiles a first row of data as data', async () => {
    const summary = await csvSummary('1,2.5,2024-01-01\n3,4.5,2024-01-02\n5,6.5,2024-01-03\n');
    expect(summary).toMatchObject({ hasHeader: false, rows: 3 });
    expect(names(summary)).toEqual(['column_1', 'column_2', 'column_3']);
    expect(summary.columnProfiles[0]).toMatchObject({ type: 'integer', values: 3, min: 1, max: 5 });
    expect(summary.sampleRows[0]).toEqual(['1', '2.5', '2024-01-01']);
    expect(summary.headerReason).toMatch(/fits the rows below in 3 columns/);
  });

  it('decides an all-text file by the first row being text, and says so', async () => {
    const summary = await csvSummary('name,city\nAda,London\nGrace,Arlington\n');
    expect(summary.hasHeader).toBe(true);
    expect(summary.headerReason).toMatch(/No column tells; the first row is all text/);
  });

  it('reads a one-row file of names as a header with no rows', async () => {
    expect(await csvSummary('a,b,c\n')).toMatchObject({ hasHeader: true, rows: 0, columns: 3 });
  });
});
