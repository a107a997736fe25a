import { filenameExtension, hasBinarySignature, normalizeMediaType } from './sniff.js';
import type { Analyzer, FileInfo } from './types.js';

/** Deeper documents are reported, not analysed: the container stack is the only unbounded state. */
const maxDepth = 10_000;
/** Keys kept for the summary; the count keeps going past this. */
const maxKeys = 200;
/** Bytes of one key kept; longer keys are truncated in the summary. */
const maxKeyBytes = 256;

export type JsonErrorPosition = {
  message: string;
  /** Byte offset of the offending byte (the file length for an unexpected end). */
  offset: number;
  /** 1-based line and column; the column counts code points. */
  line: number;
  column: number;
};

export type JsonSummary = {
  valid: boolean;
  error: JsonErrorPosition | null;
  topLevelType: 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null' | null;
  maxDepth: number;
  /** Elements of a top-level array, else null. */
  records: number | null;
  /** Keys of a top-level object, or the union of the keys of objects in a top-level array. */
  keys: string[];
  keyCount: number;
  keysTruncated: boolean;
  bom: boolean;
};

// What the tokenizer expects next.
const enum Mode {
  Bom,
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
  Failed,
}

// Where inside a number the tokenizer is (RFC 8259 section 6 grammar).
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

const containerArray = 0;
const containerObject = 1;
const literals = ['true', 'false', 'null'].map((word) => new TextEncoder().encode(word));
const simpleEscapes = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const keyDecoder = new TextDecoder();

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function isHexDigit(byte: number): boolean {
  return isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function describe(byte: number): string {
  return byte >= 0x21 && byte < 0x7f ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * An incremental JSON validator: a byte-at-a-time state machine that keeps only the container
 * stack, so any document streams in constant memory (bar nesting) and its first error is located
 * by byte, line and column. It checks the grammar, not UTF-8 (the text analyzer does that).
 */
class JsonTokenizer {
  private mode = Mode.Bom;
  private readonly stack: number[] = [];
  private offset = 0;
  private line = 1;
  private column = 0;

  private numberPart = NumberPart.Minus;
  private literal: Uint8Array = new Uint8Array(0);
  private literalIndex = 0;
  private unicodeDigitsLeft = 0;
  private stringIsKey = false;
  private keyBytes: number[] | null = null;

  private error: JsonErrorPosition | null = null;
  private complete = false;
  private bom = false;
  private bomIndex = 0;
  private topLevelType: JsonSummary['topLevelType'] = null;
  private deepest = 0;
  private records = 0;
  private readonly keys = new Set<string>();
  private keyCount = 0;
  private keysTruncated = false;

  write(chunk: Uint8Array): void {
    for (let index = 0; index < chunk.length && this.mode !== Mode.Failed; index += 1) {
      const byte = chunk[index] as number;
      if ((byte & 0xc0) !== 0x80) this.column += 1;
      if (this.mode === Mode.String) {
        // Fast path through string bodies, the bulk of most documents.
        if (byte === 0x22) this.endString();
        else if (byte === 0x5c) this.mode = Mode.Escape;
        else if (byte < 0x20) this.fail('Bad control character in string literal');
        else this.keepKeyByte(byte);
      } else {
        this.step(byte);
      }
      if (byte === 0x0a) {
        this.line += 1;
        this.column = 0;
      }
      this.offset += 1;
    }
  }

  finish(): JsonSummary {
    if (this.mode === Mode.Number) this.endNumber();
    if (this.error === null) {
      if (this.topLevelType === null) this.fail('Unexpected end of JSON input: the document is empty', true);
      else if (!this.complete) this.fail('Unexpected end of JSON input', true);
    }
    const isArray = this.topLevelType === 'array';
    return {
      valid: this.error === null,
      error: this.error,
      topLevelType: this.topLevelType,
      maxDepth: this.deepest,
      records: isArray ? this.records : null,
      keys: [...this.keys],
      keyCount: this.keyCount,
      keysTruncated: this.keysTruncated,
      bom: this.bom,
    };
  }

  private step(byte: number): void {
    switch (this.mode) {
      case Mode.Bom:
        if (this.bomIndex === 0 && byte !== 0xef) {
          this.mode = Mode.Value;
          this.step(byte);
        } else if (byte === [0xef, 0xbb, 0xbf][this.bomIndex]) {
          this.bomIndex += 1;
          if (this.bomIndex === 3) {
            this.bom = true;
            this.mode = Mode.Value;
          }
        } else {
          this.fail(`Unexpected ${describe(byte)}`);
        }
        return;
      case Mode.Value:
      case Mode.ValueOrClose:
        if (isWhitespace(byte)) return;
        if (byte === 0x5d && this.mode === Mode.ValueOrClose) return this.close(containerArray);
        return this.startValue(byte);
      case Mode.KeyOrClose:
      case Mode.Key:
        if (isWhitespace(byte)) return;
        if (byte === 0x7d && this.mode === Mode.KeyOrClose) return this.close(containerObject);
        if (byte !== 0x22) return this.fail(`Expected a double-quoted property name, found ${describe(byte)}`);
        return this.startKey();
      case Mode.Colon:
        if (isWhitespace(byte)) return;
        if (byte !== 0x3a) return this.fail(`Expected ':' after property name, found ${describe(byte)}`);
        this.mode = Mode.Value;
        return;
      case Mode.AfterValue:
        return this.afterValue(byte);
      case Mode.Escape:
        if (byte === 0x75) {
          this.mode = Mode.UnicodeEscape;
          this.unicodeDigitsLeft = 4;
        } else if (simpleEscapes.has(byte)) {
          this.mode = Mode.String;
        } else {
          return this.fail(`Bad escaped character ${describe(byte)} in string literal`);
        }
        this.keepKeyByte(0x5c);
        this.keepKeyByte(byte);
        return;
      case Mode.UnicodeEscape:
        if (!isHexDigit(byte)) return this.fail(`Bad Unicode escape: ${describe(byte)} is not a hex digit`);
        this.keepKeyByte(byte);
        this.unicodeDigitsLeft -= 1;
        if (this.unicodeDigitsLeft === 0) this.mode = Mode.String;
        return;
      case Mode.Number:
        return this.number(byte);
      case Mode.Literal:
        if (byte !== this.literal[this.literalIndex]) return this.fail(`Unexpected ${describe(byte)} in literal`);
        this.literalIndex += 1;
        if (this.literalIndex === this.literal.length) this.endValue();
        return;
      case Mode.String:
      case Mode.Failed:
        return;
    }
  }

  private startValue(byte: number): void {
    const depth = this.stack.length;
    if (depth === 1 && this.stack[0] === containerArray) this.records += 1;
    let type: NonNullable<JsonSummary['topLevelType']>;
    if (byte === 0x7b) {
      type = 'object';
      this.open(containerObject, Mode.KeyOrClose);
    } else if (byte === 0x5b) {
      type = 'array';
      this.open(containerArray, Mode.ValueOrClose);
    } else if (byte === 0x22) {
      type = 'string';
      this.stringIsKey = false;
      this.keyBytes = null;
      this.mode = Mode.String;
    } else if (byte === 0x2d || isDigit(byte)) {
      type = 'number';
      this.mode = Mode.Number;
      this.numberPart = byte === 0x2d ? NumberPart.Minus : byte === 0x30 ? NumberPart.Zero : NumberPart.Integer;
    } else if (byte === 0x74 || byte === 0x66 || byte === 0x6e) {
      type = byte === 0x6e ? 'null' : 'boolean';
      this.literal = literals[byte === 0x74 ? 0 : byte === 0x66 ? 1 : 2] as Uint8Array;
      this.literalIndex = 1;
      this.mode = Mode.Literal;
    } else {
      return this.fail(`Unexpected ${describe(byte)}, expected a JSON value`);
    }
    if (depth === 0) this.topLevelType = type;
  }

  private open(container: number, mode: Mode): void {
    if (this.stack.length >= maxDepth) return this.fail(`Nesting deeper than ${maxDepth} levels is not analysed`);
    this.stack.push(container);
    this.deepest = Math.max(this.deepest, this.stack.length);
    this.mode = mode;
  }

  private close(container: number): void {
    this.stack.pop();
    this.mode = container === containerArray ? Mode.ValueOrClose : Mode.KeyOrClose;
    this.endValue();
  }

  private startKey(): void {
    this.stringIsKey = true;
    this.mode = Mode.String;
    // Keys worth keeping: a top-level object's, or those of objects directly in a top-level array.
    const depth = this.stack.length;
    const wanted = depth === 1 || (depth === 2 && this.stack[0] === containerArray);
    this.keyBytes = wanted ? [] : null;
  }

  private endString(): void {
    if (!this.stringIsKey) return this.endValue();
    if (this.keyBytes !== null) this.recordKey(this.keyBytes);
    this.keyBytes = null;
    this.mode = Mode.Colon;
  }

  private keepKeyByte(byte: number): void {
    if (this.keyBytes !== null && this.keyBytes.length < maxKeyBytes) this.keyBytes.push(byte);
  }

  private recordKey(bytes: number[]): void {
    if (this.stack.length === 1) this.keyCount += 1;
    // Keys repeat in every record of an array: the common plain-ASCII key skips the decoders.
    const plain = bytes.every((byte) => byte < 0x80 && byte !== 0x5c);
    let key = plain ? String.fromCharCode(...bytes) : keyDecoder.decode(new Uint8Array(bytes));
    if (!plain) {
      try {
        key = JSON.parse(`"${key}"`) as string;
      } catch {
        // A key cut at maxKeyBytes may end inside an escape; the raw text is kept then.
      }
    }
    if (this.keys.has(key)) return;
    if (this.keys.size >= maxKeys) this.keysTruncated = true;
    else this.keys.add(key);
  }

  private number(byte: number): void {
    const part = this.numberPart;
    if (isDigit(byte)) {
      if (part === NumberPart.Zero) return this.fail('Unexpected digit after a leading zero');
      if (part === NumberPart.Minus) this.numberPart = byte === 0x30 ? NumberPart.Zero : NumberPart.Integer;
      else if (part === NumberPart.Dot) this.numberPart = NumberPart.Fraction;
      else if (part === NumberPart.Exponent || part === NumberPart.ExponentSign) this.numberPart = NumberPart.ExponentDigits;
      return;
    }
    if (byte === 0x2e && (part === NumberPart.Zero || part === NumberPart.Integer)) {
      this.numberPart = NumberPart.Dot;
      return;
    }
    if ((byte === 0x65 || byte === 0x45) && (part === NumberPart.Zero || part === NumberPart.Integer || part === NumberPart.Fraction)) {
      this.numberPart = NumberPart.Exponent;
      return;
    }
    if ((byte === 0x2b || byte === 0x2d) && part === NumberPart.Exponent) {
      this.numberPart = NumberPart.ExponentSign;
      return;
    }
    this.endNumber();
    if (this.mode !== Mode.Failed) this.afterValue(byte);
  }

  private endNumber(): void {
    const part = this.numberPart;
    const finished =
      part === NumberPart.Zero || part === NumberPart.Integer || part === NumberPart.Fraction || part === NumberPart.ExponentDigits;
    if (!finished) return this.fail('Unterminated number');
    this.endValue();
  }

  private endValue(): void {
    this.mode = Mode.AfterValue;
    if (this.stack.length === 0) this.complete = true;
  }

  private afterValue(byte: number): void {
    if (isWhitespace(byte)) return;
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      return this.fail(`Unexpected ${describe(byte)} after the JSON value (NDJSON needs the ndjson analyzer)`);
    }
    if (byte === 0x2c) {
      this.mode = top === containerArray ? Mode.Value : Mode.Key;
    } else if (byte === 0x5d && top === containerArray) {
      this.close(containerArray);
    } else if (byte === 0x7d && top === containerObject) {
      this.close(containerObject);
    } else {
      this.fail(`Unexpected ${describe(byte)}, expected ',' or '${top === containerArray ? ']' : '}'}'`);
    }
  }

  /** `atEnd`: the position is the end of input, one column past the last character. */
  private fail(message: string, atEnd = false): void {
    if (this.error !== null) return;
    this.error = { message, offset: this.offset, line: this.line, column: atEnd ? this.column + 1 : this.column };
    this.mode = Mode.Failed;
  }
}

const jsonMediaTypes = new Set(['application/json']);

/** Accepts files declared as JSON (type `application/json` or `+json`, or a `.json` name). */
export const jsonAnalyzer: Analyzer<JsonSummary> = {
  name: 'json',
  accepts(file: FileInfo) {
    const type = normalizeMediaType(file.contentType);
    const declared = jsonMediaTypes.has(type) || type.endsWith('+json') || filenameExtension(file.filename) === 'json';
    return declared && !hasBinarySignature(file);
  },
  create() {
    const tokenizer = new JsonTokenizer();
    return {
      write: (chunk) => tokenizer.write(chunk),
      finish: async () => tokenizer.finish(),
    };
  },
};
