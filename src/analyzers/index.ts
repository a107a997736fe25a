import { csvAnalyzer } from './csv.js';
import { fileAnalyzer } from './file.js';
import { imageAnalyzer } from './image.js';
import { jsonAnalyzer } from './json.js';
import { ndjsonAnalyzer } from './ndjson.js';
import { textAnalyzer } from './text.js';
import type { Analyzer } from './types.js';

/**
 * Every analyzer `runAnalyzers` offers a file to, in the order their summaries appear in a job's
 * result. To add one: write `src/analyzers/<name>.ts` exporting an `Analyzer`, and list it here.
 */
export const analyzers: readonly Analyzer[] = [
  fileAnalyzer,
  textAnalyzer,
  csvAnalyzer,
  jsonAnalyzer,
  ndjsonAnalyzer,
  imageAnalyzer,
];

export type { Analyzer, AnalyzerCrash, AnalyzerSink, FileInfo, JsonObject, JsonValue, Sniffed } from './types.js';
