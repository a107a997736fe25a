// How numbers, sizes and times read on the page. Pure functions, shared by the result view and the
// job cards, so the same quantity always reads the same way.

const byteUnits = ['bytes', 'KB', 'MB', 'GB', 'TB'] as const;
/**
 * Binary multiples with the short labels, exactly as Uppy's Dashboard shows sizes
 * (@transloadit/prettier-bytes), so a file reads the same in the upload list and in its job card.
 */
const bytesPerUnit = 1024;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return String(bytes);
  if (bytes < bytesPerUnit) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes;
  let unit = 0;
  while (value >= bytesPerUnit && unit < byteUnits.length - 1) {
    value /= bytesPerUnit;
    unit += 1;
  }
  return `${value >= 10 || Number.isInteger(value) ? Math.round(value) : value.toFixed(1)} ${byteUnits[unit]}`;
}

const integerFormat = new Intl.NumberFormat('en');
/** Twelve significant digits: past them a float's digits are rounding noise. */
const decimalFormat = new Intl.NumberFormat('en', { maximumSignificantDigits: 12 });

/** Numbers with thousands separators, fractions trimmed to a readable precision. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return integerFormat.format(value);
  return Number.isFinite(value) ? decimalFormat.format(value) : String(value);
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatNumber(count)} ${count === 1 ? singular : pluralForm}`;
}

/** A time of day for today's events, else date and time, in the reader's own locale and zone. */
export function formatTime(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** "in 3 minutes" style waits, for Retry-After. */
export function formatWait(seconds: number): string {
  if (seconds < 60) return plural(Math.max(1, Math.round(seconds)), 'second');
  if (seconds < 3600) return plural(Math.round(seconds / 60), 'minute');
  return plural(Math.round(seconds / 3600), 'hour');
}

/** "3.1 MB/s": a transfer rate in the units of formatBytes. */
export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** Media types in words; an unknown type is shown as it is (the person chose the file, it means something to them). */
const typeNames: Record<string, string> = {
  'text/csv': 'CSV',
  'text/tab-separated-values': 'TSV (tab-separated values)',
  'text/plain': 'Text',
  'application/json': 'JSON',
  'application/x-ndjson': 'NDJSON (JSON lines)',
  'application/ndjson': 'NDJSON (JSON lines)',
  'application/octet-stream': 'Binary file',
  'application/pdf': 'PDF',
  'application/zip': 'ZIP archive',
  'application/gzip': 'gzip archive',
  'application/x-tar': 'tar archive',
  'application/x-7z-compressed': '7-Zip archive',
  'application/vnd.rar': 'RAR archive',
  'application/x-rar-compressed': 'RAR archive',
  'application/vnd.apache.parquet': 'Parquet file',
  'application/xml': 'XML',
  'application/x-sqlite3': 'SQLite database',
  'application/wasm': 'WebAssembly module',
  'application/x-elf': 'ELF executable',
  'application/x-msdownload': 'Windows executable',
  'audio/mpeg': 'MP3 audio file',
  'video/mp4': 'MP4 video file',
};

export function describeType(contentType: string): string {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const known = typeNames[type];
  if (known !== undefined) return known;
  for (const [prefix, noun] of [['image/', 'image'], ['audio/', 'audio file'], ['video/', 'video file']] as const) {
    if (type.startsWith(prefix)) return `${type.slice(prefix.length).replace(/^x-/, '').replace(/\+xml$/, '').toUpperCase()} ${noun}`;
  }
  return type || 'Unknown type';
}

/** Letters whose names start with a vowel sound: "an MP3", "an SVG", "a PNG". */
const vowelSoundLetters = new Set([...'AEFHILMNORSX']);

/** describeType with its article, for a sentence: "a ZIP archive", "an MP3 audio file", "an SVG image". */
export function describeTypeWithArticle(contentType: string): string {
  const name = describeType(contentType);
  const firstWord = name.split(/[\s(]/)[0] ?? '';
  const first = name.charAt(0);
  const acronym = firstWord.length > 1 && firstWord === firstWord.toUpperCase() && /[A-Z]/.test(firstWord);
  const vowel = acronym ? vowelSoundLetters.has(first) : /[aeiou]/i.test(first);
  return `${vowel ? 'an' : 'a'} ${name}`;
}
