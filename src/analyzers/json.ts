import { JsonScanner, type JsonErrorPosition, type JsonType } from './json-scanner.js';
import { filenameExtension, hasBinarySignature, normalizeMediaType } from './sniff.js';
import type { Analyzer, FileInfo } from './types.js';

export type { JsonErrorPosition } from './json-scanner.js';

/** Fixed fields plus the key list, which json-keys.ts caps at 16 KiB. */
const summaryBudgetBytes = 24 * 1024;

export type JsonSummary = {
  valid: boolean;
  error: JsonErrorPosition | null;
  topLevelType: JsonType | null;
  maxDepth: number;
  /** Elements of a top-level array, else null. */
  records: number | null;
  /** Keys of a top-level object, or the union of the keys of objects in a top-level array; first seen first. */
  keys: string[];
  /** Distinct keys of that object or union (not only those listed in `keys`). */
  keyCount: number;
  /** False once more distinct keys were seen than are counted (json-keys.ts): `keyCount` is then a lower bound. */
  keyCountExact: boolean;
  /** `keys` lists fewer than `keyCount` (or than the file holds). */
  keysTruncated: boolean;
  bom: boolean;
};

const jsonMediaTypes = new Set(['application/json']);

/** Accepts files declared as JSON (type `application/json` or `+json`, or a `.json` name). */
export const jsonAnalyzer: Analyzer<JsonSummary> = {
  name: 'json',
  input: 'text',
  summaryBudgetBytes,
  accepts(file: FileInfo) {
    const type = normalizeMediaType(file.contentType);
    const declared = jsonMediaTypes.has(type) || type.endsWith('+json') || filenameExtension(file.filename) === 'json';
    return declared && !hasBinarySignature(file);
  },
  create() {
    const scanner = new JsonScanner({ lines: false });
    return {
      write: (chunk) => scanner.write(chunk),
      async finish() {
        const { error } = scanner.finish();
        const keys = scanner.keys.summary();
        return {
          valid: error === null,
          error,
          topLevelType: scanner.topLevelType,
          maxDepth: scanner.deepest,
          records: scanner.topLevelType === 'array' ? scanner.records : null,
          keys: keys.keys,
          keyCount: keys.keyCount,
          keyCountExact: keys.keyCountExact,
          keysTruncated: keys.keysTruncated,
          bom: scanner.bom,
        };
      },
    };
  },
};
