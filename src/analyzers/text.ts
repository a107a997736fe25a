import { hasBinarySignature, isTextMediaType } from './sniff.js';
import type { Analyzer, FileInfo, TextDecoding, TextEncoding } from './types.js';

export type TextSummary = {
  /** The encoding the text was read in (sniffed from the first bytes: BOM, UTF-8, or a guess). */
  encoding: TextEncoding;
  /** True when `encoding` is a guess: 8-bit text that is not UTF-8 is read as windows-1252. */
  encodingGuessed: boolean;
  /** The stored bytes are UTF-8 as they are (false for UTF-16, and for 8-bit text with non-ASCII bytes). */
  utf8Valid: boolean;
  /**
   * Ill-formed sequences, each read as one U+FFFD (as TextDecoder would): UTF-8 ones for UTF-8 files,
   * unpaired surrogates for UTF-16; for windows-1252 text, the sequences that are not UTF-8.
   */
  invalidSequences: number;
  /** Byte offset of the first ill-formed sequence, or null. */
  firstInvalidByteOffset: number | null;
  /** A byte order mark opened the file (not counted as a character). */
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

/** Fixed fields only. */
const summaryBudgetBytes = 2 * 1024;

const carriageReturn = 0x0d;
const byteOrderMarkBytes = 3;

// What a byte of well-formed UTF-8 is to the counts: one lookup per byte in the hot loop.
const enum ByteClass {
  /** Part of a word: ASCII other than whitespace, and lead bytes that cannot start whitespace. Must be 0. */
  Word,
  /** 10xxxxxx: part of a character counted at its lead byte. Must be 1. */
  Continuation,
  /** TAB VT FF and space. */
  Space,
  LineFeed,
  CarriageReturn,
  /** C2, E1, E2, E3, EF: may start a Unicode space (U+00A0, U+1680, U+2000-…, U+3000, U+FEFF). */
  MaybeSpace,
}

const byteClasses = Uint8Array.from({ length: 256 }, (_, byte) => {
  if (byte === 0x0a) return ByteClass.LineFeed;
  if (byte === 0x0d) return ByteClass.CarriageReturn;
  if (byte === 0x20 || (byte >= 0x09 && byte <= 0x0c)) return ByteClass.Space;
  if (byte >= 0x80 && byte < 0xc0) return ByteClass.Continuation;
  if (byte === 0xc2 || byte === 0xe1 || byte === 0xe2 || byte === 0xe3 || byte === 0xef) return ByteClass.MaybeSpace;
  return ByteClass.Word;
});

/**
 * Whether the character whose UTF-8 starts at `index` is Unicode White_Space (the same set as
 * JavaScript's `\s`, U+FEFF included). Only lead bytes C2, E1, E2, E3 and EF can start one; the
 * text view guarantees the whole sequence is in this chunk.
 */
function isMultiByteWhitespace(chunk: Uint8Array, index: number, lead: number): boolean {
  const second = chunk[index + 1];
  switch (lead) {
    case 0xc2:
      return second === 0xa0;
    case 0xe1:
      return second === 0x9a && chunk[index + 2] === 0x80;
    case 0xe2: {
      const third = chunk[index + 2] as number;
      // U+2000-200A, U+2028, U+2029, U+202F; U+205F.
      if (second === 0x80) return third <= 0x8a || third === 0xa8 || third === 0xa9 || third === 0xaf;
      return second === 0x81 && third === 0x9f;
    }
    case 0xe3:
      return second === 0x80 && chunk[index + 2] === 0x80;
    case 0xef:
      return second === 0xbb && chunk[index + 2] === 0xbf;
    default:
      return false;
  }
}

/**
 * Line, word and character counts in one pass over the text view (well-formed UTF-8, chunks
 * ending on character boundaries), written for speed: ASCII takes one table lookup, characters
 * are bytes minus continuation bytes, and a line's length is computed once, at its end, from
 * offsets. Nothing of the text is kept, so one endless line costs nothing.
 */
class TextSink {
  /** Bytes of text seen before the current chunk. */
  private offset = 0;
  private previousByte = -1;
  /** Continuation bytes (10xxxxxx) so far: each is part of a character counted at its lead byte. */
  private continuationBytes = 0;
  private bom = false;
  private words = 0;
  private inWord = 0;
  private lines = 0;
  /** Offset of the current line's first byte, and the continuation bytes before it. */
  private lineStart = 0;
  private lineStartContinuations = 0;
  private longestLineCharacters = 0;
  private longestLineNumber = 0;
  private lf = 0;
  private crlf = 0;
  private carriageReturns = 0;

  write(chunk: Uint8Array): void {
    const length = chunk.length;
    if (length === 0) return;
    let index = 0;
    if (this.offset === 0 && length >= byteOrderMarkBytes && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
      this.bom = true;
      this.lineStart = byteOrderMarkBytes;
      index = byteOrderMarkBytes;
    }
    // The hot loop works on locals; the fields are written back once per chunk.
    const offset = this.offset;
    let continuations = this.continuationBytes;
    let words = this.words;
    let inWord = this.inWord;
    for (; index < length; index += 1) {
      const kind = byteClasses[chunk[index] as number];
      if (kind === ByteClass.Word) {
        words += 1 - inWord;
        inWord = 1;
        // Most text is runs of word bytes: the rest of the run in a loop of its own, continuation
        // bytes of letters like ü included (Word is 0 and Continuation 1, so adding the class counts them).
        while (index + 1 < length) {
          const next = byteClasses[chunk[index + 1] as number] as ByteClass;
          if (next > ByteClass.Continuation) break;
          continuations += next;
          index += 1;
        }
      } else if (kind === ByteClass.Continuation) {
        continuations += 1;
      } else if (kind === ByteClass.Space) {
        inWord = 0;
      } else if (kind === ByteClass.LineFeed) {
        inWord = 0;
        const afterCr = index > 0 ? chunk[index - 1] === carriageReturn : this.previousByte === carriageReturn;
        if (afterCr) {
          // The CR already ended the line; the LF belongs to its terminator.
          this.crlf += 1;
          this.lineStart = offset + index + 1;
        } else {
          this.lf += 1;
          this.endLine(offset + index, continuations);
        }
      } else if (kind === ByteClass.CarriageReturn) {
        inWord = 0;
        this.carriageReturns += 1;
        this.endLine(offset + index, continuations);
      } else if (isMultiByteWhitespace(chunk, index, chunk[index] as number)) {
        inWord = 0;
      } else {
        words += 1 - inWord;
        inWord = 1;
      }
    }
    this.continuationBytes = continuations;
    this.words = words;
    this.inWord = inWord;
    this.previousByte = chunk[length - 1] as number;
    this.offset += length;
  }

  finish(decoding: TextDecoding | null): TextSummary {
    const endsWithNewline = this.lines > 0 && this.offset === this.lineStart;
    if (this.offset > this.lineStart) this.endLine(this.offset, this.continuationBytes);
    const cr = this.carriageReturns - this.crlf;
    const endings = [this.lf > 0 ? 'LF' : null, this.crlf > 0 ? 'CRLF' : null, cr > 0 ? 'CR' : null].filter((ending) => ending !== null);
    const encoding = decoding?.encoding ?? 'utf-8';
    const invalidSequences = decoding?.invalidSequences ?? 0;
    return {
      encoding,
      encodingGuessed: encoding === 'windows-1252',
      utf8Valid: encoding === 'utf-8' && invalidSequences === 0,
      invalidSequences,
      firstInvalidByteOffset: decoding?.firstInvalidByteOffset ?? null,
      bom: this.bom,
      lines: this.lines,
      words: this.words,
      characters: this.offset - (this.bom ? byteOrderMarkBytes : 0) - this.continuationBytes,
      longestLineCharacters: this.longestLineCharacters,
      longestLineNumber: this.longestLineNumber,
      lineEndings: { lf: this.lf, crlf: this.crlf, cr },
      lineEnding: endings.length === 0 ? 'none' : endings.length > 1 ? 'mixed' : (endings[0] as 'LF' | 'CRLF' | 'CR'),
      endsWithNewline,
    };
  }

  /** The line ends before the byte at `end` (its terminator's first byte, or the end of the text). */
  private endLine(end: number, continuations: number): void {
    this.lines += 1;
    const characters = end - this.lineStart - (continuations - this.lineStartContinuations);
    if (characters > this.longestLineCharacters) {
      this.longestLineCharacters = characters;
      this.longestLineNumber = this.lines;
    }
    this.lineStart = end + 1;
    this.lineStartContinuations = continuations;
  }
}

/** Plain-text statistics for anything that is text: declared as text, or bytes that look like it. */
export const textAnalyzer: Analyzer<TextSummary> = {
  name: 'text',
  input: 'text',
  summaryBudgetBytes,
  accepts: (file: FileInfo) =>
    !hasBinarySignature(file) && (isTextMediaType(file.contentType) || file.sniffed?.text === true),
  create() {
    const sink = new TextSink();
    return {
      write: (chunk) => sink.write(chunk),
      finish: async (end) => sink.finish(end.decoding),
    };
  },
};
