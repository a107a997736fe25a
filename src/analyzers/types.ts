/**
 * The contract between the single read of an uploaded object and the analyzers fed from it.
 *
 * `runAnalyzers` (run.ts) reads the object once; every analyzer that accepts the file gets a sink
 * and sees every chunk in order: the stored bytes (`input: 'bytes'`) or the same text as UTF-8
 * (`input: 'text'`, see text-input.ts). Summaries are stored in the job's result, so they must be
 * plain JSON and small: analyzers keep counters and capped samples, never the data, and stay
 * within their `summaryBudgetBytes` (result-budget.ts enforces it).
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
/** Summaries are objects so `result.<name>.valid` etc. can be read without a type switch. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * How the bytes of a text file are read. `windows-1252` is the guess for 8-bit text that is not
 * UTF-8 (WHATWG reads `latin1` / `iso-8859-1` labels as windows-1252 too: a superset of Latin-1's
 * printable characters).
 */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** What file-type and the text guess made of the first bytes (see sniff.ts). */
export type Sniffed = {
  /** MIME type detected from magic bytes, or null when file-type knows nothing (all text formats). */
  mime: string | null;
  /** Extension file-type associates with `mime`, or null. */
  ext: string | null;
  /** The first bytes look like text: a UTF-16 byte order mark, UTF-8, or 8-bit text (see sniff.ts). */
  text: boolean;
  /** The encoding text analyzers read the file in; null when the first bytes are not text. */
  encoding: TextEncoding | null;
};

/** The file as the job knows it: what the uploader declared, plus the sniffed type once known. */
export type FileInfo = {
  /** Declared Content-Type (parameters such as `; charset=` are allowed and ignored). */
  contentType: string;
  filename: string;
  /** Declared size in bytes. */
  size: number;
  /** Filled in by `runAnalyzers` before `accepts` is called; absent only in hand-made FileInfo. */
  sniffed?: Sniffed;
};

/**
 * What decoding the file into the text view found (text-input.ts). Each sequence counted here
 * reached text analyzers as one U+FFFD, except in windows-1252 text, where every byte is a
 * character and the count says how much of the file is not UTF-8.
 */
export type TextDecoding = {
  encoding: TextEncoding;
  /**
   * Ill-formed sequences: UTF-8 ones (WHATWG count, one per maximal ill-formed subpart) for UTF-8
   * and windows-1252 files; unpaired surrogates and a dangling odd byte for UTF-16 files.
   */
  invalidSequences: number;
  /** Offset in the stored bytes of the first one, or null. */
  firstInvalidByteOffset: number | null;
};

/** Handed to `finish`: facts about the whole stream that a sink could not see chunk by chunk. */
export type StreamEnd = {
  /** For `input: 'text'` analyzers; null for those that read bytes. */
  decoding: TextDecoding | null;
};

/** Receives the object's bytes in order, then returns its summary. One sink per analyzed file. */
export interface AnalyzerSink<Summary extends JsonObject = JsonObject> {
  /**
   * Called once per chunk, in order. The chunk must not be modified (every sink sees the same
   * one). Return a promise to apply backpressure: the next chunk is read only once it settles.
   */
  write(chunk: Uint8Array): void | Promise<void>;
  /** Called once after the last chunk. A malformed file is a summary (`valid: false`), not a throw. */
  finish(end: StreamEnd): Promise<Summary>;
}

export interface Analyzer<Summary extends JsonObject = JsonObject> {
  /** Key of this analyzer's summary in the job result; unique, lower-case, stable. */
  readonly name: string;
  /**
   * `text` (the default): well-formed UTF-8 whatever the file's encoding, every chunk ending on a
   * character boundary, a byte order mark passed on as U+FEFF (text-input.ts). `bytes`: the
   * stored bytes as they came, for hashes and binary formats.
   */
  readonly input?: 'text' | 'bytes';
  /**
   * Most bytes this analyzer's summary (as JSON, UTF-8) may take of the result's budget
   * (result-budget.ts: `resultBudgetBytes`); the analyzer caps its lists to stay within it, and a
   * summary that does not is cut by the runner and marked. Default `defaultSummaryBudgetBytes`.
   */
  readonly summaryBudgetBytes?: number;
  /** Decided once per file, from the declared type, the filename and the sniffed type. */
  accepts(file: FileInfo): boolean;
  create(file: FileInfo): AnalyzerSink<Summary>;
}

/** What an analyzer that threw (a bug, not a malformed file) leaves in the result. */
export type AnalyzerCrash = {
  error: { code: 'ANALYZER_CRASHED'; message: string };
};
