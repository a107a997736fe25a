import { describe, expect, it } from 'vitest';
import type { CsvSummary } from '../../src/analyzers/csv.js';
import { analyze, bytes } from './fixtures.js';

async function csvSummary(text: string, contentType = 'text/csv', filename = 'data.csv'): Promise<CsvSummary> {
  const report = await analyze(bytes(text), contentType, filename);
  return report.results.csv as CsvSummary;
}

/** A people file where every 2,000th height is written `5'11"`, unquoted, as spreadsheets export it. */
function heights(rows: number, delimiter = ','): string {
  const lines = [['id', 'name', 'height'].join(delimiter)];
  for (let row = 1; row <= rows; row += 1) lines.push([row, `person ${row}`, row % 2000 === 0 ? `5'11"` : '180cm'].join(delimiter));
  return `${lines.join('\n')}\n`;
}

describe('csv lenient reading', () => {
  it('profiles every row of a file with stray quotes, and lists the first malformed lines', async () => {
    const summary = await csvSummary(heights(10_000));
    expect(summary).toMatchObject({ valid: false, complete: true, rows: 10_000, raggedRows: 0, malformedRows: 5 });
    expect(summary.firstMalformedRows).toEqual(
      [2000, 4000, 6000, 8000, 10_000].map((row) => ({ row, line: row + 1, problem: 'quote-in-unquoted-field' })),
    );
    expect(summary.columnProfiles[0]).toMatchObject({ type: 'integer', min: 1, max: 10_000, values: 10_000 });
    expect(summary.columnProfiles[2]).toMatchObject({ detail: 'full' });
    expect(summary.columnProfiles[2]).toHaveProperty('topValues', [
      { value: '180cm', count: 9995 },
      { value: `5'11"`, count: 5 },
    ]);
  });

  it('reads the same leniently in a TSV', async () => {
    const summary = await csvSummary(heights(4000, '\t'), 'text/tab-separated-values', 'people.tsv');
    expect(summary).toMatchObject({ delimiter: 'tab', rows: 4000, columns: 3, malformedRows: 2, complete: true });
  });

  it('profiles a small file whose only data row holds a stray quote', async () => {
    const summary = await csvSummary('name,height\nAda,5\'11"\n');
    expect(summary).toMatchObject({ rows: 1, malformedRows: 1, complete: true });
    expect(summary.sampleRows).toEqual([['Ada', '5\'11"']]);
  });

  it('keeps text after a closing quote and counts the row', async () => {
    const summary = await csvSummary('a,b\n"x"y,1\n"ok",2\n');
    expect(summary).toMatchObject({ rows: 2, malformedRows: 1, firstMalformedRows: [{ row: 1, line: 2, problem: 'text-after-closing-quote' }] });
    expect(summary.sampleRows[0]).toEqual(['xy', '1']);
  });

  it('says a quote never closed made the profile partial, and where it opened', async () => {
    const rows = ['id,comment', '1,fine', '2,"opens here', ...Array.from({ length: 50 }, (_, index) => `${index + 3},never seen as a row`)];
    const summary = await csvSummary(`${rows.join('\n')}\n`);
    expect(summary).toMatchObject({ complete: false, rows: 2, malformedRows: 1, firstMalformedRows: [{ row: 2, line: 3, problem: 'unclosed-quote' }] });
    expect(summary.incomplete).toEqual(['A quote opened on line 3 is never closed: the 51 lines after it were read as one field.']);
  });
});
