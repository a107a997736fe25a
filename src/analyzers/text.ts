import { hasBinarySignature, isTextMediaType } from './sniff.js';
import type { Analyzer, FileInfo } from './types.js';

const replacementCharacter = 0xfffd;
const byteOrderMark = 0xfeff;

export type TextSummary = {
  encoding: 'utf-8';
  utf8Valid: boolean;
  /** Ill-formed sequences (each counted as one U+FFFD character, as TextDecoder would decode it). */
  invalidSequences: number;
  /** Byte offset of the first ill-formed sequence, or null. */
  firstInvalidByteOffset: number | null;
  /** A UTF-8 byte order mark opened the file (not counted as a character). */
  bom: boolean;
  /** Line terminators, plus one for a last line without one. */
  lines: number;
  /** Runs of non-whitespace (Unicode White_Space separates words). */
  words: number;
  /** Unicode code points, line terminators included. */
  characters: number;
  /** Longest line in code points, terminator excluded, and its 1-based number (0 when empty). */
  longestLineCharacters: number;
  longestLineNumber: number;
  lineEndings: { lf: number; crlf: number; cr: number };
  lineEnding: 'LF' | 'CRLF' | 'CR' | 'mixed' | 'none';
  endsWithNewline: boolean;
};

/** Unicode White_Space, the same set as JavaScript's `\s`. */
function isWhitespace(codePoint: number): boolean {
  if (codePoint < 0x80) return codePoint === 0x20 || (codePoint >= 0x09 && codePoint <= 0x0d);
  return (
    codePoint === 0xa0 ||
    codePoint === 0x1680 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    codePoint === 0x202f ||
    codePoint === 0x205f ||
    codePoint === 0x3000 ||
    codePoint === byteOrderMark
  );
}

/**
 * Line, word and character counts over a byte-level UTF-8 decoder (the WHATWG algorithm: one
 * U+FFFD per maximal ill-formed subpart), so a character split across chunks needs no buffering
 * and invalid bytes are located exactly.
 */
class TextSink {
  private offset = 0;
  // Decoder state: continuation bytes still needed, the code point so far, the allowed range of
  // the next byte (narrower after E0, ED, F0, F4 to exclude overlongs, surrogates and > U+10FFFF),
  // and where the current sequence started.
  private needed = 0;
  private codePoint = 0;
  private lowerBoundary = 0x80;
  private upperBoundary = 0xbf;
  private sequenceStart = 0;

  private invalidSequences = 0;
  private firstInvalidByteOffset: number | null = null;
  private bom = false;
  private characters = 0;
  private words = 0;
  private inWord = false;
  private lines = 0;
  private lineLength = 0;
  private lineHasContent = false;
  private longestLineCharacters = 0;
  private longestLineNumber = 0;
  private afterCarriageReturn = false;
  private lf = 0;
  private crlf = 0;
  private cr = 0;

  write(chunk: Uint8Array): void {
    for (let index = 0; index < chunk.length; index += 1) {
      const byte = chunk[index] as number;
      const position = this.offset + index;
      if (this.needed === 0) {
        if (byte < 0x80) {
          this.character(byte);
        } else if (byte >= 0xc2 && byte <= 0xdf) {
          this.start(byte & 0x1f, 1, 0x80, 0xbf, position);
        } else if (byte >= 0xe0 && byte <= 0xef) {
          this.start(byte & 0x0f, 2, byte === 0xe0 ? 0xa0 : 0x80, byte === 0xed ? 0x9f : 0xbf, position);
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          this.start(byte & 0x07, 3, byte === 0xf0 ? 0x90 : 0x80, byte === 0xf4 ? 0x8f : 0xbf, position);
        } else {
          this.invalid(position);
        }
      } else if (byte < this.lowerBoundary || byte > this.upperBoundary) {
        // The sequence ends here as one U+FFFD; this byte is looked at again as a fresh start.
        this.needed = 0;
        this.invalid(this.sequenceStart);
        index -= 1;
      } else {
        this.lowerBoundary = 0x80;
        this.upperBoundary = 0xbf;
        this.codePoint = (this.codePoint << 6) | (byte & 0x3f);
        this.needed -= 1;
        if (this.needed === 0) {
          if (this.codePoint === byteOrderMark && this.sequenceStart === 0) this.bom = true;
          else this.character(this.codePoint);
        }
      }
    }
    this.offset += chunk.length;
  }

  finish(): TextSummary {
    if (this.needed > 0) {
      this.needed = 0;
      this.invalid(this.sequenceStart);
    }
    if (this.afterCarriageReturn) this.cr += 1;
    const endsWithNewline = this.lines > 0 && !this.lineHasContent;
    if (this.lineHasContent) this.endLine();
    const endings = [this.lf > 0 ? 'LF' : null, this.crlf > 0 ? 'CRLF' : null, this.cr > 0 ? 'CR' : null]
      .filter((ending) => ending !== null);
    return {
      encoding: 'utf-8',
      utf8Valid: this.invalidSequences === 0,
      invalidSequences: this.invalidSequences,
      firstInvalidByteOffset: this.firstInvalidByteOffset,
      bom: this.bom,
      lines: this.lines,
      words: this.words,
      characters: this.characters,
      longestLineCharacters: this.longestLineCharacters,
      longestLineNumber: this.longestLineNumber,
      lineEndings: { lf: this.lf, crlf: this.crlf, cr: this.cr },
      lineEnding: endings.length === 0 ? 'none' : endings.length > 1 ? 'mixed' : (endings[0] as 'LF' | 'CRLF' | 'CR'),
      endsWithNewline,
    };
  }

  private start(bits: number, needed: number, lower: number, upper: number, position: number): void {
    this.codePoint = bits;
    this.needed = needed;
    this.lowerBoundary = lower;
    this.upperBoundary = upper;
    this.sequenceStart = position;
  }

  private invalid(position: number): void {
    this.lowerBoundary = 0x80;
    this.upperBoundary = 0xbf;
    this.invalidSequences += 1;
    this.firstInvalidByteOffset ??= position;
    this.character(replacementCharacter);
  }

  private character(codePoint: number): void {
    this.characters += 1;
    if (this.afterCarriageReturn) {
      this.afterCarriageReturn = false;
      if (codePoint === 0x0a) {
        this.crlf += 1;
        return;
      }
      this.cr += 1;
    }
    if (codePoint === 0x0a || codePoint === 0x0d) {
      if (codePoint === 0x0a) this.lf += 1;
      else this.afterCarriageReturn = true;
      this.inWord = false;
      this.endLine();
      return;
    }
    this.lineLength += 1;
    this.lineHasContent = true;
    if (isWhitespace(codePoint)) {
      this.inWord = false;
    } else if (!this.inWord) {
      this.inWord = true;
      this.words += 1;
    }
  }

  private endLine(): void {
    this.lines += 1;
    if (this.lineLength > this.longestLineCharacters) {
      this.longestLineCharacters = this.lineLength;
      this.longestLineNumber = this.lines;
    }
    this.lineLength = 0;
    this.lineHasContent = false;
  }
}

/** Plain-text statistics for anything that is text: declared as text, or bytes that look like it. */
export const textAnalyzer: Analyzer<TextSummary> = {
  name: 'text',
  accepts: (file: FileInfo) =>
    !hasBinarySignature(file) && (isTextMediaType(file.contentType) || file.sniffed?.text === true),
  create() {
    const sink = new TextSink();
    return {
      write: (chunk) => sink.write(chunk),
      finish: async () => sink.finish(),
    };
  },
};
