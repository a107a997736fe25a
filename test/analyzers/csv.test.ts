import { describe, expect, it } from 'vitest';
import type { CsvSummary } from '../../src/analyzers/csv.js';
import { analyze, bytes, makePng } from './fixtures.js';

async function csvSummary(text: string | Uint8Array, contentType = 'text/csv', filename = 'data.csv'): Promise<CsvSummary> {
  const report = await analyze(typeof text === 'string' ? bytes(text) : text, contentType, filename);
  expect(report.ran).toContain('csv');
  return report.results.csv as CsvSummary;
}

describe('csv analyzer', () => {
  it('profiles quoted fields, embedded newlines and empty cells', async () => {
    const csv = [
      'name,age,score,joined,active,comment',
      '"Smith, Jane",42,3.5,2024-01-15,true,"said ""hi"""',
      '"Multi\nLine",,10,2023-12-31T23:59:00Z,false,',
      'Bob,7,-2.25,,TRUE,"line one\r\nline two"',
      'Zoë,19,,2024-02-29,false,plain',
      '',
    ].join('\r\n');
    const summary = await csvSummary(csv);
    expect(summary).toMatchObject({ valid: true, complete: true, incomplete: [], delimiter: 'comma', rows: 4, columns: 6, hasHeader: true, raggedRows: 0 });
    expect(summary.columnProfiles.map(({ name, type, empty, min, max }) => ({ name, type, empty, min, max }))).toEqual([
      { name: 'name', type: 'string', empty: 0, min: null, max: null },
      { name: 'age', type: 'integer', empty: 1, min: 7, max: 42 },
      { name: 'score', type: 'number', empty: 1, min: -2.25, max: 10 },
      { name: 'joined', type: 'datetime', empty: 1, min: '2023-12-31T23:59:00Z', max: '2024-02-29' },
      { name: 'active', type: 'boolean', empty: 0, min: null, max: null },
      { name: 'comment', type: 'string', empty: 1, min: null, max: null },
    ]);
    expect(summary.sampleRows[0]).toEqual(['Smith, Jane', '42', '3.5', '2024-01-15', 'true', 'said "hi"']);
    expect(summary.sampleRows[1]?.[0]).toBe('Multi\nLine');
    expect(summary.sampleRows[2]?.[5]).toBe('line one\r\nline two');
  });

  it('detects tab, semicolon and pipe delimiters', async () => {
    const tsv = await csvSummary('city\tpopulation\nBerlin\t3645000\nParis\t2161000\n', 'text/tab-separated-values', 'cities.tsv');
    expect(tsv).toMatchObject({ delimiter: 'tab', rows: 2, columns: 2, hasHeader: true });
    expect(tsv.columnProfiles[1]).toMatchObject({ name: 'population', type: 'integer', empty: 0, min: 2161000, max: 3645000 });
    // Decimal commas inside the fields must not win the vote over the semicolons.
    const semicolon = await csvSummary('product;price\nApple;1,20\nPear;0,95\nPlum;2,05\n');
    expect(semicolon).toMatchObject({ delimiter: 'semicolon', columns: 2, rows: 3 });
    expect((await csvSummary('a|b|c\n1|2|3\n4|5|6\n')).delimiter).toBe('pipe');
    // A first row longer than the 16 KiB sample still tells the delimiter.
    const wide = Array.from({ length: 3000 }, (_, column) => `name_${column}`).join(';');
    expect(await csvSummary(`${wide}\n${wide.replaceAll('name_', '')}\n`)).toMatchObject({ delimiter: 'semicolon', columns: 3000, rows: 1 });
  });

  it('profiles a file longer than the delimiter sample, fed in any chunking', async () => {
    const lines = ['id,value,day'];
    for (let row = 1; row <= 3000; row += 1) lines.push(`${row},${row % 7 === 0 ? '' : (row / 4).toString()},2024-03-${String((row % 28) + 1).padStart(2, '0')}`);
    const summary = await csvSummary(`${lines.join('\n')}\n`);
    expect(summary).toMatchObject({ valid: true, rows: 3000, columns: 3 });
    expect(summary.columnProfiles.map(({ name, type, empty, min, max }) => ({ name, type, empty, min, max }))).toEqual([
      { name: 'id', type: 'integer', empty: 0, min: 1, max: 3000 },
      { name: 'value', type: 'number', empty: 428, min: 0.25, max: 750 },
      { name: 'day', type: 'date', empty: 0, min: '2024-03-01', max: '2024-03-28' },
    ]);
  });

  it('reports ragged rows by row number and names headerless columns', async () => {
    const summary = await csvSummary('1,2,3\n4,5\n6,7,8,9\n10,11,12\n');
    expect(summary).toMatchObject({
      valid: true,
      hasHeader: false,
      rows: 4,
      columns: 3,
      raggedRows: 2,
      firstRaggedRows: [
        { row: 2, line: 2, fields: 2 },
        { row: 3, line: 3, fields: 4 },
      ],
    });
    expect(summary.columnProfiles.map((column) => [column.name, column.empty])).toEqual([
      ['column_1', 0],
      ['column_2', 0],
      ['column_3', 1],
      ['column_4', 3],
    ]);
  });

  it('reads a malformed file to its end, leniently, and counts the malformed rows', async () => {
    const summary = await csvSummary('a,b\n1,2\n3,"x"y\n5,6\n');
    expect(summary).toMatchObject({ valid: false, complete: true, rows: 3, malformedRows: 1, firstMalformedRows: [{ row: 2, line: 3, problem: 'text-after-closing-quote' }] });
    expect(summary.sampleRows[1]).toEqual(['3', 'xy']);
    const unclosed = await csvSummary('a,b\n1,"never closed\n2,3\n');
    expect(unclosed).toMatchObject({ valid: false, complete: false, rows: 1, firstMalformedRows: [{ row: 1, line: 2, problem: 'unclosed-quote' }] });
    expect(unclosed.incomplete[0]).toMatch(/line 2 is never closed/);
  });

  it('handles an empty file', async () => {
    expect(await csvSummary('')).toMatchObject({ valid: true, complete: true, rows: 0, columns: 0, hasHeader: false, columnProfiles: [] });
  });

  it('does not run on a PNG declared as text/csv', async () => {
    const report = await analyze(makePng(3, 3), 'text/csv', 'data.csv');
    expect(report.ran).not.toContain('csv');
  });
});
