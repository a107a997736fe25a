import { filenameExtension, hasBinarySignature, normalizeMediaType } from './sniff.js';
import type { Analyzer, FileInfo } from './types.js';

/** Bad lines listed by number; the count keeps going past this. */
const maxBadLinesListed = 5;
/** Keys kept for the union over all records; `keysTruncated` says when more were seen. */
const maxKeys = 200;
/**
 * A line is held in memory until its newline arrives; one longer than this is counted as bad
 * and skipped, so a file with no newlines cannot exhaust the function's memory (256 MB).
 */
const maxLineBytes = 16 * 1024 * 1024;
/** Error messages from JSON.parse can quote the input; keep stored ones short. */
const maxErrorChars = 200;

export type NdjsonSummary = {
  /** Every non-blank line is one JSON value. */
  valid: boolean;
  /** Lines in the file (terminators, plus an unterminated last line). */
  lines: number;
  records: number;
  blankLines: number;
  badLines: number;
  /** The first few bad lines: 1-based number and JSON.parse's message. */
  firstBadLines: { line: number; error: string }[];
  /** Records by JSON type. */
  types: { object: number; array: number; string: number; number: number; boolean: number; null: number };
  /** Union of the keys of object records, in first-seen order. */
  keys: string[];
  keysTruncated: boolean;
};

const ndjsonMediaTypes = new Set(['application/x-ndjson']);
const ndjsonExtensions = new Set(['ndjson', 'jsonl']);

function isBlank(line: Uint8Array): boolean {
  for (const byte of line) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  }
  return true;
}

class NdjsonSink {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private skippingLongLine = false;
  private lineNumber = 0;
  private records = 0;
  private blankLines = 0;
  private badLines = 0;
  private readonly firstBadLines: NdjsonSummary['firstBadLines'] = [];
  private readonly types: NdjsonSummary['types'] = { object: 0, array: 0, string: 0, number: 0, boolean: 0, null: 0 };
  private readonly keys = new Set<string>();
  private keysTruncated = false;

  write(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      this.append(chunk.subarray(start, end));
      if (newline === -1) return;
      this.endLine();
      start = newline + 1;
    }
  }

  finish(): NdjsonSummary {
    if (this.pendingBytes > 0 || this.skippingLongLine) this.endLine();
    return {
      valid: this.badLines === 0,
      lines: this.lineNumber,
      records: this.records,
      blankLines: this.blankLines,
      badLines: this.badLines,
      firstBadLines: this.firstBadLines,
      types: this.types,
      keys: [...this.keys],
      keysTruncated: this.keysTruncated,
    };
  }

  private append(part: Uint8Array): void {
    if (this.skippingLongLine || part.length === 0) return;
    if (this.pendingBytes + part.length > maxLineBytes) {
      this.skippingLongLine = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    this.pending.push(part);
    this.pendingBytes += part.length;
  }

  private endLine(): void {
    this.lineNumber += 1;
    if (this.skippingLongLine) {
      this.skippingLongLine = false;
      this.bad(`Line longer than ${maxLineBytes} bytes, not parsed`);
      return;
    }
    const line = this.pending.length === 1 ? (this.pending[0] as Uint8Array) : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (isBlank(line)) {
      this.blankLines += 1;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(this.decoder.decode(line));
    } catch (error) {
      this.bad(error instanceof Error ? error.message : String(error));
      return;
    }
    this.records += 1;
    if (value === null) this.types.null += 1;
    else if (Array.isArray(value)) this.types.array += 1;
    else if (typeof value === 'object') {
      this.types.object += 1;
      this.collectKeys(value);
    } else {
      const kind = typeof value;
      if (kind === 'string' || kind === 'number' || kind === 'boolean') this.types[kind] += 1;
    }
  }

  private collectKeys(record: object): void {
    for (const key of Object.keys(record)) {
      if (this.keys.has(key)) continue;
      if (this.keys.size >= maxKeys) {
        this.keysTruncated = true;
        return;
      }
      this.keys.add(key);
    }
  }

  private bad(error: string): void {
    this.badLines += 1;
    if (this.firstBadLines.length < maxBadLinesListed) {
      this.firstBadLines.push({ line: this.lineNumber, error: error.slice(0, maxErrorChars) });
    }
  }
}

/** Newline-delimited JSON (JSON Lines): declared `application/x-ndjson` or named `.ndjson`/`.jsonl`. */
export const ndjsonAnalyzer: Analyzer<NdjsonSummary> = {
  name: 'ndjson',
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
