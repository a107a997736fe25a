// One streaming JSON scanner for json.ts (one document) and ndjson.ts (one value per line).
//
// A byte-at-a-time state machine over the text view (UTF-8) that keeps only the container stack
// (one byte per level, capped), so any document streams in constant memory and its first error
// is located by byte, line and column. It checks the grammar (RFC 8259); it builds no values:
// string bodies, numbers and whitespace each have a loop of their own, which is where the bytes
// of most documents are, and keys are hashed as they stream by (json-keys.ts). The column is
// worked out only when an error needs it, from the line's start.
import { isAscii } from 'node:buffer';
import { KeyCollector, KeyHash, decodeKey, maxKeyBytes } from './json-keys.js';

/** Deeper documents are reported, not analysed: one byte of stack per level bounds the memory. */
export const maxDepth = 100_000;

export type JsonType = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

export type JsonErrorPosition = {
  message: string;
  /** Byte offset of the offending byte (the file length for an unexpected end). */
  offset: number;
  /** 1-based line and column; the column counts code points. */
  line: number;
  column: number;
};

// What the scanner expects next.
const enum Mode {
  Start,
  Value,
  ValueOrClose,
  KeyOrClose,
  Key,
  Colon,
  AfterValue,
  String,
  Escape,
  UnicodeEscape,
  Number,
  Literal,
  /** Document: stopped at the first error. Lines: skipping the rest of a bad line. */
  Failed,
}

// Where inside a number the scanner is (RFC 8259 section 6 grammar).
const enum NumberPart {
  Minus,
  Zero,
  Integer,
  Dot,
  Fraction,
  Exponent,
  ExponentSign,
  ExponentDigits,
}

const enum StringRole {
  Value,
  /** A key not at record level: checked, not collected. */
  Key,
  /** A key of a record object: hashed and collected. */
  RecordKey,
}

const containerArray = 0;
const containerObject = 1;
const literals = ['true', 'false', 'null'].map((word) => new TextEncoder().encode(word));
const byteOrderMark = [0xef, 0xbb, 0xbf];

/** Bytes that end the fast loop through a string body: quote, backslash, control characters. */
const stringStop = new Uint8Array(256).map((_, byte) => (byte === 0x22 || byte === 0x5c || byte < 0x20 ? 1 : 0));
/** Escapes after a backslash other than `u`: " \ / b f n r t. */
const simpleEscape = new Uint8Array(256).map((_, byte) => ([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74].includes(byte) ? 1 : 0));

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function isHexDigit(byte: number): boolean {
  return isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

function describe(byte: number): string {
  return byte >= 0x21 && byte < 0x7f ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

/** Code points in bytes [from, to): every byte that is not a UTF-8 continuation byte. */
function codePoints(chunk: Uint8Array, from: number, to: number): number {
  if (from >= to) return 0;
  if (isAscii(chunk.subarray(from, to))) return to - from;
  let count = 0;
  for (let index = from; index < to; index += 1) if (((chunk[index] as number) & 0xc0) !== 0x80) count += 1;
  return count;
}

export interface ScannerOptions {
  /** NDJSON: each line holds one value (or nothing); a newline ends it, whatever came before. */
  lines: boolean;
}

/** What one value at the top level turned out to be (NDJSON: one per line). */
export interface LineOutcome {
  /** 1-based line number. */
  line: number;
  /** The value's type, or null for a blank line or a bad one. */
  type: JsonType | null;
  /** Why the line is bad, or null. */
  error: string | null;
}

export class JsonScanner {
  private mode = Mode.Start;
  private stack = new Uint8Array(64);
  private depth = 0;
  private offset = 0;
  private readonly lines: boolean;

  // Position of the current line, for error columns (document mode only).
  private line = 1;
  private lineStart = 0;
  /** Code points of the current line in earlier chunks. */
  private lineCodePointsBefore = 0;

  private numberPart = NumberPart.Minus;
  private literal: Uint8Array = literals[0] as Uint8Array;
  private literalIndex = 0;
  private unicodeDigitsLeft = 0;
  private bomIndex = 0;
  private stringRole = StringRole.Value;
  // The record key being read: its hash, and its first bytes (the part in earlier chunks is copied).
  private readonly keyHash = new KeyHash();
  private keyHead: Uint8Array | null = null;
  private keyStart = 0;
  private keyHasEscape = false;

  /** The chunk being scanned, for the column of an error in it. */
  private chunk: Uint8Array = new Uint8Array(0);
  private error: JsonErrorPosition | null = null;
  private lineError: string | null = null;
  private complete = false;
  bom = false;
  topLevelType: JsonType | null = null;
  deepest = 0;
  /** Elements of a top-level array (document mode). */
  records = 0;
  readonly keys = new KeyCollector();

  constructor(
    options: ScannerOptions,
    /** Lines mode: called at the end of every line. */
    private readonly onLine: (outcome: LineOutcome) => void = () => undefined,
  ) {
    this.lines = options.lines;
    if (this.lines) this.keys.begin();
  }

  /**
   * The loop keeps the mode in a local and handles the common steps inline (string bodies,
   * numbers, commas, colons, closers, the start of a value); the methods below take the rare
   * ones and keep `this.mode`, so the local is written back before and read after each call.
   */
  write(chunk: Uint8Array): void {
    const length = chunk.length;
    this.chunk = chunk;
    let index = 0;
    let mode = this.mode;
    while (index < length) {
      const byte = chunk[index] as number;
      if (mode === Mode.String) {
        // Fast path through string bodies, the bulk of most documents.
        let end = index;
        if (this.stringRole === StringRole.RecordKey) {
          const hash = this.keyHash;
          let first = hash.first;
          let second = hash.second;
          while (end < length && stringStop[chunk[end] as number] === 0) {
            const keyByte = chunk[end] as number;
            first = Math.imul(first ^ keyByte, 0x01000193);
            second = Math.imul(second ^ keyByte, 0x5bd1e995);
            end += 1;
          }
          hash.first = first;
          hash.second = second;
        } else {
          while (end < length && stringStop[chunk[end] as number] === 0) end += 1;
        }
        index = end;
        if (end === length) break;
        const stop = chunk[end] as number;
        if (stop === 0x22) {
          if (this.stringRole === StringRole.Value) {
            mode = Mode.AfterValue;
            if (this.depth === 0) this.complete = true;
          } else {
            if (this.stringRole === StringRole.RecordKey) this.endKey(chunk, end);
            mode = Mode.Colon;
          }
        } else if (stop === 0x5c) {
          mode = Mode.Escape;
          this.keyByte(stop);
        } else {
          mode = this.failed('Bad control character in string literal', index);
          continue;
        }
        index += 1;
        continue;
      }
      if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) {
        if (mode === Mode.Number || mode === Mode.Literal || mode === Mode.Escape || mode === Mode.UnicodeEscape || mode === Mode.Failed) {
          // Ends a number, or is wrong where it is: the mode's own step below decides.
        } else {
          if (byte === 0x0a) {
            this.mode = mode;
            this.newline(index);
            mode = this.mode;
          }
          index += 1;
          continue;
        }
      }
      switch (mode) {
        case Mode.AfterValue: {
          const depth = this.depth;
          const top = depth === 0 ? -1 : (this.stack[depth - 1] as number);
          if (byte === 0x2c && top !== -1) {
            mode = top === containerArray ? Mode.Value : Mode.Key;
          } else if ((byte === 0x7d && top === containerObject) || (byte === 0x5d && top === containerArray)) {
            this.depth = depth - 1;
            if (depth === 1) this.complete = true;
          } else {
            mode = this.failed(this.afterValueError(byte, top), index);
            continue;
          }
          index += 1;
          continue;
        }
        case Mode.Colon:
          if (byte !== 0x3a) {
            mode = this.failed(`Expected ':' after property name, found ${describe(byte)}`, index);
            continue;
          }
          mode = Mode.Value;
          index += 1;
          continue;
        case Mode.KeyOrClose:
        case Mode.Key:
          if (byte === 0x22) {
            this.startKey(index);
            mode = Mode.String;
          } else if (byte === 0x7d && mode === Mode.KeyOrClose) {
            mode = Mode.AfterValue;
            this.depth -= 1;
            if (this.depth === 0) this.complete = true;
          } else {
            mode = this.failed(`Expected a double-quoted property name, found ${describe(byte)}`, index);
            continue;
          }
          index += 1;
          continue;
        case Mode.Start:
          if ((this.bomIndex > 0 && this.bomIndex < byteOrderMark.length) || (byte === 0xef && this.offset + index === 0)) {
            this.mode = mode;
            this.byteOrderMark(byte, index);
            mode = this.mode;
            index += 1;
            continue;
          }
          mode = this.value(byte, index);
          index += 1;
          continue;
        case Mode.ValueOrClose:
          if (byte === 0x5d) {
            mode = Mode.AfterValue;
            this.depth -= 1;
            if (this.depth === 0) this.complete = true;
            index += 1;
            continue;
          }
          mode = this.value(byte, index);
          index += 1;
          continue;
        case Mode.Value:
          mode = this.value(byte, index);
          index += 1;
          continue;
        case Mode.Number:
          this.mode = mode;
          index = this.number(chunk, index);
          mode = this.mode;
          continue;
        case Mode.Escape:
          if (byte === 0x75) {
            mode = Mode.UnicodeEscape;
            this.unicodeDigitsLeft = 4;
          } else if (simpleEscape[byte] === 1) {
            mode = Mode.String;
          } else {
            mode = this.failed(`Bad escaped character ${describe(byte)} in string literal`, index);
            continue;
          }
          this.keyByte(byte);
          index += 1;
          continue;
        case Mode.UnicodeEscape:
          if (!isHexDigit(byte)) {
            mode = this.failed(`Bad Unicode escape: ${describe(byte)} is not a hex digit`, index);
            continue;
          }
          this.keyByte(byte);
          this.unicodeDigitsLeft -= 1;
          if (this.unicodeDigitsLeft === 0) mode = Mode.String;
          index += 1;
          continue;
        case Mode.Literal:
          if (byte !== this.literal[this.literalIndex]) {
            mode = this.failed(`Unexpected ${describe(byte)} in literal`, index);
            continue;
          }
          this.literalIndex += 1;
          if (this.literalIndex === this.literal.length) {
            mode = Mode.AfterValue;
            if (this.depth === 0) this.complete = true;
          }
          index += 1;
          continue;
        case Mode.Failed: {
          if (!this.lines) {
            index = length;
            continue;
          }
          const newline = chunk.indexOf(0x0a, index);
          if (newline === -1) {
            index = length;
            continue;
          }
          this.mode = mode;
          this.newline(newline);
          mode = this.mode;
          index = newline + 1;
          continue;
        }
      }
    }
    this.mode = mode;
    const inString = mode === Mode.String || mode === Mode.Escape || mode === Mode.UnicodeEscape;
    if (inString && this.stringRole === StringRole.RecordKey) this.keepKeyHead(chunk, length);
    if (!this.lines) {
      const lineFrom = Math.max(0, this.lineStart - this.offset);
      this.lineCodePointsBefore = (this.lineStart > this.offset ? 0 : this.lineCodePointsBefore) + codePoints(chunk, lineFrom, length);
    }
    this.offset += length;
  }

  /** Document mode: the summary facts once the input has ended. Lines mode: ends the last line. */
  finish(): { error: JsonErrorPosition | null } {
    if (this.mode === Mode.Number) this.endNumber(-1);
    if (this.lines) {
      if (this.offset > this.lineStart || this.mode !== Mode.Start) this.endLine();
      return { error: null };
    }
    if (this.error === null) {
      if (this.topLevelType === null) this.fail('Unexpected end of JSON input: the document is empty', -1);
      else if (!this.complete) this.fail('Unexpected end of JSON input', -1);
    }
    return { error: this.error };
  }

  private newline(index: number): void {
    if (this.lines) {
      this.lineStart = this.offset + index + 1;
      this.endLine();
      return;
    }
    this.line += 1;
    this.lineStart = this.offset + index + 1;
    this.lineCodePointsBefore = 0;
  }

  /** Lines mode: a newline (or the end of the file) ends whatever the line held. */
  private endLine(): void {
    if (this.mode === Mode.Number) this.endNumber(-1);
    let outcome: LineOutcome;
    if (this.lineError !== null) {
      outcome = { line: this.line, type: null, error: this.lineError };
    } else if (this.topLevelType === null) {
      outcome = { line: this.line, type: null, error: null };
    } else if (!this.complete) {
      outcome = { line: this.line, type: null, error: 'Unexpected end of JSON input at the end of the line' };
    } else {
      outcome = { line: this.line, type: this.topLevelType, error: null };
    }
    if (outcome.type !== null) this.keys.commit();
    else this.keys.discard();
    this.onLine(outcome);
    this.line += 1;
    this.mode = Mode.Start;
    this.depth = 0;
    this.topLevelType = null;
    this.complete = false;
    this.lineError = null;
    this.keys.begin();
  }

  /** A UTF-8 byte order mark opening the file (the text view passes it on as EF BB BF). */
  private byteOrderMark(byte: number, index: number): void {
    if (byte !== byteOrderMark[this.bomIndex]) {
      this.bomIndex = 3;
      this.fail(`Unexpected ${describe(byte)}`, index);
      return;
    }
    this.bomIndex += 1;
    if (this.bomIndex === 3) this.bom = true;
  }

  /** The first byte of a value; returns the mode it leads to. */
  private value(byte: number, index: number): Mode {
    const depth = this.depth;
    if (depth === 1 && !this.lines && this.stack[0] === containerArray) this.records += 1;
    let type: JsonType;
    let mode: Mode;
    if (byte === 0x22) {
      type = 'string';
      this.stringRole = StringRole.Value;
      mode = Mode.String;
    } else if (byte === 0x7b) {
      type = 'object';
      mode = this.open(containerObject, Mode.KeyOrClose, index);
    } else if (byte === 0x5b) {
      type = 'array';
      mode = this.open(containerArray, Mode.ValueOrClose, index);
    } else if (byte === 0x2d || isDigit(byte)) {
      type = 'number';
      this.numberPart = byte === 0x2d ? NumberPart.Minus : byte === 0x30 ? NumberPart.Zero : NumberPart.Integer;
      mode = Mode.Number;
    } else if (byte === 0x74 || byte === 0x66 || byte === 0x6e) {
      type = byte === 0x6e ? 'null' : 'boolean';
      this.literal = literals[byte === 0x74 ? 0 : byte === 0x66 ? 1 : 2] as Uint8Array;
      this.literalIndex = 1;
      mode = Mode.Literal;
    } else {
      return this.failed(`Unexpected ${describe(byte)}, expected a JSON value`, index);
    }
    if (depth === 0) this.topLevelType = type;
    return mode;
  }

  private open(container: number, mode: Mode, index: number): Mode {
    if (this.depth >= maxDepth) return this.failed(`Nesting deeper than ${maxDepth} levels is not analysed`, index);
    if (this.depth === this.stack.length) {
      const grown = new Uint8Array(Math.min(this.stack.length * 2, maxDepth));
      grown.set(this.stack);
      this.stack = grown;
    }
    this.stack[this.depth] = container;
    this.depth += 1;
    if (this.depth > this.deepest) this.deepest = this.depth;
    return mode;
  }

  private startKey(index: number): void {
    this.mode = Mode.String;
    // Record keys: a top-level object's, or (one document) those of objects directly in a top-level array.
    const depth = this.depth;
    const record = depth === 1 || (depth === 2 && !this.lines && this.stack[0] === containerArray);
    this.stringRole = record ? StringRole.RecordKey : StringRole.Key;
    if (record) {
      this.keyHash.reset();
      this.keyHead = null;
      this.keyStart = index + 1;
      this.keyHasEscape = false;
    }
  }

  /** An escape inside a record key: hashed like the rest (the loop above hashes plain bytes). */
  private keyByte(byte: number): void {
    if (this.stringRole !== StringRole.RecordKey) return;
    this.keyHasEscape = true;
    this.keyHash.add(byte);
  }

  /** The chunk ends inside a record key: keep its first maxKeyBytes for the list. */
  private keepKeyHead(chunk: Uint8Array, length: number): void {
    const head = this.keyHead ?? new Uint8Array(0);
    const room = maxKeyBytes - head.length;
    if (room > 0) {
      const part = chunk.subarray(Math.min(this.keyStart, length), length).subarray(0, room);
      const joined = new Uint8Array(head.length + part.length);
      joined.set(head);
      joined.set(part, head.length);
      this.keyHead = joined;
    } else {
      this.keyHead = head;
    }
    this.keyStart = 0;
  }

  /** The closing quote of a record key at `index`: count and list it. */
  private endKey(chunk: Uint8Array, index: number): void {
    // Almost every key of an array of records was seen before: known by its hash, with no copy
    // and no view made (Buffer#subarray per key cost more than the scanning).
    if (this.keyHasEscape || !this.keys.has(this.keyHash)) {
      const tail = chunk.subarray(this.keyStart, index);
      let raw: Uint8Array;
      if (this.keyHead === null) {
        raw = tail.subarray(0, maxKeyBytes);
      } else {
        const room = Math.max(0, maxKeyBytes - this.keyHead.length);
        raw = new Uint8Array(this.keyHead.length + Math.min(room, tail.length));
        raw.set(this.keyHead);
        raw.set(tail.subarray(0, room), this.keyHead.length);
      }
      if (this.keyHasEscape) {
        // "caf\u00e9" and "café" are the same key: hash what the key denotes.
        this.keyHash.reset();
        this.keyHash.addAll(Buffer.from(decodeKey(raw)));
      }
      this.keys.add(this.keyHash, raw);
      this.keyHead = null;
    }
  }

  /** Scans digits and the rest of a number; returns the index of the first byte after it. */
  private number(chunk: Uint8Array, start: number): number {
    let part = this.numberPart;
    let index = start;
    for (; index < chunk.length; index += 1) {
      const byte = chunk[index] as number;
      if (isDigit(byte)) {
        if (part === NumberPart.Zero) {
          this.numberPart = part;
          this.fail('Unexpected digit after a leading zero', index);
          return index;
        }
        if (part === NumberPart.Minus) part = byte === 0x30 ? NumberPart.Zero : NumberPart.Integer;
        else if (part === NumberPart.Dot) part = NumberPart.Fraction;
        else if (part === NumberPart.Exponent || part === NumberPart.ExponentSign) part = NumberPart.ExponentDigits;
      } else if (byte === 0x2e && (part === NumberPart.Zero || part === NumberPart.Integer)) {
        part = NumberPart.Dot;
      } else if ((byte === 0x65 || byte === 0x45) && (part === NumberPart.Zero || part === NumberPart.Integer || part === NumberPart.Fraction)) {
        part = NumberPart.Exponent;
      } else if ((byte === 0x2b || byte === 0x2d) && part === NumberPart.Exponent) {
        part = NumberPart.ExponentSign;
      } else {
        this.numberPart = part;
        this.endNumber(index);
        // The byte after the number is looked at again in the mode the number left.
        return index;
      }
    }
    this.numberPart = part;
    return index;
  }

  /** `index` of the byte after the number, or -1 at the end of input / line. */
  private endNumber(index: number): void {
    const part = this.numberPart;
    const finished =
      part === NumberPart.Zero || part === NumberPart.Integer || part === NumberPart.Fraction || part === NumberPart.ExponentDigits;
    if (!finished) return this.fail('Unterminated number', index);
    this.endValue();
  }

  private endValue(): void {
    this.mode = Mode.AfterValue;
    if (this.depth === 0) this.complete = true;
  }

  private afterValueError(byte: number, top: number): string {
    if (top === -1) return `Unexpected ${describe(byte)} after the JSON value (${this.lines ? 'one value per line' : 'NDJSON needs the ndjson analyzer'})`;
    return `Unexpected ${describe(byte)}, expected ',' or '${top === containerArray ? ']' : '}'}'`;
  }

  /** fail(), returning the mode it leaves, for the loop's local. */
  private failed(message: string, index: number): Mode {
    this.fail(message, index);
    return Mode.Failed;
  }

  /**
   * The first error: in one document it ends the analysis; in lines mode it makes the line bad
   * and the rest of it is skipped. `index` is the offending byte in the current chunk, or -1 for
   * the end of the input (one column past the last character).
   */
  private fail(message: string, index: number): void {
    this.mode = Mode.Failed;
    if (this.lines) {
      this.lineError ??= message;
      return;
    }
    if (this.error !== null) return;
    if (index < 0) {
      // After the last write, lineCodePointsBefore holds the whole last line.
      this.error = { message, offset: this.offset, line: this.line, column: this.lineCodePointsBefore + 1 };
      return;
    }
    const lineFrom = Math.max(0, this.lineStart - this.offset);
    const column = this.lineCodePointsBefore + codePoints(this.chunk, lineFrom, index + 1);
    this.error = { message, offset: this.offset + index, line: this.line, column };
  }
}
