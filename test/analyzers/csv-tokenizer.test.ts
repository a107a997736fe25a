import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvTokenizer, unescapeQuotes, type CsvRecordSink, type Malformation } from '../../src/analyzers/csv/tokenizer.js';
import { seededRandom } from './fixtures.js';

type Parsed = { rows: string[][]; lines: number[]; malformations: (Malformation | null)[] };

/** Tokenizes `text` fed in chunks of `chunkSize` bytes, collecting records as strings. */
function tokenize(text: string, chunkSize: number, delimiter = ','): Parsed {
  const parsed: Parsed = { rows: [], lines: [], malformations: [] };
  let row: string[] = [];
  const sink: CsvRecordSink = {
    cell(_column, bytes, start, end, _length, escapedQuotes) {
      row.push(unescapeQuotes(Buffer.from(bytes.subarray(start, end)).toString('utf8'), escapedQuotes));
    },
    record(_fields, line, malformation) {
      parsed.rows.push(row);
      parsed.lines.push(line);
      parsed.malformations.push(malformation);
      row = [];
    },
  };
  const tokenizer = new CsvTokenizer(delimiter.charCodeAt(0), sink, 1000, 1 << 20);
  const bytes = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < bytes.length; offset += chunkSize) tokenizer.write(bytes.subarray(offset, offset + chunkSize));
  tokenizer.end();
  return parsed;
}

const chunkSizes = [1, 2, 3, 7, 64 * 1024];

/** RFC 4180 files: fields with delimiters, quotes, CRLF and LF, non-ASCII, empty ones; quoted where they must be. */
function rfc4180File(next: () => number, delimiter: string): string {
  const pieces = ['a', 'bc', ' ', delimiter, '"', '\n', '\r\n', 'é', '日本', '😀', '', '12.5', '-3', 'x y'];
  const rows: string[] = [];
  const width = 1 + Math.floor(next() * 6);
  for (let row = 0; row < 1 + Math.floor(next() * 8); row += 1) {
    const cells: string[] = [];
    for (let column = 0; column < width; column += 1) {
      let value = '';
      for (let piece = 0; piece < Math.floor(next() * 4); piece += 1) value += pieces[Math.floor(next() * pieces.length)];
      const mustQuote = /["\r\n]/.test(value) || value.includes(delimiter) || (width === 1 && value === '');
      cells.push(mustQuote || next() < 0.2 ? `"${value.replaceAll('"', '""')}"` : value);
    }
    rows.push(cells.join(delimiter));
  }
  return rows.join(next() < 0.5 ? '\r\n' : '\n') + (next() < 0.5 ? '\n' : '');
}

describe('csv tokenizer', () => {
  it('agrees with csv-parse on generated RFC 4180 files, in any chunking', () => {
    const next = seededRandom(20240601);
    for (let file = 0; file < 300; file += 1) {
      const delimiter = file % 3 === 0 ? '\t' : file % 3 === 1 ? ';' : ',';
      const text = rfc4180File(next, delimiter);
      // Both line endings, as the files mix them; csv-parse would take the first one seen as the only one.
      const expected = parse(text, { delimiter, record_delimiter: ['\r\n', '\n'], relax_column_count: true, skip_empty_lines: true }) as string[][];
      for (const size of chunkSizes) {
        const parsed = tokenize(text, size, delimiter);
        expect(parsed.rows, `${JSON.stringify(text)} in chunks of ${size}`).toEqual(expected);
        expect(parsed.malformations.every((malformation) => malformation === null)).toBe(true);
      }
    }
  });

  // What Python's csv.reader (the default dialect, strict off, as pandas' python engine and most
  // spreadsheets read) makes of files RFC 4180 does not allow; computed with CPython 3.
  const quirks: { name: string; text: string; rows: string[][]; malformations: (Malformation | null)[] }[] = [
    { name: 'a quote inside an unquoted field', text: 'a,5\'11",b\n', rows: [['a', '5\'11"', 'b']], malformations: ['quote-in-unquoted-field'] },
    { name: 'a quote mid-field', text: 'x,ab"cd,y\n', rows: [['x', 'ab"cd', 'y']], malformations: ['quote-in-unquoted-field'] },
    { name: 'a quote ending an unquoted field', text: 'ab",c\n', rows: [['ab"', 'c']], malformations: ['quote-in-unquoted-field'] },
    { name: 'text after a closing quote', text: '"abc"def,g\n', rows: [['abcdef', 'g']], malformations: ['text-after-closing-quote'] },
    { name: 'a space after a closing quote', text: '"a" ,b\n', rows: [['a ', 'b']], malformations: ['text-after-closing-quote'] },
    { name: 'quotes after text after a closing quote', text: '"a"b"c",d\n', rows: [['ab"c"', 'd']], malformations: ['text-after-closing-quote'] },
    { name: 'a space before an opening quote', text: ' "a",b\n', rows: [[' "a"', 'b']], malformations: ['quote-in-unquoted-field'] },
    { name: 'a quote never closed', text: 'a,"bc\nd,e\n', rows: [['a', 'bc\nd,e\n']], malformations: ['unclosed-quote'] },
    { name: 'escaped quotes', text: '"a""b",""""\n', rows: [['a"b', '"']], malformations: [null] },
    { name: 'empty quoted fields', text: '"",a,""\n', rows: [['', 'a', '']], malformations: [null] },
    { name: 'CRLF, a lone CR and LF', text: 'a,b\r\nc,d\re,f\n', rows: [['a', 'b'], ['c', 'd'], ['e', 'f']], malformations: [null, null, null] },
    { name: 'line breaks in quotes', text: '"a\nb",c\r\n"d\r\ne",f\n', rows: [['a\nb', 'c'], ['d\r\ne', 'f']], malformations: [null, null] },
    { name: 'trailing delimiters', text: 'a,b,\n,,\n', rows: [['a', 'b', ''], ['', '', '']], malformations: [null, null] },
    { name: 'blank lines', text: 'a\n\n\nb\n', rows: [['a'], ['b']], malformations: [null, null] },
    { name: 'no final line break', text: 'a,b\nc,d', rows: [['a', 'b'], ['c', 'd']], malformations: [null, null] },
  ];

  for (const quirk of quirks) {
    it(`reads ${quirk.name} as Python's csv module does`, () => {
      for (const size of chunkSizes) {
        const parsed = tokenize(quirk.text, size);
        expect(parsed.rows).toEqual(quirk.rows);
        expect(parsed.malformations).toEqual(quirk.malformations);
      }
    });
  }

  it('numbers records by the physical line they start on, CRLF counted once', () => {
    const text = 'h1,h2\r\n"multi\r\nline",x\r\n\r\nlast,"a\nb\nc"\rafter,cr\n';
    for (const size of chunkSizes) expect(tokenize(text, size).lines).toEqual([1, 2, 5, 8]);
  });

  it('keeps at most maxCellBytes of a cell and counts the rest', () => {
    const lengths: number[] = [];
    const kept: number[] = [];
    const sink: CsvRecordSink = {
      cell(_column, _bytes, start, end, length) {
        kept.push(end - start);
        lengths.push(length);
      },
      record() {},
    };
    const tokenizer = new CsvTokenizer(0x2c, sink, 1000, 10);
    const text = Buffer.from(`${'x'.repeat(25)},"${'y'.repeat(30)}",z\n`);
    for (let offset = 0; offset < text.length; offset += 4) tokenizer.write(text.subarray(offset, offset + 4));
    tokenizer.end();
    expect(lengths).toEqual([25, 30, 1]);
    expect(kept).toEqual([10, 10, 1]);
  });
});
