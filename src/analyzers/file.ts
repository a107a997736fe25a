import { createHash } from 'node:crypto';
import { checkDeclaredType, isTextMediaType, normalizeMediaType } from './sniff.js';
import type { Analyzer, FileInfo } from './types.js';

export type FileSummary = {
  size: number;
  /** False when the bytes read differ from the size the uploader declared. */
  sizeMatchesDeclared: boolean;
  sha256: string;
  declaredType: string;
  /** From the magic bytes (file-type); null when nothing matched, as for every plain-text format. */
  sniffedType: string | null;
  sniffedExtension: string | null;
  typeCheck: 'match' | 'mismatch' | 'unverified';
  typeCheckReason: string;
  /** Guess from the first bytes: text (UTF-16 with a BOM, UTF-8 or 8-bit text) or binary. */
  kind: 'text' | 'binary';
};

/** Fixed fields; the declared type is the longest string, and `create` bounds it. */
const summaryBudgetBytes = 4 * 1024;

/** Facts about every file: size, SHA-256 and what its first bytes say it is. */
export const fileAnalyzer: Analyzer<FileSummary> = {
  name: 'file',
  input: 'bytes',
  summaryBudgetBytes,
  accepts: () => true,
  create(file: FileInfo) {
    const hash = createHash('sha256');
    let size = 0;
    return {
      write(chunk) {
        hash.update(chunk);
        size += chunk.byteLength;
      },
      async finish() {
        const sniffed = file.sniffed ?? { mime: null, ext: null, text: true, encoding: 'utf-8' };
        const check = checkDeclaredType(file.contentType, sniffed);
        return {
          size,
          sizeMatchesDeclared: size === file.size,
          sha256: hash.digest('hex'),
          declaredType: normalizeMediaType(file.contentType),
          sniffedType: sniffed.mime,
          sniffedExtension: sniffed.ext,
          typeCheck: check.result,
          typeCheckReason: check.reason,
          kind: sniffed.text && (sniffed.mime === null || isTextMediaType(sniffed.mime)) ? 'text' : 'binary',
        };
      },
    };
  },
};
