import { analyzers as registeredAnalyzers } from './index.js';
import { defaultSummaryBudgetBytes, fitResult } from './result-budget.js';
import { sniff, sniffHeadBytes } from './sniff.js';
import { createTextInput, type TextInput } from './text-input.js';
import type { Analyzer, AnalyzerCrash, AnalyzerSink, FileInfo, JsonObject, Sniffed, StreamEnd } from './types.js';

/** Crash messages are stored in the job row; a stack trace or a huge message does not belong there. */
const maxCrashMessageChars = 500;

export type RunOptions = {
  /** Aborting stops reading at the next chunk and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Defaults to every analyzer listed in index.ts; tests and benchmarks pass their own. */
  analyzers?: readonly Analyzer[];
};

export type AnalysisReport = {
  /**
   * By analyzer name, in registration order: its summary, or `{error: {code: 'ANALYZER_CRASHED',
   * message}}`; storable and within the result's byte budget (result-budget.ts).
   */
  results: Record<string, JsonObject | AnalyzerCrash>;
  /** Bytes read from the stream. */
  bytes: number;
  sniffed: Sniffed;
  /** Names of the analyzers that accepted the file, in registration order. */
  ran: string[];
  /** Names of the analyzers that threw; their entry in `results` is the crash. */
  crashed: string[];
  /** Time spent inside each analyzer (write + finish), for benchmarks and logs; not part of the result. */
  timingsMs: Record<string, number>;
};

type Running = { analyzer: Analyzer; sink: AnalyzerSink | null; crash: AnalyzerCrash | null; ms: number };

/**
 * Reads `stream` once and feeds every chunk to each analyzer that accepts `file`.
 *
 * The first `sniffHeadBytes` are held back and sniffed first, so accept rules can use the bytes
 * (an image analyzer runs on a PNG declared as text/csv); the held chunks are then fed as they
 * came, so analyzers see the original chunk boundaries. After that memory is one chunk at a time:
 * the next chunk is pulled only when every sink has taken the current one (backpressure for
 * async sinks). Analyzers that read text get each chunk through one decoder (text-input.ts), in
 * the encoding sniffed from the head, so they all see the same well-formed UTF-8.
 *
 * An analyzer that throws (a bug, or a resource failure inside it) becomes that analyzer's
 * `ANALYZER_CRASHED` entry and stops receiving chunks; the others carry on. One analyzer's bug
 * must not cost the file's size, hash and type, which the accept/reject decision needs, and the
 * crash is deterministic for the same bytes more often than not, so failing the whole job would
 * just repeat it. `crashed` lists the names, so the caller decides whether a crash fails or
 * retries the job. Errors of the stream itself (a broken connection) and aborts do throw: a retry
 * can fix those, and results from a partial read would be wrong.
 */
export async function runAnalyzers(
  stream: AsyncIterable<Uint8Array>,
  file: FileInfo,
  options: RunOptions = {},
): Promise<AnalysisReport> {
  const { signal, analyzers = registeredAnalyzers } = options;
  assertUniqueNames(analyzers);
  signal?.throwIfAborted();

  const iterator = stream[Symbol.asyncIterator]();
  let exhausted = false;
  const next = async (): Promise<Uint8Array | null> => {
    const step = await iterator.next();
    signal?.throwIfAborted();
    if (step.done === true) {
      exhausted = true;
      return null;
    }
    return step.value;
  };

  try {
    const head: Uint8Array[] = [];
    let headLength = 0;
    while (headLength < sniffHeadBytes) {
      const chunk = await next();
      if (chunk === null) break;
      if (chunk.byteLength === 0) continue;
      head.push(chunk);
      headLength += chunk.byteLength;
    }
    const sniffed = await sniff(concatHead(head, headLength).subarray(0, sniffHeadBytes));
    const sniffedFile: FileInfo = { ...file, sniffed };

    const byteSinks: Running[] = [];
    const textSinks: Running[] = [];
    const running: Running[] = [];
    for (const analyzer of analyzers) {
      const entry: Running = { analyzer, sink: null, crash: null, ms: 0 };
      try {
        if (!analyzer.accepts(sniffedFile)) continue;
        entry.sink = analyzer.create(sniffedFile);
      } catch (error) {
        entry.crash = crashOf(error);
      }
      running.push(entry);
      (analyzer.input === 'bytes' ? byteSinks : textSinks).push(entry);
    }
    // Bytes that are not text at all (declared as text) are read as UTF-8 with replacements.
    const textInput: TextInput | null = textSinks.length > 0 ? createTextInput(sniffed.encoding ?? 'utf-8') : null;
    const feedBoth = async (chunk: Uint8Array): Promise<void> => {
      await feed(byteSinks, chunk);
      if (textInput === null) return;
      for (const piece of textInput.write(chunk)) await feed(textSinks, piece);
    };

    let bytes = 0;
    for (const chunk of head) {
      bytes += chunk.byteLength;
      await feedBoth(chunk);
    }
    for (let chunk = exhausted ? null : await next(); chunk !== null; chunk = await next()) {
      if (chunk.byteLength === 0) continue;
      bytes += chunk.byteLength;
      await feedBoth(chunk);
    }
    if (textInput !== null) for (const piece of textInput.end()) await feed(textSinks, piece);

    const results: AnalysisReport['results'] = {};
    const timingsMs: AnalysisReport['timingsMs'] = {};
    const textEnd: StreamEnd = { decoding: textInput?.decoding() ?? null };
    const bytesEnd: StreamEnd = { decoding: null };
    await Promise.all(
      running.map(async (entry) => {
        if (entry.sink === null || entry.crash !== null) return;
        const started = performance.now();
        try {
          results[entry.analyzer.name] = await entry.sink.finish(entry.analyzer.input === 'bytes' ? bytesEnd : textEnd);
        } catch (error) {
          entry.crash = crashOf(error);
        }
        entry.ms += performance.now() - started;
      }),
    );
    // In registration order, so the stored result reads the same for every run; storable and
    // within budget whatever the analyzers made of the bytes.
    const ordered = fitResult(
      running.flatMap((entry) => {
        const summary = entry.crash ?? results[entry.analyzer.name];
        timingsMs[entry.analyzer.name] = Math.round(entry.ms * 10) / 10;
        if (summary === undefined) return [];
        return [{ name: entry.analyzer.name, summary, budgetBytes: entry.analyzer.summaryBudgetBytes ?? defaultSummaryBudgetBytes }];
      }),
    );
    return {
      results: ordered,
      bytes,
      sniffed,
      ran: running.map((entry) => entry.analyzer.name),
      crashed: running.filter((entry) => entry.crash !== null).map((entry) => entry.analyzer.name),
      timingsMs,
    };
  } finally {
    // Stopping early (abort, crash in sniffing) must release the source, e.g. the S3 socket.
    if (!exhausted) await iterator.return?.();
  }
}

async function feed(running: readonly Running[], chunk: Uint8Array): Promise<void> {
  let pending: Promise<void>[] | null = null;
  for (const entry of running) {
    const sink = entry.sink;
    if (sink === null || entry.crash !== null) continue;
    const started = performance.now();
    try {
      const written = sink.write(chunk);
      if (written instanceof Promise) {
        pending ??= [];
        pending.push(
          written.then(
            () => {
              entry.ms += performance.now() - started;
            },
            (error: unknown) => {
              entry.crash = crashOf(error);
            },
          ),
        );
        continue;
      }
    } catch (error) {
      entry.crash = crashOf(error);
    }
    entry.ms += performance.now() - started;
  }
  if (pending !== null) await Promise.all(pending);
}

function crashOf(error: unknown): AnalyzerCrash {
  const message = error instanceof Error ? error.message : String(error);
  return { error: { code: 'ANALYZER_CRASHED', message: message.slice(0, maxCrashMessageChars) } };
}

function concatHead(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const head = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    head.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return head;
}

function assertUniqueNames(analyzers: readonly Analyzer[]): void {
  const names = new Set<string>();
  for (const { name } of analyzers) {
    if (names.has(name)) throw new Error(`Two analyzers are named "${name}"`);
    names.add(name);
  }
}
