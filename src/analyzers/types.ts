/**
 * The contract between the single read of an uploaded object and the analyzers fed from it.
 *
 * `runAnalyzers` (run.ts) reads the object once; every analyzer that accepts the file gets a sink
 * and sees every chunk in order. Summaries are stored in the job's `result` (Postgres JSONB), so
 * they must be plain JSON and small: analyzers keep counters and capped samples, never the data.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
/** Summaries are objects so `result.<name>.valid` etc. can be read without a type switch. */
export type JsonObject = { [key: string]: JsonValue };

/** What file-type and the text guess made of the first bytes (see sniff.ts). */
export type Sniffed = {
  /** MIME type detected from magic bytes, or null when file-type knows nothing (all text formats). */
  mime: string | null;
  /** Extension file-type associates with `mime`, or null. */
  ext: string | null;
  /** The first bytes look like text: no NUL bytes and valid UTF-8 (or a UTF-16 BOM). */
  text: boolean;
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

/** Receives the object's bytes in order, then returns its summary. One sink per analyzed file. */
export interface AnalyzerSink<Summary extends JsonObject = JsonObject> {
  /**
   * Called once per chunk, in order. The chunk must not be modified (every sink sees the same
   * one). Return a promise to apply backpressure: the next chunk is read only once it settles.
   */
  write(chunk: Uint8Array): void | Promise<void>;
  /** Called once after the last chunk. A malformed file is a summary (`valid: false`), not a throw. */
  finish(): Promise<Summary>;
}

export interface Analyzer<Summary extends JsonObject = JsonObject> {
  /** Key of this analyzer's summary in the job result; unique, lower-case, stable. */
  readonly name: string;
  /** Decided once per file, from the declared type, the filename and the sniffed type. */
  accepts(file: FileInfo): boolean;
  create(file: FileInfo): AnalyzerSink<Summary>;
}

/** What an analyzer that threw (a bug, not a malformed file) leaves in the result. */
export type AnalyzerCrash = {
  error: { code: 'ANALYZER_CRASHED'; message: string };
};
