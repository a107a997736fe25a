// A streaming CSV tokenizer over UTF-8 bytes, lenient where Python's csv module, pandas and
// spreadsheets are, and bounded on any input.
//
// RFC 4180, plus what those readers accept instead of stopping:
// - a quote inside an unquoted field (`5'11"`) is a character of the field;
// - text after a closing quote (`"abc"def`) is appended to the field (`abcdef`);
// - a quote never closed runs to the end of the file;
// - CRLF, LF and a lone CR all end a record; empty lines are skipped.
// Each such record is reported with its malformation, so the profile can count it.
//
// It reads bytes, not decoded text: every character that structures CSV is ASCII, which UTF-8
// never uses inside a multi-byte character, and indexing a Uint8Array is about twice as fast as
// charCodeAt here, with no decoding pass. Cells are handed over as a range of the current chunk
// (`bytes`, `start`, `end`), not as strings: most cells are only looked at, and a string per cell
// is what made the profile slow. A quoted cell is handed over as written between its quotes,
// each escaped quote still doubled, with their count: RFC 4180's escaping has one spelling per
// value, so equal values have equal bytes, and copying to unescape showed in profiles. A cell
// that spans two chunks is assembled, up to `maxCellBytes`; its full length is still counted.
// Cells past `maxColumns` are counted, not kept, so a 50 MB line of `a,a,a,...` or one endless
// quoted field costs no memory.

export type Malformation = 'quote-in-unquoted-field' | 'text-after-closing-quote' | 'unclosed-quote';

export interface CsvRecordSink {
  /**
   * Cell `column` (0-based) of the current record is `bytes.subarray(start, end)`, as far as it
   * was kept, each `""` in it standing for one quote when `escapedQuotes` is above 0 (see
   * unescapeQuotes): `length` is its full length in bytes as written, more than
   * `end - start` when it was cut at `maxCellBytes`. Only called for columns below `maxColumns`.
   * The bytes are only valid during the call.
   */
  cell(column: number, bytes: Uint8Array, start: number, end: number, length: number, escapedQuotes: number): void;
  /** The record that began on `line` (1-based, physical lines) ended with `fields` fields. */
  record(fields: number, line: number, malformation: Malformation | null): void;
}

const quote = 0x22;
const lineFeed = 0x0a;
const carriageReturn = 0x0d;

const fieldStart = 0;
const unquoted = 1;
const quoted = 2;
/** Just after a quote inside a quoted field: an escaped quote, the field's end, or stray text. */
const quoteInQuoted = 3;
type State = 0 | 1 | 2 | 3;
/** The assembly buffer starts small and doubles up to `maxCellBytes`. */
const initialPendingBytes = 256;
const quotePair = Uint8Array.of(quote, quote);
/** Below this many bytes a cell piece is copied byte by byte rather than through a subarray. */
const shortCopyBytes = 64;

export class CsvTokenizer {
  private state: State = fieldStart;
  private column = 0;
  /** Something of the current record was read, so a line break ends it rather than an empty line. */
  private inRecord = false;
  private recordLine = 1;
  private line = 1;
  /** The last piece ended with CR: an LF first in the next one is the same line break. */
  private lastWasCarriageReturn = false;
  private malformation: Malformation | null = null;
  /** The current cell as assembled so far, when it spans chunks or holds an escaped quote. */
  private pending = new Uint8Array(initialPendingBytes);
  private pendingKept = 0;
  private pendingLength = 0;
  private assembled = false;
  /** Escaped quotes (`""`) in the current cell, each still written as two. */
  private escapedQuotes = 0;

  /** Non-zero for the bytes that end or open something: the delimiter, quote, LF and CR. */
  private readonly special = new Uint8Array(256);

  constructor(
    private readonly delimiter: number,
    private readonly sink: CsvRecordSink,
    private readonly maxColumns: number,
    private readonly maxCellBytes: number,
  ) {
    for (const code of [delimiter, quote, lineFeed, carriageReturn]) this.special[code] = 1;
  }

  /** Physical lines read so far (the line the tokenizer is on). */
  get lines(): number {
    return this.line;
  }

  write(text: Uint8Array): void {
    const delimiter = this.delimiter;
    const special = this.special;
    const length = text.length;
    let state = this.state;
    let index = 0;
    // Where the current cell's text began in this piece, and (after a quote) where it ended.
    let segmentStart = 0;
    let segmentEnd = 0;
    while (index < length) {
      if (state === fieldStart) {
        const code = text[index] as number;
        if (!this.inRecord) {
          if (code === lineFeed || code === carriageReturn) {
            this.lineBreak(text, index, code);
            index += 1;
            continue;
          }
          this.inRecord = true;
          this.recordLine = this.line;
        }
        if (code === quote) {
          state = quoted;
          index += 1;
          segmentStart = index;
          continue;
        }
        if (code === delimiter) {
          this.emit(text, index, index);
          this.column += 1;
          index += 1;
          continue;
        }
        if (code === lineFeed || code === carriageReturn) {
          this.emit(text, index, index);
          this.endRecord();
          this.lineBreak(text, index, code);
          index += 1;
          continue;
        }
        state = unquoted;
        segmentStart = index;
      }
      if (state === unquoted) {
        let code = 0;
        for (; index < length; index += 1) {
          code = text[index] as number;
          // One table lookup per byte rather than four comparisons; the rare quote is looked at after.
          if (special[code] !== 0) {
            if (code !== quote) break;
            this.malformation ??= 'quote-in-unquoted-field';
          }
        }
        if (index === length) break;
        this.emit(text, segmentStart, index);
        if (code === delimiter) {
          this.column += 1;
        } else {
          this.endRecord();
          this.lineBreak(text, index, code);
        }
        state = fieldStart;
        index += 1;
        continue;
      }
      if (state === quoted) {
        for (; index < length; index += 1) {
          const code = text[index] as number;
          if (special[code] === 0 || code === delimiter) continue;
          if (code === quote) break;
          this.lineBreak(text, index, code);
        }
        if (index === length) break;
        segmentEnd = index;
        state = quoteInQuoted;
        index += 1;
        continue;
      }
      // quoteInQuoted
      const code = text[index] as number;
      if (code === quote) {
        // An escaped quote, kept as written: the segment goes on, unless its first quote ended
        // the last chunk, whose part of the cell is already kept without it.
        this.escapedQuotes += 1;
        if (index === 0) {
          this.append(quotePair, 0, 2);
          segmentStart = 1;
        }
        state = quoted;
        index += 1;
      } else if (code === delimiter) {
        this.emit(text, segmentStart, segmentEnd);
        this.column += 1;
        state = fieldStart;
        index += 1;
      } else if (code === lineFeed || code === carriageReturn) {
        this.emit(text, segmentStart, segmentEnd);
        this.endRecord();
        this.lineBreak(text, index, code);
        state = fieldStart;
        index += 1;
      } else {
        this.malformation ??= 'text-after-closing-quote';
        this.append(text, segmentStart, segmentEnd);
        state = unquoted;
        segmentStart = index;
      }
    }
    // Keep what the chunk holds of an unfinished cell: the next piece starts a new text.
    if (state === unquoted || state === quoted) this.append(text, segmentStart, length);
    else if (state === quoteInQuoted) this.append(text, segmentStart, segmentEnd);
    this.state = state;
    if (length > 0) this.lastWasCarriageReturn = text[length - 1] === carriageReturn;
  }

  /** The end of the file: the last record ends here, even without a line break. */
  end(): void {
    if (this.state === quoted) this.malformation = 'unclosed-quote';
    if (this.state !== fieldStart || this.inRecord) {
      this.emit(this.pending, 0, 0);
      this.endRecord();
    }
    this.state = fieldStart;
  }

  private emit(text: Uint8Array, start: number, end: number): void {
    if (this.column < this.maxColumns) {
      if (!this.assembled) {
        this.sink.cell(this.column, text, start, end, end - start, this.escapedQuotes);
      } else {
        this.append(text, start, end);
        this.sink.cell(this.column, this.pending, 0, this.pendingKept, this.pendingLength, this.escapedQuotes);
      }
    }
    this.pendingKept = 0;
    this.pendingLength = 0;
    this.assembled = false;
    this.escapedQuotes = 0;
  }

  /** Adds `text[start..end)` to the cell being assembled, within `maxCellBytes`. */
  private append(text: Uint8Array, start: number, end: number): void {
    this.assembled = true;
    if (this.column >= this.maxColumns || end === start) return;
    this.pendingLength += end - start;
    const kept = Math.min(end - start, this.maxCellBytes - this.pendingKept);
    if (kept <= 0) return;
    if (this.pendingKept + kept > this.pending.length) {
      const grown = new Uint8Array(Math.min(this.maxCellBytes, Math.max(this.pending.length * 2, this.pendingKept + kept)));
      grown.set(this.pending.subarray(0, this.pendingKept));
      this.pending = grown;
    }
    // A loop for the usual few bytes: a subarray per call costs more than copying them.
    const pending = this.pending;
    if (kept < shortCopyBytes) {
      for (let offset = 0; offset < kept; offset += 1) pending[this.pendingKept + offset] = text[start + offset] as number;
    } else {
      pending.set(text.subarray(start, start + kept), this.pendingKept);
    }
    this.pendingKept += kept;
  }

  private endRecord(): void {
    this.sink.record(this.column + 1, this.recordLine, this.malformation);
    this.column = 0;
    this.inRecord = false;
    this.malformation = null;
  }

  /** Counts a line at LF or CR, once for CRLF (the LF may open the next piece). */
  private lineBreak(text: Uint8Array, index: number, code: number): void {
    if (code === lineFeed) {
      const afterCarriageReturn = index === 0 ? this.lastWasCarriageReturn : text[index - 1] === carriageReturn;
      if (afterCarriageReturn) return;
    }
    this.line += 1;
  }
}

/**
 * The cell's text with each `""` read as one quote, for the `escapedQuotes` a cell reported
 * (none: the text as it is). Only for what is shown: a sample, a top value.
 */
export function unescapeQuotes(text: string, escapedQuotes: number): string {
  return escapedQuotes === 0 ? text : text.replaceAll('""', '"');
}
