import { fitToBudget } from './csv/budget.js';
import { ColumnProfile, type CsvColumnSummary } from './csv/column.js';
import { detectHeader, type ColumnShape, type FirstCell, type HeaderDecision } from './csv/header.js';
import { CsvTokenizer, unescapeQuotes, type CsvRecordSink, type Malformation } from './csv/tokenizer.js';
import { cutText } from './csv/value-counts.js';
import { CellReader, kindString } from './csv/values.js';
import { filenameExtension, hasBinarySignature, normalizeMediaType } from './sniff.js';
import type { Analyzer, FileInfo } from './types.js';

/**
 * The CSV summary's share of the job result (result-budget.ts: 256 KB in all), as JSON: lists
 * are cut to fit (and marked), so a file of 100,000 columns or 100-character names stays as
 * small as a tidy one. Most of the whole, as the CSV profile is the largest summary a file gets;
 * the file and text summaries beside it take a few hundred bytes.
 */
export const csvSummaryBudgetBytes = 192 * 1024;
/**
 * Bytes held back to detect the delimiter. A fixed amount (not "the first chunk") so the choice
 * does not depend on how the stream happens to be chunked.
 */
const delimiterSampleBytes = 16 * 1024;
/** Records of the sample used for the delimiter vote. */
const delimiterSampleRecords = 50;
const candidateDelimiters = [',', '\t', ';', '|'] as const;
/** Columns profiled; more are counted but not profiled, so memory stays bounded. */
export const maxProfiledColumns = 1000;
/**
 * Bytes of a cell the profile looks at: a longer one is text, its length is still counted, and
 * two long cells alike in their first 4 KiB count as one value. Bounds the first row kept for
 * header detection and the buffer for a cell split across chunks (or an endless quoted field).
 */
export const maxCellBytes = 4 * 1024;
/**
 * Distinct values tracked exactly across all profiled columns (per column: this divided by the
 * columns, within the bounds below), about 200 bytes each at most.
 */
const distinctValuesTracked = 64 * 1024;
const minDistinctPerColumn = 16;
const maxDistinctPerColumn = 1024;
/** Top values listed per full column profile (compact ones, which the budget may need, list none). */
const maxTopValues = 10;
const sampleRowCount = 5;
const maxSampleColumns = 50;
const maxSampleCellChars = 100;
const maxNameChars = 100;
/** Ragged and malformed rows listed by position; all are counted. */
const maxListedRows = 5;

type Delimiter = (typeof candidateDelimiters)[number];
const delimiterNames: Record<Delimiter, CsvSummary['delimiter']> = { ',': 'comma', '\t': 'tab', ';': 'semicolon', '|': 'pipe' };
const byteOrderMark = [0xef, 0xbb, 0xbf];
const utf8 = new TextDecoder();

export type CsvSummary = {
  /** Every record is well-formed RFC 4180 (no stray or unclosed quote). Ragged rows do not count. */
  valid: boolean;
  /**
   * The profile describes the whole file: every row, every column. When not, `incomplete` says
   * why (an unclosed quote that swallowed the rest, columns past the profiled ones, lists cut
   * to fit the result).
   */
  complete: boolean;
  incomplete: string[];
  delimiter: 'comma' | 'tab' | 'semicolon' | 'pipe';
  /** Data rows (the header excluded). */
  rows: number;
  /** Fields of the first row (the header's names when there is one). */
  columns: number;
  hasHeader: boolean;
  headerReason: string;
  /** The first row's names for the columns in `columnProfiles` (cut as their names are); null without a header. */
  header: string[] | null;
  /**
   * One per column in order, the first `columnProfiles.length` of them: `detail: 'full'` with
   * top values, quantiles and a histogram, or `'compact'` (counts, type, range) where the
   * result budget had no room for more.
   */
  columnProfiles: ProfileEntry[];
  /** Columns profiled (at most `maxProfiledColumns`); those past `columnProfiles.length` were cut for the budget. */
  profiledColumns: number;
  /**
   * Rows whose field count differs from `columns`; the first few by data-row number (1-based,
   * header excluded) and the line they start on.
   */
  raggedRows: number;
  firstRaggedRows: { row: number; line: number; fields: number }[];
  /**
   * Rows read leniently, as Python's csv module and pandas read them: a quote inside an unquoted
   * field (`5'11"`) kept as a character, text after a closing quote kept, a quote never closed
   * running to the end of the file.
   */
  malformedRows: number;
  /** As `firstRaggedRows`; row 0 is the header. */
  firstMalformedRows: { row: number; line: number; problem: Malformation }[];
  /** The first data rows, cells cut to 100 characters, up to the first 50 columns. */
  sampleRows: string[][];
  sampleRowsTruncated: boolean;
};

export type ProfileEntry = (CsvColumnSummary & { detail: 'full' }) | (CompactProfile & { detail: 'compact' });
/** What a column keeps when the budget has no room for its lists. */
export type CompactProfile = Pick<
  CsvColumnSummary,
  'name' | 'type' | 'values' | 'empty' | 'nulls' | 'distinct' | 'distinctEstimated' | 'minLength' | 'maxLength' | 'min' | 'max'
>;

function perColumnDistinct(columns: number): number {
  return Math.max(minDistinctPerColumn, Math.min(maxDistinctPerColumn, Math.floor(distinctValuesTracked / Math.max(1, columns))));
}

/** Counts the fields of each record, for the delimiter vote. */
class FieldCounter implements CsvRecordSink {
  readonly fields: number[] = [];

  cell(): void {}

  record(fields: number): void {
    if (this.fields.length < delimiterSampleRecords + 1) this.fields.push(fields);
  }
}

/**
 * Delimiter vote over the first records of the sample, each candidate tokenized as the file
 * will be: how many records share the candidate's most common field count (above one); the
 * most consistent wins, then the most fields. The last record is left out unless the sample is
 * the whole file or holds no other, since the sample may cut it. A declared TSV keeps tab
 * whenever it splits a record.
 */
export function detectDelimiter(sample: Uint8Array, wholeFile: boolean, declaredTsv: boolean): Delimiter {
  let best: { delimiter: Delimiter; agreeing: number; fields: number } | null = null;
  for (const delimiter of candidateDelimiters) {
    const counter = new FieldCounter();
    const tokenizer = new CsvTokenizer(delimiter.charCodeAt(0), counter, 0, 0);
    tokenizer.write(sample);
    tokenizer.end();
    // The sample may cut its last record short; it counts only when it is the only one (a first
    // row longer than the sample, as a header of thousands of names is).
    const complete = wholeFile || counter.fields.length === 1 ? counter.fields : counter.fields.slice(0, -1);
    const records = complete.slice(0, delimiterSampleRecords);
    if (declaredTsv && delimiter === '\t' && records.some((fields) => fields > 1)) return '\t';
    const frequency = new Map<number, number>();
    for (const fields of records) if (fields > 1) frequency.set(fields, (frequency.get(fields) ?? 0) + 1);
    for (const [fields, agreeing] of frequency) {
      if (best === null || agreeing > best.agreeing || (agreeing === best.agreeing && fields > best.fields)) best = { delimiter, agreeing, fields };
    }
  }
  return best?.delimiter ?? (declaredTsv ? '\t' : ',');
}

/** A cell of the first row, kept until the header is decided: its bytes (up to maxCellBytes) as the tokenizer gave them. */
type KeptCell = { bytes: Uint8Array; length: number; escapedQuotes: number };
type RowPosition = { record: number; line: number };

class CsvSink implements CsvRecordSink {
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private tokenizer: CsvTokenizer | null = null;
  private delimiter: Delimiter = ',';
  private readonly reader = new CellReader();

  /** Records read, the first (a header or not) included. */
  private records = 0;
  private columns = 0;
  private widestRecord = 0;
  private readonly firstRow: KeptCell[] = [];
  private readonly profiles: ColumnProfile[] = [];
  private raggedRows = 0;
  private readonly firstRaggedRows: (RowPosition & { fields: number })[] = [];
  private malformedRows = 0;
  private readonly firstMalformedRows: (RowPosition & { problem: Malformation })[] = [];
  private unclosedQuote: { line: number; linesAfter: number } | null = null;
  /** Rows of cells kept for the sample (the first row's included): at most sampleRowCount + 1. */
  private readonly samples: string[][] = [];
  private sampleCells: string[] | null = [];
  private sampleTruncated = false;

  constructor(private readonly declaredTsv: boolean) {}

  write(chunk: Uint8Array): void {
    if (this.tokenizer !== null) {
      this.tokenizer.write(chunk);
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.byteLength;
    if (this.heldBytes >= delimiterSampleBytes) this.start(false);
  }

  async finish(): Promise<CsvSummary> {
    if (this.tokenizer === null) this.start(true);
    const tokenizer = this.tokenizer as CsvTokenizer;
    tokenizer.end();
    if (this.unclosedQuote !== null) this.unclosedQuote.linesAfter = tokenizer.lines - this.unclosedQuote.line;
    return this.summary();
  }

  /** Detects the delimiter from the held-back bytes, then tokenizes them. */
  private start(wholeFile: boolean): void {
    let prefix = Buffer.concat(this.held);
    this.held = [];
    if (byteOrderMark.every((byte, index) => prefix[index] === byte)) prefix = prefix.subarray(byteOrderMark.length);
    this.delimiter = detectDelimiter(prefix.subarray(0, delimiterSampleBytes), wholeFile && prefix.length <= delimiterSampleBytes, this.declaredTsv);
    this.tokenizer = new CsvTokenizer(this.delimiter.charCodeAt(0), this, maxProfiledColumns, maxCellBytes);
    this.tokenizer.write(prefix);
  }

  cell(column: number, bytes: Uint8Array, start: number, end: number, length: number, escapedQuotes: number): void {
    if (this.sampleCells !== null && column < maxSampleColumns) {
      // Twice the characters' worth of bytes: escaped quotes take two.
      const text = unescapeQuotes(utf8.decode(bytes.subarray(start, Math.min(end, start + maxSampleCellChars * 8))), escapedQuotes);
      this.sampleCells.push(text.length > maxSampleCellChars || length > end - start ? `${cutText(text, maxSampleCellChars)}…` : text);
    }
    if (this.records === 0) {
      this.firstRow.push({ bytes: bytes.slice(start, end), length, escapedQuotes });
      return;
    }
    let profile = this.profiles[column];
    // A row longer than the first: its extra columns get profiles now, with the smallest share.
    while (profile === undefined) {
      this.profiles.push(new ColumnProfile(this.reader, minDistinctPerColumn));
      profile = this.profiles[column];
    }
    profile.add(bytes, start, end, length, escapedQuotes);
  }

  record(fields: number, line: number, malformation: Malformation | null): void {
    this.records += 1;
    if (fields > this.widestRecord) this.widestRecord = fields;
    if (this.sampleCells !== null) {
      if (fields > maxSampleColumns) this.sampleTruncated = true;
      this.samples.push(this.sampleCells);
      this.sampleCells = this.samples.length <= sampleRowCount ? [] : null;
    }
    if (malformation !== null) {
      this.malformedRows += 1;
      if (this.firstMalformedRows.length < maxListedRows) this.firstMalformedRows.push({ record: this.records, line, problem: malformation });
      if (malformation === 'unclosed-quote') this.unclosedQuote = { line, linesAfter: 0 };
    }
    if (this.records === 1) {
      this.columns = fields;
      const distinctPerColumn = perColumnDistinct(Math.min(fields, maxProfiledColumns));
      for (let column = 0; column < Math.min(fields, maxProfiledColumns); column += 1) {
        this.profiles.push(new ColumnProfile(this.reader, distinctPerColumn));
      }
      return;
    }
    if (fields !== this.columns) {
      this.raggedRows += 1;
      if (this.firstRaggedRows.length < maxListedRows) this.firstRaggedRows.push({ record: this.records, line, fields });
    }
  }

  private decideHeader(): HeaderDecision {
    const dataRows = this.records - 1;
    const first: FirstCell[] = this.firstRow.map(({ bytes, length, escapedQuotes }) => {
      let start = 0;
      let end = bytes.length;
      while (start < end && (bytes[start] === 0x20 || bytes[start] === 0x09)) start += 1;
      while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end -= 1;
      const text = unescapeQuotes(utf8.decode(bytes.subarray(start, end)), escapedQuotes);
      // A name holding a quote is text whatever else it holds.
      const kind = start === end ? null : escapedQuotes > 0 ? kindString : this.reader.classify(bytes, start, end);
      return { text, kind, length: length > bytes.length ? length : text.length };
    });
    const shapes: ColumnShape[] = this.profiles.map((profile) => {
      const summary = profile.summary('', dataRows, 0);
      return {
        type: summary.type,
        values: summary.values,
        empty: summary.empty,
        integers: summary.kinds.integer ?? 0,
        minLength: summary.minLength,
        maxLength: summary.maxLength,
      };
    });
    return detectHeader(first, shapes, this.samples[1] ?? null);
  }

  private summary(): CsvSummary {
    const header = this.records > 0 ? this.decideHeader() : { hasHeader: false, reason: 'The file has no rows.' };
    const rows = Math.max(0, this.records - (header.hasHeader ? 1 : 0));
    if (!header.hasHeader) {
      this.firstRow.forEach((cell, column) => this.profiles[column]?.add(cell.bytes, 0, cell.bytes.length, cell.length, cell.escapedQuotes));
    }
    const dataRow = (record: number) => record - (header.hasHeader ? 1 : 0);
    const names = this.profiles.map((_, column) => {
      const name = header.hasHeader ? this.firstRowName(column) : '';
      return name === '' ? `column_${column + 1}` : name;
    });
    const incomplete: string[] = [];
    if (this.unclosedQuote !== null) {
      incomplete.push(
        `A quote opened on line ${this.unclosedQuote.line} is never closed: the ${this.unclosedQuote.linesAfter} lines after it were read as one field.`,
      );
    }
    if (this.widestRecord > maxProfiledColumns) {
      incomplete.push(`Only the first ${maxProfiledColumns} columns are profiled; the widest row has ${this.widestRecord}.`);
    }
    const samples = this.samples.slice(header.hasHeader ? 1 : 0, (header.hasHeader ? 1 : 0) + sampleRowCount);
    return fitToBudget(
      {
        valid: this.malformedRows === 0,
        complete: incomplete.length === 0,
        incomplete,
        delimiter: delimiterNames[this.delimiter],
        rows,
        columns: this.columns,
        hasHeader: header.hasHeader,
        headerReason: header.reason,
        header: header.hasHeader ? [] : null,
        columnProfiles: [],
        profiledColumns: this.profiles.length,
        raggedRows: this.raggedRows,
        firstRaggedRows: this.firstRaggedRows.map(({ record, line, fields }) => ({ row: dataRow(record), line, fields })),
        malformedRows: this.malformedRows,
        firstMalformedRows: this.firstMalformedRows.map(({ record, line, problem }) => ({ row: dataRow(record), line, problem })),
        sampleRows: samples,
        sampleRowsTruncated: this.sampleTruncated,
      },
      (topValues) => this.profiles.map((profile, column) => profile.summary(names[column] as string, rows, topValues)),
      csvSummaryBudgetBytes,
      maxTopValues,
    );
  }

  private firstRowName(column: number): string {
    const cell = this.firstRow[column];
    if (cell === undefined) return '';
    const name = unescapeQuotes(utf8.decode(cell.bytes), cell.escapedQuotes).trim();
    return name.length > maxNameChars || cell.length > cell.bytes.length ? `${cutText(name, maxNameChars)}…` : name;
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
  summaryBudgetBytes: csvSummaryBudgetBytes,
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
