import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type';
import type { FileInfo, Sniffed } from './types.js';

/**
 * file-type's own advice: most formats are recognisable within this many leading bytes
 * (`reasonableDetectionSizeInBytes` in file-type/core). runAnalyzers holds back this much of the
 * stream before any analyzer starts, so accept rules can use the sniffed type.
 */
export const sniffHeadBytes = 4100;

/** A share of C0 control characters (other than whitespace, ESC, BS) above this means binary. */
const maxControlCharRatio = 0.01;

/** Spellings seen in the wild for the same type; mapped before any comparison. */
const mediaTypeAliases: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'image/apng': 'image/png',
  'image/x-ms-bmp': 'image/bmp',
  'image/x-bmp': 'image/bmp',
  'application/x-zip-compressed': 'application/zip',
  'audio/mp3': 'audio/mpeg',
  'text/xml': 'application/xml',
  'application/csv': 'text/csv',
  'text/x-csv': 'text/csv',
  'text/tsv': 'text/tab-separated-values',
  'application/jsonl': 'application/x-ndjson',
  'application/x-jsonlines': 'application/x-ndjson',
  'application/jsonlines': 'application/x-ndjson',
  'application/ndjson': 'application/x-ndjson',
};

/** Declared types that carry no claim about the bytes, so any content is consistent with them. */
const genericMediaTypes = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** Lower-cased, parameters (`; charset=…`) dropped, aliases resolved. */
export function normalizeMediaType(contentType: string): string {
  const bare = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return mediaTypeAliases[bare] ?? bare;
}

/** Media types whose content is text, which file-type (magic bytes only) mostly cannot recognise. */
export function isTextMediaType(contentType: string): boolean {
  const type = normalizeMediaType(contentType);
  return (
    type.startsWith('text/') ||
    type.endsWith('+json') ||
    type.endsWith('+xml') ||
    [
      'application/json',
      'application/x-ndjson',
      'application/xml',
      'application/javascript',
      'application/x-yaml',
      'application/yaml',
      'application/toml',
      'application/sql',
      'application/x-sh',
    ].includes(type)
  );
}

/** Lower-cased extension of the filename without the dot, or '' when it has none. */
export function filenameExtension(filename: string): string {
  const base = filename.slice(filename.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** True when file-type recognised a binary format (not one of the few text formats it knows). */
export function hasBinarySignature(file: FileInfo): boolean {
  const mime = file.sniffed?.mime ?? null;
  return mime !== null && !isTextMediaType(mime);
}

/**
 * Text or binary from the first bytes: a UTF-16 BOM, or no NUL, valid UTF-8 (a sequence cut at the
 * end of the head is fine) and hardly any control characters. Latin-1 text counts as binary here;
 * the text analyzer still runs on it when the declared type is text, and reports invalid UTF-8.
 */
export function looksLikeText(head: Uint8Array): boolean {
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    return true;
  }
  let controlChars = 0;
  for (const byte of head) {
    if (byte === 0) return false;
    // TAB LF VT FF CR, plus BS and ESC (terminal output), occur in text files.
    if (byte < 0x20 && !(byte >= 0x08 && byte <= 0x0d) && byte !== 0x1b) controlChars += 1;
  }
  if (controlChars > head.length * maxControlCharRatio) return false;
  try {
    // `stream: true` keeps an incomplete final sequence pending instead of calling it invalid.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

export async function sniff(head: Uint8Array): Promise<Sniffed> {
  let detected: { mime: string; ext: string } | undefined;
  try {
    detected = head.length === 0 ? undefined : await fileTypeFromBuffer(head);
  } catch {
    // A file-type parser tripping over odd bytes would fail the same way on every retry, so the
    // file counts as of no recognised type instead of failing the job.
    detected = undefined;
  }
  return { mime: detected?.mime ?? null, ext: detected?.ext ?? null, text: looksLikeText(head) };
}

export type TypeCheck = {
  /** `unverified`: the declared type is one file-type cannot recognise and it is not text. */
  result: 'match' | 'mismatch' | 'unverified';
  reason: string;
};

/**
 * Declared type against sniffed bytes. file-type recognises binary formats by magic numbers and
 * (almost) no text formats, hence two rules: a sniffed type must equal the declared one; with
 * nothing sniffed, a declared text type must look like text, and a declared type that file-type
 * would have recognised is a mismatch (e.g. `image/png` over bytes that are no PNG).
 */
export function checkDeclaredType(contentType: string, sniffed: Sniffed): TypeCheck {
  const declared = normalizeMediaType(contentType);
  if (sniffed.mime !== null) {
    const detected = normalizeMediaType(sniffed.mime);
    if (detected === declared) return { result: 'match', reason: `bytes are ${detected}` };
    if (genericMediaTypes.has(declared)) return { result: 'match', reason: `declared generic, bytes are ${detected}` };
    if (detected === 'application/xml' && declared.endsWith('+xml')) {
      return { result: 'match', reason: `bytes are XML, declared ${declared}` };
    }
    return { result: 'mismatch', reason: `declared ${declared || '(none)'} but bytes are ${detected}` };
  }
  if (genericMediaTypes.has(declared)) return { result: 'match', reason: 'declared generic, no type recognised' };
  if (isTextMediaType(declared)) {
    return sniffed.text
      ? { result: 'match', reason: `declared text type ${declared} and bytes look like text` }
      : { result: 'mismatch', reason: `declared text type ${declared} but bytes look binary` };
  }
  if ((supportedMimeTypes as ReadonlySet<string>).has(declared)) {
    return { result: 'mismatch', reason: `declared ${declared} but the bytes have no ${declared} signature` };
  }
  return { result: 'unverified', reason: `${declared} cannot be recognised from its bytes` };
}
