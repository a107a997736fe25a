// Filenames come from clients and end up in object keys, logs, the page and other people's
// downloads, so they are cleaned here once: path parts, control and invisible formatting characters
// (NUL, bidi overrides like U+202E that make "exe.txt" look like "txt.exe") and excess length are
// removed. A name with nothing usable left is refused by the caller.
import { maxFilenameBytes } from '../config.js';

/**
 * Cc (controls, NUL), Cf (format: bidi overrides and isolates, zero-width characters, BOM, soft
 * hyphen), Cs (lone surrogates), Zl/Zp (line/paragraph separators).
 */
const invisibleCharacters = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;
/** Any run of whitespace, including no-break and other Unicode spaces. */
const whitespaceRuns = /[\s\p{Zs}]+/gu;
/** Longest tail kept as an extension when shortening (".json", ".tar.gz" parts, …). */
const maxExtensionChars = 16;

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The cleaned name, or undefined when nothing usable remains. */
export function sanitizeFilename(raw: string): string | undefined {
  // Whitespace (tabs and newlines included) becomes one space before the controls go, so
  // "a\tb" stays two words.
  const visible = raw.normalize('NFC').replace(whitespaceRuns, ' ').replace(invisibleCharacters, '').replace(/ {2,}/g, ' ');
  // Strip any path: the last segment after / or \ is the name ("../../x" → "x").
  const lastSegment = visible.split(/[/\\]/).pop() ?? '';
  // Trailing dots and spaces are dropped by Windows when saving, so they never reach a user.
  const name = lastSegment.trim().replace(/[. ]+$/, '');
  if (name === '' || /^\.+$/.test(name)) return undefined;
  return truncateUtf8(name, maxFilenameBytes);
}

/** Shortens to `maxBytes` of UTF-8 without splitting a character, keeping a short extension. */
function truncateUtf8(name: string, maxBytes: number): string {
  if (utf8Bytes(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= maxExtensionChars ? name.slice(dot) : '';
  const stem = extension ? name.slice(0, dot) : name;
  let budget = maxBytes - utf8Bytes(extension);
  let kept = '';
  for (const character of stem) {
    const size = utf8Bytes(character);
    if (size > budget) break;
    kept += character;
    budget -= size;
  }
  return kept.trimEnd() + extension;
}
