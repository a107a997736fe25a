import { JsonScanner, type LineOutcome } from './json-scanner.js';
import { filenameExtension, hasBinarySignature, normalizeMediaType } from './sniff.js';
import type { Analyzer, FileInfo } from './types.js';

/** Bad lines listed by number; the count keeps going past this. */
const maxBadLinesListed = 5;
/** Fixed fields, five short error messages, and the key list json-keys.ts caps at 16 KiB. */
const summaryBudgetBytes = 24 * 1024;

export type NdjsonSummary = {
  /** Every non-blank line is one JSON value. */
  valid: boolean;
  /** Lines in the file (terminators, plus an unterminated last line). */
  lines: number;
  records: number;
  blankLines: number;
  badLines: number;
  /** The first few bad lines: 1-based number and what is wrong with it. */
  firstBadLines: { line: number; error: string }[];
  /** Records by JSON type. */
  types: { object: number; array: number; string: number; number: number; boolean: number; null: number };
  /** Union of the keys of object records, in first-seen order. */
  keys: string[];
  /** Distinct keys of object records (not only those listed). */
  keyCount: number;
  /** False once more distinct keys were seen than are counted: `keyCount` is then a lower bound. */
  keyCountExact: boolean;
  keysTruncated: boolean;
};

/**
 * Lines are checked by the streaming scanner, never held or parsed into values: a line of any
 * length (one endless line included) costs no memory, and a million records no allocations.
 */
class NdjsonSink {
  private readonly scanner = new JsonScanner({ lines: true }, (outcome) => this.line(outcome));
  private lines = 0;
  private records = 0;
  private blankLines = 0;
  private badLines = 0;
  private readonly firstBadLines: NdjsonSummary['firstBadLines'] = [];
  private readonly types: NdjsonSummary['types'] = { object: 0, array: 0, string: 0, number: 0, boolean: 0, null: 0 };

  write(chunk: Uint8Array): void {
    this.scanner.write(chunk);
  }

  finish(): NdjsonSummary {
    this.scanner.finish();
    const keys = this.scanner.keys.summary();
    return {
      valid: this.badLines === 0,
      lines: this.lines,
      records: this.records,
      blankLines: this.blankLines,
      badLines: this.badLines,
      firstBadLines: this.firstBadLines,
      types: this.types,
      keys: keys.keys,
      keyCount: keys.keyCount,
      keyCountExact: keys.keyCountExact,
      keysTruncated: keys.keysTruncated,
    };
  }

  private line({ line, type, error }: LineOutcome): void {
    this.lines = line;
    if (type !== null) {
      this.records += 1;
      this.types[type] += 1;
    } else if (error === null) {
      this.blankLines += 1;
    } else {
      this.badLines += 1;
      if (this.firstBadLines.length < maxBadLinesListed) this.firstBadLines.push({ line, error });
    }
  }
}

const ndjsonMediaTypes = new Set(['application/x-ndjson']);
const ndjsonExtensions = new Set(['ndjson', 'jsonl']);

/** Newline-delimited JSON (JSON Lines): declared `application/x-ndjson` or named `.ndjson`/`.jsonl`. */
export const ndjsonAnalyzer: Analyzer<NdjsonSummary> = {
  name: 'ndjson',
  input: 'text',
  summaryBudgetBytes,
  accepts(file: FileInfo) {
    const declared =
      ndjsonMediaTypes.has(normalizeMediaType(file.contentType)) || ndjsonExtensions.has(filenameExtension(file.filename));
    return declared && !hasBinarySignature(file);
  },
  create() {
    const sink = new NdjsonSink();
    return {
      write: (chunk) => sink.write(chunk),
      finish: async () => sink.finish(),
    };
  },
};
