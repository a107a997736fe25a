import { describe, expect, it } from 'vitest';
import type { CsvSummary } from '../../src/analyzers/csv.js';
import { analyze } from './fixtures.js';

async function csvSummary(data: Uint8Array, contentType: string, filename: string): Promise<CsvSummary> {
  const report = await analyze(data, contentType, filename);
  expect(report.ran).toContain('csv');
  return report.results.csv as CsvSummary;
}

describe('csv in the encodings spreadsheets write', () => {
  const text = 'name\tcity\tscore\nZoë\tMünchen\t1.5\nAda\tŁódź\t2\n';

  it('profiles UTF-16 with a byte order mark ("Unicode Text"), little- and big-endian', async () => {
    const littleEndian = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const bigEndian = Buffer.from(littleEndian).swap16();
    for (const data of [littleEndian, bigEndian]) {
      const summary = await csvSummary(new Uint8Array(data), 'text/tab-separated-values', 'export.txt.tsv');
      expect(summary).toMatchObject({ delimiter: 'tab', rows: 2, columns: 3, hasHeader: true, header: ['name', 'city', 'score'] });
      expect(summary.sampleRows).toEqual([
        ['Zoë', 'München', '1.5'],
        ['Ada', 'Łódź', '2'],
      ]);
      expect(summary.columnProfiles[1]).toMatchObject({ minLength: 4, maxLength: 7 });
    }
  });

  it('profiles 8-bit text (windows-1252) as the characters it holds', async () => {
    const data = Buffer.from('name;price\nZo\xeb;1,5\nCaf\xe9 \x80;2\n', 'latin1');
    const summary = await csvSummary(new Uint8Array(data), 'text/csv', 'prices.csv');
    expect(summary).toMatchObject({ delimiter: 'semicolon', rows: 2, hasHeader: true });
    expect(summary.sampleRows).toEqual([
      ['Zoë', '1,5'],
      ['Café €', '2'],
    ]);
  });

  it('leaves a UTF-8 byte order mark out of the first name', async () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,name\n1,a\n2,b\n')]);
    expect(await csvSummary(new Uint8Array(data), 'text/csv', 'bom.csv')).toMatchObject({ header: ['id', 'name'], rows: 2 });
  });
});
