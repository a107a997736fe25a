import { describe, expect, it } from 'vitest';
import type { TextSummary } from '../../src/analyzers/text.js';
import { analyze, bytes, pseudoRandomBytes, utf16, windows1252 } from './fixtures.js';

async function textSummary(data: Uint8Array, contentType = 'text/plain'): Promise<TextSummary> {
  const report = await analyze(data, contentType, 'sample.txt');
  expect(report.ran).toContain('text');
  return report.results.text as TextSummary;
}

describe('text analyzer', () => {
  it('counts lines, words and code points of UTF-8 split at every possible place', async () => {
    // 2-, 3- and 4-byte characters: fed 1 and 7 bytes at a time, every one of them is split.
    const text = 'Grüße aus Köln\n€100 für 😀 und 日本語の文字\n\nlast line without newline, a bit longer: ½ ⅓ ¼';
    const summary = await textSummary(bytes(text));
    const lines = text.split('\n');
    expect(summary).toMatchObject({
      utf8Valid: true,
      invalidSequences: 0,
      firstInvalidByteOffset: null,
      lines: lines.length,
      words: text.split(/\s+/).filter((word) => word !== '').length,
      characters: [...text].length,
      longestLineCharacters: Math.max(...lines.map((line) => [...line].length)),
      longestLineNumber: 4,
      lineEnding: 'LF',
      endsWithNewline: false,
    });
  });

  it('recognises CRLF, CR and mixed line endings and a byte order mark', async () => {
    const crlf = await textSummary(bytes('\uFEFFone\r\ntwo\r\nthree\r\n'));
    expect(crlf).toMatchObject({ bom: true, lines: 3, characters: 17, lineEnding: 'CRLF', endsWithNewline: true });
    expect(crlf.lineEndings).toEqual({ lf: 0, crlf: 3, cr: 0 });
    const mixed = await textSummary(bytes('a\rb\nc\r\nd'));
    expect(mixed).toMatchObject({ lines: 4, lineEnding: 'mixed', lineEndings: { lf: 1, crlf: 1, cr: 1 } });
  });

  it('finds invalid UTF-8 in a UTF-8 file and counts it as TextDecoder would', async () => {
    const data = new Uint8Array([
      ...bytes('Grüße aus Köln, ½ ⅓ ¼ — ok '),
      0xc3, 0x28, // lead byte followed by a non-continuation
      0xed, 0xa0, 0x80, // an encoded surrogate
      0xf5, // a byte that never occurs in UTF-8
      ...bytes(' fine é '),
      0xe2, 0x82, // a 3-byte sequence cut short by the end of the file
    ]);
    const summary = await textSummary(data);
    const decoded = new TextDecoder().decode(data);
    expect(summary).toMatchObject({ encoding: 'utf-8', encodingGuessed: false, utf8Valid: false });
    expect(summary.firstInvalidByteOffset).toBe(bytes('Grüße aus Köln, ½ ⅓ ¼ — ok ').length);
    expect(summary.invalidSequences).toBe(6);
    expect(summary.characters).toBe([...decoded].length);
    expect(summary.words).toBe(decoded.split(/\s+/).filter((word) => word !== '').length);
  });

  it('reads UTF-16 text with a byte order mark, little- and big-endian, as the same text', async () => {
    // What spreadsheet programs save as "Unicode Text": UTF-16LE, BOM, tabs and CRLF.
    const text = '\uFEFFStadt\tGröße\r\nKöln\t1084831\r\n😀 emoji\u00A0and\u3000spaces\t€\r\n';
    const utf8 = await textSummary(bytes(text));
    for (const encoding of ['utf-16le', 'utf-16be'] as const) {
      const summary = await textSummary(utf16(text, encoding));
      expect(summary).toEqual({ ...utf8, encoding, utf8Valid: false });
      expect(summary).toMatchObject({ bom: true, invalidSequences: 0, lines: 3, lineEnding: 'CRLF', characters: [...text].length - 1 });
    }
  });

  it('counts unpaired surrogates and a dangling odd byte in UTF-16 as invalid', async () => {
    const before = utf16(`\uFEFF${'ab '.repeat(100)}`, 'utf-16le');
    const data = new Uint8Array([...before, 0x00, 0xd8, ...utf16('cd', 'utf-16le'), 0x00, 0xdc, 0x41]);
    const summary = await textSummary(data);
    // TextDecoder drops the BOM and reads each of the three as U+FFFD.
    const decoded = new TextDecoder('utf-16le').decode(data);
    expect(decoded.endsWith('ab \uFFFDcd\uFFFD\uFFFD')).toBe(true);
    expect(summary).toMatchObject({
      encoding: 'utf-16le',
      invalidSequences: 3,
      firstInvalidByteOffset: before.length,
      characters: decoded.length,
    });
  });

  it('calls 8-bit text that is not UTF-8 windows-1252 (a guess) and counts what is not UTF-8', async () => {
    const text = 'Café déjà vu – “quoted” for €5, naïve Straße\nzweite Zeile: Ærøskøbing ½\n';
    const data = windows1252(text);
    const summary = await textSummary(data);
    expect(summary).toMatchObject({
      encoding: 'windows-1252',
      encodingGuessed: true,
      utf8Valid: false,
      invalidSequences: [...new TextDecoder().decode(data)].filter((char) => char === '\uFFFD').length,
      firstInvalidByteOffset: 3,
      lines: 2,
      words: text.split(/\s+/).filter((word) => word !== '').length,
      characters: text.length,
    });
    const file = (await analyze(data, 'text/plain', 'legacy.txt')).results.file;
    expect(file).toMatchObject({ kind: 'text', typeCheck: 'match' });
  });

  it('agrees with TextDecoder on the character count of arbitrary bytes declared as text', async () => {
    const data = pseudoRandomBytes(20_000, 42);
    const summary = await textSummary(data);
    expect(summary.utf8Valid).toBe(false);
    expect(summary.characters).toBe([...new TextDecoder().decode(data)].length);
  });

  it('reports an empty file as zero of everything', async () => {
    const summary = await textSummary(new Uint8Array(0));
    expect(summary).toMatchObject({ utf8Valid: true, lines: 0, words: 0, characters: 0, lineEnding: 'none' });
  });

  it('does not run on bytes that are binary unless declared text', async () => {
    const report = await analyze(pseudoRandomBytes(5000, 7), 'application/octet-stream', 'blob.bin');
    expect(report.ran).toEqual(['file']);
  });
});
