import { parse, type CsvError, type Parser } from 'csv-parse';
import { filenameExtension, hasBinarySignature, normalizeMediaType } from './sniff.js';
import type { Analyzer, FileInfo } from './types.js';

/**
 * Bytes held back to detect the delimiter. A fixed amount (not "the first chunk") so the choice
 * does not depend on how the stream happens to be chunked.
 */
const delimiterSampleBytes = 16 * 1024;
/** Lines of the sample used for the delimiter vote. */
const delimiterSampleLines = 50;
const candidateDelimiters = [',', '\t', ';', '|'] as const;
/** A record longer than this is malformed (typically an unclosed quote swallowing the file). */
const maxRecordChars = 16 * 1024 * 1024;
/** Columns profiled; more are counted but not profiled, so a pathological file stays small. */
const maxProfiledColumns = 1000;
const sampleRowCount = 5;
const maxSampleCellChars = 100;
const maxListedRaggedRows = 5;

type ColumnType = 'integer' | 'number' | 'boolean' | 'date' | 'string' | 'empty';
type Delimiter = (typeof candidateDelimiters)[number];

export type CsvColumnSummary = {
  name: string;
  type: ColumnType;
  /** Blank cells, plus cells missing from rows shorter than the header. */
  empty: number;
  /** For integer and number columns: numbers; for date columns: the ISO strings as written. */
  min: number | string | null;
  max: number | string | null;
};

export type CsvSummary = {
  valid: boolean;
  /** Parser error for a malformed file, with the line it was found on; counts cover the rows before it. */
  error: { message: string; code: string; line: number | null } | null;
  delimiter: 'comma' | 'tab' | 'semicolon' | 'pipe';
  /** Data rows (the header excluded). */
  rows: number;
  columns: number;
  hasHeader: boolean;
  header: string[] | null;
  columnProfiles: CsvColumnSummary[];
  /**
   * Rows whose field count differs from `columns`; the first few by data-row number (1-based,
   * header excluded: rows, unlike lines, stay countable when quoted fields span lines).
   */
  raggedRows: number;
  firstRaggedRows: { row: number; fields: number }[];
  sampleRows: string[][];
};

const delimiterNames: Record<Delimiter, CsvSummary['delimiter']> = {
  ',': 'comma',
  '\t': 'tab',
  ';': 'semicolon',
  '|': 'pipe',
};

const integerPattern = /^[+-]?\d+$/;
const numberPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const booleanPattern = /^(?:true|false)$/i;
// ISO 8601 dates and date-times, the only date spelling that is unambiguous across locales.
const datePattern = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

type CellKind = 'integer' | 'number' | 'boolean' | 'date' | 'string';

function kindOf(value: string): CellKind {
  const first = value.charCodeAt(0);
  const numeric = (first >= 0x30 && first <= 0x39) || first === 0x2b || first === 0x2d || first === 0x2e;
  if (numeric) {
    if (integerPattern.test(value)) return 'integer';
    if (numberPattern.test(value)) return 'number';
    if (value.length >= 10 && datePattern.test(value) && !Number.isNaN(Date.parse(value))) return 'date';
    return 'string';
  }
  if ((first === 0x74 || first === 0x66 || first === 0x54 || first === 0x46) && booleanPattern.test(value)) return 'boolean';
  return 'string';
}

class ColumnProfile {
  nonEmpty = 0;
  readonly kinds: Record<CellKind, number> = { integer: 0, number: 0, boolean: 0, date: 0, string: 0 };
  minNumber = Infinity;
  maxNumber = -Infinity;
  minDate: { time: number; text: string } | null = null;
  maxDate: { time: number; text: string } | null = null;

  add(cell: string): void {
    const value = cell.trim();
    if (value === '') return;
    this.nonEmpty += 1;
    const kind = kindOf(value);
    this.kinds[kind] += 1;
    if (kind === 'integer' || kind === 'number') {
      const number = Number(value);
      if (number < this.minNumber) this.minNumber = number;
      if (number > this.maxNumber) this.maxNumber = number;
    } else if (kind === 'date') {
      const time = Date.parse(value);
      if (this.minDate === null || time < this.minDate.time) this.minDate = { time, text: value };
      if (this.maxDate === null || time > this.maxDate.time) this.maxDate = { time, text: value };
    }
  }

  /** The narrowest type every non-empty cell fits (integers are numbers too). */
  summary(name: string, rows: number): CsvColumnSummary {
    const { kinds, nonEmpty } = this;
    let type: ColumnType = 'string';
    if (nonEmpty === 0) type = 'empty';
    else if (kinds.integer === nonEmpty) type = 'integer';
    else if (kinds.integer + kinds.number === nonEmpty) type = 'number';
    else if (kinds.boolean === nonEmpty) type = 'boolean';
    else if (kinds.date === nonEmpty) type = 'date';
    const numeric = type === 'integer' || type === 'number';
    return {
      name,
      type,
      empty: rows - nonEmpty,
      min: numeric ? this.minNumber : type === 'date' ? (this.minDate?.text ?? null) : null,
      max: numeric ? this.maxNumber : type === 'date' ? (this.maxDate?.text ?? null) : null,
    };
  }
}

/**
 * Delimiter vote over the first lines of the sample: for each candidate, how many lines share its
 * most common (non-zero) count outside quotes; the most consistent wins, then the most frequent.
 * A declared TSV keeps tab whenever the sample has one.
 */
export function detectDelimiter(sample: string, declaredTsv: boolean): Delimiter {
  const lines: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of sample) {
    if (char === '"') quoted = !quoted;
    if (!quoted && (char === '\n' || char === '\r')) {
      if (current !== '') lines.push(current);
      current = '';
      if (lines.length >= delimiterSampleLines) break;
    } else {
      current += char;
    }
  }
  if (current !== '' && lines.length === 0) lines.push(current);
  if (declaredTsv && lines.some((line) => line.includes('\t'))) return '\t';

  let best: { delimiter: Delimiter; agreeing: number; count: number } | null = null;
  for (const delimiter of candidateDelimiters) {
    const counts = lines.map((line) => countOutsideQuotes(line, delimiter));
    const frequency = new Map<number, number>();
    for (const count of counts) if (count > 0) frequency.set(count, (frequency.get(count) ?? 0) + 1);
    for (const [count, agreeing] of frequency) {
      if (best === null || agreeing > best.agreeing || (agreeing === best.agreeing && count > best.count)) {
        best = { delimiter, agreeing, count };
      }
    }
  }
  return best?.delimiter ?? (declaredTsv ? '\t' : ',');
}

function countOutsideQuotes(line: string, delimiter: string): number {
  let count = 0;
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === delimiter) count += 1;
  }
  return count;
}

/** Header when the first row is all distinct, non-empty text (no numbers, booleans or dates). */
function looksLikeHeader(row: string[]): boolean {
  const names = row.map((cell) => cell.trim());
  return names.every((name) => name !== '' && kindOf(name) === 'string') && new Set(names).size === names.length;
}

class CsvSink {
  private prefix: Uint8Array[] = [];
  private prefixBytes = 0;
  private parser: Parser | null = null;
  private parsed: Promise<void> = Promise.resolve();
  private delimiter: Delimiter = ',';
  private error: CsvSummary['error'] = null;

  private firstRow: string[] | null = null;
  private header: string[] | null = null;
  private columns = 0;
  private rows = 0;
  private readonly profiles: ColumnProfile[] = [];
  private raggedRows = 0;
  private readonly firstRaggedRows: CsvSummary['firstRaggedRows'] = [];
  private readonly sampleRows: string[][] = [];

  constructor(private readonly declaredTsv: boolean) {}

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.error !== null) return;
    if (this.parser === null) {
      this.prefix.push(chunk);
      this.prefixBytes += chunk.byteLength;
      if (this.prefixBytes < delimiterSampleBytes) return;
      return this.feed(this.start());
    }
    return this.feed(chunk);
  }

  async finish(): Promise<CsvSummary> {
    if (this.parser === null) await this.feed(this.start());
    // After a parse error the parser is already destroyed; ending it again would only raise another error.
    if (this.error === null) this.parser?.end();
    await this.parsed;
    return this.summary();
  }

  /** Detects the delimiter from the held-back prefix, starts the parser, returns the prefix. */
  private start(): Uint8Array {
    const prefix = Buffer.concat(this.prefix);
    this.prefix = [];
    this.delimiter = detectDelimiter(new TextDecoder().decode(prefix.subarray(0, delimiterSampleBytes)), this.declaredTsv);
    const parser = parse({
      delimiter: this.delimiter,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: maxRecordChars,
    });
    this.parsed = new Promise((resolve) => {
      parser.on('data', (record: string[]) => this.row(record));
      parser.on('error', (error: CsvError) => {
        const line = (error as CsvError & { lines?: unknown }).lines;
        this.error = { message: error.message, code: error.code, line: typeof line === 'number' ? line : null };
        resolve();
      });
      parser.on('end', resolve);
      parser.on('close', resolve);
    });
    this.parser = parser;
    return prefix;
  }

  /** Resolves once the parser has taken the bytes, which is the backpressure the runner waits on. */
  private feed(bytes: Uint8Array): Promise<void> {
    const parser = this.parser;
    if (parser === null || this.error !== null || bytes.byteLength === 0) return Promise.resolve();
    return new Promise((resolve) => parser.write(bytes, () => resolve()));
  }

  private row(record: string[]): void {
    if (this.firstRow === null) {
      this.firstRow = record;
      this.columns = record.length;
      if (looksLikeHeader(record)) {
        this.header = record;
        return;
      }
    }
    this.rows += 1;
    if (record.length !== this.columns) {
      this.raggedRows += 1;
      if (this.firstRaggedRows.length < maxListedRaggedRows) this.firstRaggedRows.push({ row: this.rows, fields: record.length });
    }
    const profiled = Math.min(record.length, maxProfiledColumns);
    while (this.profiles.length < profiled) this.profiles.push(new ColumnProfile());
    for (let column = 0; column < profiled; column += 1) {
      (this.profiles[column] as ColumnProfile).add(record[column] as string);
    }
    if (this.sampleRows.length < sampleRowCount) {
      this.sampleRows.push(record.map((cell) => cell.slice(0, maxSampleCellChars)));
    }
  }

  private summary(): CsvSummary {
    while (this.profiles.length < Math.min(this.columns, maxProfiledColumns)) this.profiles.push(new ColumnProfile());
    return {
      valid: this.error === null,
      error: this.error,
      delimiter: delimiterNames[this.delimiter],
      rows: this.rows,
      columns: this.columns,
      hasHeader: this.header !== null,
      header: this.header,
      columnProfiles: this.profiles.map((profile, index) =>
        profile.summary(this.header?.[index]?.trim() || `column_${index + 1}`, this.rows),
      ),
      raggedRows: this.raggedRows,
      firstRaggedRows: this.firstRaggedRows,
      sampleRows: this.sampleRows,
    };
  }
}

const csvMediaTypes = new Set(['text/csv', 'text/tab-separated-values', 'application/vnd.ms-excel']);
const csvExtensions = new Set(['csv', 'tsv', 'tab']);

/**
 * CSV and TSV profile. Accepts a declared CSV/TSV type (Windows browsers send
 * `application/vnd.ms-excel` for .csv) or a .csv/.tsv name, unless the bytes are a known binary.
 */
export const csvAnalyzer: Analyzer<CsvSummary> = {
  name: 'csv',
  accepts(file: FileInfo) {
    const type = normalizeMediaType(file.contentType);
    const extension = filenameExtension(file.filename);
    const declared = csvMediaTypes.has(type) ? type !== 'application/vnd.ms-excel' || extension === 'csv' : csvExtensions.has(extension);
    return declared && !hasBinarySignature(file);
  },
  create(file: FileInfo) {
    const declaredTsv =
      normalizeMediaType(file.contentType) === 'text/tab-separated-values' || ['tsv', 'tab'].includes(filenameExtension(file.filename));
    const sink = new CsvSink(declaredTsv);
    return {
      write: (chunk) => sink.write(chunk),
      finish: () => sink.finish(),
    };
  },
};
