import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type';
import type { FileInfo, Sniffed, TextEncoding } from './types.js';

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

/** C0 controls that occur in text files: TAB LF VT FF CR, plus BS and ESC (terminal output). */
function isTextControl(unit: number): boolean {
  return (unit >= 0x08 && unit <= 0x0d) || unit === 0x1b;
}

/** The UTF-16 byte order a BOM at the start announces, or null. */
function utf16ByteOrder(head: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  if (head.length < 2) return null;
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return null;
}

/** A UTF-16 code unit that text all but never holds: a C0 or C1 control, private use, a noncharacter. */
function isOddUtf16Unit(unit: number): boolean {
  if (unit < 0x20) return !isTextControl(unit);
  return (unit >= 0x80 && unit <= 0x9f) || (unit >= 0xe000 && unit <= 0xf8ff) || unit >= 0xfffe;
}

/**
 * After a UTF-16 BOM, the code units must read as text too: FF FE is also how an MPEG audio frame
 * header or a UTF-32LE BOM (FF FE 00 00) can begin. Read as UTF-16, such bytes hold NUL units,
 * and random bytes about 3% unpaired surrogates and 10% private-use units; text holds neither.
 */
function looksLikeUtf16Text(head: Uint8Array, byteOrder: 'utf-16le' | 'utf-16be'): boolean {
  const units = Math.floor((head.length - 2) / 2);
  const unitAt = (index: number): number => {
    const first = head[2 + index * 2] as number;
    const second = head[3 + index * 2] as number;
    return byteOrder === 'utf-16le' ? first | (second << 8) : (first << 8) | second;
  };
  let oddUnits = 0;
  for (let index = 0; index < units; index += 1) {
    const unit = unitAt(index);
    if (unit === 0) return false;
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = index + 1 < units ? unitAt(index + 1) : -1;
      // A pair cut by the end of the head is no evidence either way.
      if (unit < 0xdc00 && (next === -1 || (next >= 0xdc00 && next <= 0xdfff))) index += 1;
      else oddUnits += 1;
    } else if (isOddUtf16Unit(unit)) {
      oddUnits += 1;
    }
  }
  return oddUnits <= units * maxControlCharRatio;
}

/**
 * How text analyzers should read the file, judged from its first bytes; null when they are not
 * text. In this order, because a UTF-16 text is full of NUL bytes and its BOM looks like an MPEG
 * frame to file-type: a UTF-16 BOM followed by text; then no NUL byte and hardly any control
 * characters, read as UTF-8 unless ill-formed UTF-8 sequences outnumber well-formed multi-byte
 * characters. That is 8-bit text, guessed to be windows-1252 (spreadsheet and editor exports in
 * Western Europe; WHATWG reads Latin-1 labels as windows-1252 too). The vote keeps a UTF-8 file
 * with a few broken characters UTF-8: read as windows-1252, its good characters would be garbled.
 */
export function detectTextEncoding(head: Uint8Array): TextEncoding | null {
  const byteOrder = utf16ByteOrder(head);
  if (byteOrder !== null && looksLikeUtf16Text(head, byteOrder)) return byteOrder;
  let controlChars = 0;
  for (const byte of head) {
    if (byte === 0) return null;
    if (byte < 0x20 && !isTextControl(byte)) controlChars += 1;
  }
  if (controlChars > head.length * maxControlCharRatio) return null;
  // `stream: true` keeps a sequence cut at the end of the head pending instead of calling it invalid.
  const decoded = new TextDecoder().decode(head, { stream: true });
  let illFormed = 0;
  let multiByte = 0;
  for (const char of decoded) {
    const codePoint = char.codePointAt(0) as number;
    if (codePoint === 0xfffd) illFormed += 1;
    else if (codePoint >= 0x80) multiByte += 1;
  }
  return illFormed > multiByte ? 'windows-1252' : 'utf-8';
}

/** Text or binary from the first bytes (see detectTextEncoding). */
export function looksLikeText(head: Uint8Array): boolean {
  return detectTextEncoding(head) !== null;
}

export async function sniff(head: Uint8Array): Promise<Sniffed> {
  const encoding = detectTextEncoding(head);
  // UTF-16 text first: file-type would call its BOM an MPEG audio frame.
  if (encoding === 'utf-16le' || encoding === 'utf-16be') return { mime: null, ext: null, text: true, encoding };
  let detected: { mime: string; ext: string } | undefined;
  try {
    detected = head.length === 0 ? undefined : await fileTypeFromBuffer(head);
  } catch {
    // A file-type parser tripping over odd bytes would fail the same way on every retry, so the
    // file counts as of no recognised type instead of failing the job.
    detected = undefined;
  }
  return { mime: detected?.mime ?? null, ext: detected?.ext ?? null, text: encoding !== null, encoding };
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
