import { describe, expect, it } from 'vitest';
import type { TextSummary } from '../../src/analyzers/text.js';
import { analyze, bytes, pseudoRandomBytes } from './fixtures.js';

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

  it('finds invalid UTF-8 and counts it as TextDecoder would', async () => {
    const data = new Uint8Array([
      ...bytes('ok '),
      0xc3, 0x28, // lead byte followed by a non-continuation
      0xed, 0xa0, 0x80, // an encoded surrogate
      0xf5, // a byte that never occurs in UTF-8
      ...bytes(' fine é '),
      0xe2, 0x82, // a 3-byte sequence cut short by the end of the file
    ]);
    const summary = await textSummary(data);
    const decoded = new TextDecoder().decode(data);
    expect(summary.utf8Valid).toBe(false);
    expect(summary.firstInvalidByteOffset).toBe(3);
    expect(summary.invalidSequences).toBe([...decoded].filter((char) => char === '\uFFFD').length);
    expect(summary.characters).toBe([...decoded].length);
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
