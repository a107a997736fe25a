// A job's result, described for people: the result holds one summary per analyzer
// (`{file: {...}, csv: {...}}`, src/analyzers/), and each becomes a titled section of facts, tables
// and notes. Pure data in, pure data out (no DOM), so every rule here is unit-tested; render.ts
// turns sections into elements. Summaries are validated here (zod: the result is server data); a
// summary of an unknown or changed shape is still shown, generically, rather than dropped.
import * as z from 'zod';
import { formatBytes, formatNumber, plural } from './format.js';

export interface Fact {
  label: string;
  value: string;
  /** Hashes and identifiers: shown in a monospace face and never wrapped mid-word by the reader's eye. */
  mono?: boolean;
}

export type Block =
  | { kind: 'facts'; facts: Fact[] }
  | { kind: 'table'; caption: string; head: string[]; rows: string[][]; numeric?: number[] }
  | { kind: 'list'; label: string; items: string[]; more?: string }
  | { kind: 'note'; tone: 'info' | 'warning' | 'error'; text: string };

export interface ResultSection {
  /** The analyzer's name, the key in `result`. */
  analyzer: string;
  title: string;
  /** One line that says the most important thing. */
  headline: string;
  blocks: Block[];
}

/** Keys listed before "and N more": enough to recognise a schema, short enough for a phone. */
const maxListedKeys = 40;

const crashSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const fileSchema = z.looseObject({
  size: z.number(),
  sizeMatchesDeclared: z.boolean(),
  sha256: z.string(),
  declaredType: z.string(),
  sniffedType: z.string().nullable(),
  sniffedExtension: z.string().nullable().optional(),
  typeCheck: z.enum(['match', 'mismatch', 'unverified']),
  typeCheckReason: z.string(),
  kind: z.enum(['text', 'binary']),
});

const cellValue = z.union([z.number(), z.string()]).nullable();
const csvSchema = z.looseObject({
  valid: z.boolean(),
  // `error` and `header` are absent from newer summaries (problems and names are reported in other fields).
  error: z.looseObject({ message: z.string(), code: z.string(), line: z.number().nullable() }).nullable().optional(),
  delimiter: z.string(),
  rows: z.number(),
  columns: z.number(),
  hasHeader: z.boolean(),
  header: z.array(z.string()).nullable().optional(),
  /** false when the profile does not cover the whole file; `incomplete` says why (newer summaries). */
  complete: z.boolean().optional(),
  incomplete: z.array(z.string()).optional(),
  columnProfiles: z.array(z.looseObject({ name: z.string(), type: z.string(), empty: z.number(), min: cellValue, max: cellValue })),
  raggedRows: z.number(),
  firstRaggedRows: z.array(z.looseObject({ row: z.number(), fields: z.number() })),
  sampleRows: z.array(z.array(z.string())),
});

const jsonSchema = z.looseObject({
  valid: z.boolean(),
  error: z.looseObject({ message: z.string(), offset: z.number(), line: z.number(), column: z.number() }).nullable(),
  topLevelType: z.string().nullable(),
  maxDepth: z.number(),
  records: z.number().nullable(),
  keys: z.array(z.string()),
  keyCount: z.number(),
  /** Absent in results from before it was counted. */
  keyCountExact: z.boolean().optional(),
  keysTruncated: z.boolean(),
  bom: z.boolean(),
});

const ndjsonSchema = z.looseObject({
  valid: z.boolean(),
  lines: z.number(),
  records: z.number(),
  blankLines: z.number(),
  badLines: z.number(),
  firstBadLines: z.array(z.looseObject({ line: z.number(), error: z.string() })),
  types: z.record(z.string(), z.number()),
  keys: z.array(z.string()),
  keysTruncated: z.boolean(),
});

const textSchema = z.looseObject({
  encoding: z.string(),
  /** Absent in results from before encodings were told apart (all UTF-8). */
  encodingGuessed: z.boolean().optional(),
  utf8Valid: z.boolean(),
  invalidSequences: z.number(),
  firstInvalidByteOffset: z.number().nullable(),
  bom: z.boolean(),
  lines: z.number(),
  words: z.number(),
  characters: z.number(),
  longestLineCharacters: z.number(),
  longestLineNumber: z.number(),
  lineEnding: z.string(),
  endsWithNewline: z.boolean(),
});

const imageSchema = z.looseObject({
  valid: z.boolean(),
  error: z.string().nullable(),
  format: z.string().nullable(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

type Describer = (summary: unknown) => ResultSection | null;

/** Known analyzers, by result key; each returns null when the summary is not the shape it knows. */
const describers: Record<string, Describer> = {
  file: (summary) => parsed(fileSchema, summary, describeFile),
  csv: (summary) => parsed(csvSchema, summary, describeCsv),
  json: (summary) => parsed(jsonSchema, summary, describeJson),
  ndjson: (summary) => parsed(ndjsonSchema, summary, describeNdjson),
  text: (summary) => parsed(textSchema, summary, describeText),
  image: (summary) => parsed(imageSchema, summary, describeImage),
};

/** The `file` facts first (everything has them), then the others in the order the server listed them. */
export function describeResult(result: unknown): ResultSection[] {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return [];
  const entries = Object.entries(result as Record<string, unknown>);
  entries.sort(([a], [b]) => Number(b === 'file') - Number(a === 'file'));
  return entries.map(([name, summary]) => describeSummary(name, summary));
}

export function describeSummary(name: string, summary: unknown): ResultSection {
  const crash = crashSchema.safeParse(summary);
  if (crash.success && Object.keys(summary as object).length === 1) {
    return {
      analyzer: name,
      title: titleOf(name),
      headline: 'This analysis failed',
      blocks: [{ kind: 'note', tone: 'error', text: `${crash.data.error.message} (${crash.data.error.code})` }],
    };
  }
  const section = describers[name]?.(summary) ?? describeGeneric(name, summary);
  return { ...section, blocks: [...section.blocks, ...storageNotes(summary)] };
}

const storageMarksSchema = z.looseObject({
  replacedCharacters: z.number().optional(),
  truncatedToBudget: z.looseObject({ bytes: z.number(), budgetBytes: z.number() }).optional(),
});

/** What the server did to make a summary storable and small (src/analyzers/result-budget.ts). */
function storageNotes(summary: unknown): Block[] {
  const marks = storageMarksSchema.safeParse(summary);
  if (!marks.success) return [];
  const { replacedCharacters, truncatedToBudget } = marks.data;
  return compact([
    replacedCharacters === undefined
      ? null
      : { kind: 'note', tone: 'info', text: `${plural(replacedCharacters, 'character')} that cannot be stored (NUL, unpaired surrogates) shown as �.` },
    truncatedToBudget === undefined
      ? null
      : {
          kind: 'note',
          tone: 'warning',
          text: `This summary was ${formatBytes(truncatedToBudget.bytes)}, over its ${formatBytes(truncatedToBudget.budgetBytes)} budget: its lists and texts are cut short.`,
        },
  ]);
}

function parsed<T>(schema: z.ZodType<T>, summary: unknown, describe: (value: T) => ResultSection): ResultSection | null {
  const result = schema.safeParse(summary);
  return result.success ? describe(result.data) : null;
}

function titleOf(name: string): string {
  const known: Record<string, string> = { file: 'File', csv: 'CSV profile', json: 'JSON', ndjson: 'NDJSON', text: 'Text', image: 'Image' };
  return known[name] ?? name.charAt(0).toUpperCase() + name.slice(1);
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

function keyList(label: string, keys: string[], total: number, truncated: boolean): Block | null {
  if (keys.length === 0) return null;
  const shown = keys.slice(0, maxListedKeys);
  const hidden = Math.max(total, keys.length) - shown.length;
  const more = hidden > 0 ? `and ${formatNumber(hidden)} more` : truncated ? 'and more' : undefined;
  return more === undefined ? { kind: 'list', label, items: shown } : { kind: 'list', label, items: shown, more };
}

function compact(blocks: Array<Block | null>): Block[] {
  return blocks.filter((block): block is Block => block !== null);
}

function describeFile(file: z.infer<typeof fileSchema>): ResultSection {
  const detected = file.sniffedType ?? (file.kind === 'text' ? 'text (no signature to detect)' : 'not recognised');
  const typeCheck: Record<typeof file.typeCheck, string> = {
    match: 'matches the declared type',
    mismatch: 'does NOT match the declared type',
    unverified: 'cannot be verified from the bytes',
  };
  return {
    analyzer: 'file',
    title: 'File',
    headline: `${formatBytes(file.size)} · ${file.sniffedType ?? file.declaredType} · ${file.kind}`,
    blocks: compact([
      {
        kind: 'facts',
        facts: [
          { label: 'Size', value: file.size < 1024 ? formatBytes(file.size) : `${formatBytes(file.size)} (${plural(file.size, 'byte')})` },
          { label: 'SHA-256', value: file.sha256, mono: true },
          { label: 'Declared type', value: file.declaredType },
          { label: 'Detected type', value: detected },
          { label: 'Type check', value: `${typeCheck[file.typeCheck]}${file.typeCheckReason ? ` — ${file.typeCheckReason}` : ''}` },
          { label: 'Content', value: file.kind },
        ],
      },
      file.sizeMatchesDeclared ? null : { kind: 'note', tone: 'error', text: 'The stored file is not the size the upload announced.' },
      file.typeCheck === 'mismatch' ? { kind: 'note', tone: 'warning', text: `The bytes do not look like ${file.declaredType}.` } : null,
    ]),
  };
}

function cell(value: number | string | null): string {
  if (value === null) return '—';
  return typeof value === 'number' ? formatNumber(value) : value;
}

function describeCsv(csv: z.infer<typeof csvSchema>): ResultSection {
  const names = csv.columnProfiles.map((column) => column.name);
  const width = Math.max(names.length, ...csv.sampleRows.map((row) => row.length));
  const sampleHead = Array.from({ length: width }, (_, index) => names[index] ?? `column_${index + 1}`);
  const firstRagged = csv.firstRaggedRows[0];
  return {
    analyzer: 'csv',
    title: 'CSV profile',
    headline: `${plural(csv.rows, 'row')} × ${plural(csv.columns, 'column')}${csv.valid ? '' : ' (malformed)'}${csv.complete === false ? ' (incomplete)' : ''}`,
    blocks: compact([
      csv.complete === false
        ? { kind: 'note', tone: 'error', text: `The profile does not cover the whole file: ${(csv.incomplete ?? []).join(' ')}` }
        : null,
      csv.valid || csv.error === null || csv.error === undefined
        ? null
        : {
            kind: 'note',
            tone: 'error',
            text: `Malformed CSV${csv.error.line === null ? '' : ` at line ${formatNumber(csv.error.line)}`}: ${csv.error.message} The counts cover the rows before it.`,
          },
      {
        kind: 'facts',
        facts: [
          { label: 'Rows', value: `${formatNumber(csv.rows)}${csv.hasHeader ? ' (plus a header row)' : ''}` },
          { label: 'Columns', value: formatNumber(csv.columns) },
          { label: 'Delimiter', value: csv.delimiter },
          { label: 'Header', value: csv.hasHeader ? 'yes' : 'no (columns are numbered)' },
        ],
      },
      csv.raggedRows > 0
        ? {
            kind: 'note',
            tone: 'warning',
            text: `${plural(csv.raggedRows, 'row')} ${csv.raggedRows === 1 ? 'has' : 'have'} a different number of fields${
              firstRagged === undefined ? '' : ` (first: row ${formatNumber(firstRagged.row)} has ${plural(firstRagged.fields, 'field')})`
            }.`,
          }
        : null,
      {
        kind: 'table',
        caption: 'Columns',
        head: ['Column', 'Type', 'Empty', 'Min', 'Max'],
        rows: csv.columnProfiles.map((column) => [column.name, column.type, formatNumber(column.empty), cell(column.min), cell(column.max)]),
        numeric: [2],
      },
      csv.sampleRows.length > 0
        ? {
            kind: 'table',
            caption: `Sample rows (first ${csv.sampleRows.length})`,
            head: sampleHead,
            rows: csv.sampleRows.map((row) => Array.from({ length: width }, (_, index) => row[index] ?? '')),
          }
        : null,
    ]),
  };
}

function describeJson(json: z.infer<typeof jsonSchema>): ResultSection {
  const shape =
    json.topLevelType === 'array' && json.records !== null
      ? `an array of ${plural(json.records, 'element')}`
      : json.topLevelType === 'object'
        ? `an object with ${plural(json.keyCount, 'key')}`
        : (json.topLevelType ?? 'nothing');
  const where = json.error ? `line ${formatNumber(json.error.line)}, column ${formatNumber(json.error.column)}` : '';
  return {
    analyzer: 'json',
    title: 'JSON',
    headline: json.valid ? `Valid JSON: ${shape}` : `Invalid JSON at ${where}`,
    blocks: compact([
      json.error ? { kind: 'note', tone: 'error', text: `${json.error.message} (${where}, byte ${formatNumber(json.error.offset)}).` } : null,
      {
        kind: 'facts',
        facts: [
          { label: 'Valid', value: yesNo(json.valid) },
          { label: 'Top level', value: json.topLevelType ?? '—' },
          ...(json.records === null ? [] : [{ label: 'Records', value: formatNumber(json.records) }]),
          { label: 'Keys', value: `${formatNumber(json.keyCount)}${(json.keyCountExact ?? !json.keysTruncated) ? '' : '+'}` },
          { label: 'Deepest nesting', value: formatNumber(json.maxDepth) },
          ...(json.bom ? [{ label: 'Byte order mark', value: 'yes' }] : []),
        ],
      },
      keyList('Keys', json.keys, json.keyCount, json.keysTruncated),
    ]),
  };
}

function describeNdjson(ndjson: z.infer<typeof ndjsonSchema>): ResultSection {
  const types = Object.entries(ndjson.types)
    .filter(([, count]) => count > 0)
    .map(([type, count]) => `${type}: ${formatNumber(count)}`)
    .join(', ');
  return {
    analyzer: 'ndjson',
    title: 'NDJSON',
    headline: `${plural(ndjson.records, 'record')} on ${plural(ndjson.lines, 'line')}${ndjson.badLines > 0 ? `, ${plural(ndjson.badLines, 'bad line')}` : ''}`,
    blocks: compact([
      {
        kind: 'facts',
        facts: [
          { label: 'Records', value: formatNumber(ndjson.records) },
          { label: 'Lines', value: formatNumber(ndjson.lines) },
          { label: 'Blank lines', value: formatNumber(ndjson.blankLines) },
          { label: 'Bad lines', value: formatNumber(ndjson.badLines) },
          { label: 'Record types', value: types || '—' },
        ],
      },
      ndjson.firstBadLines.length > 0
        ? {
            kind: 'table',
            caption: ndjson.badLines > ndjson.firstBadLines.length ? `First ${ndjson.firstBadLines.length} bad lines` : 'Bad lines',
            head: ['Line', 'Error'],
            rows: ndjson.firstBadLines.map((bad) => [formatNumber(bad.line), bad.error]),
            numeric: [0],
          }
        : null,
      keyList('Keys', ndjson.keys, ndjson.keys.length, ndjson.keysTruncated),
    ]),
  };
}

function describeText(text: z.infer<typeof textSchema>): ResultSection {
  const badSequences = `${plural(text.invalidSequences, 'bad sequence')}${
    text.firstInvalidByteOffset === null ? '' : `, the first at byte ${formatNumber(text.firstInvalidByteOffset)}`
  }`;
  const names: Record<string, string> = { 'utf-8': 'UTF-8', 'utf-16le': 'UTF-16 (little-endian)', 'utf-16be': 'UTF-16 (big-endian)' };
  const encodingName = names[text.encoding] ?? text.encoding;
  // UTF-16 is not UTF-8, but is no fault; 8-bit text read as windows-1252 is counted as what is not UTF-8.
  const encoding =
    text.encoding === 'utf-8'
      ? text.utf8Valid
        ? 'valid UTF-8'
        : `not valid UTF-8: ${badSequences}`
      : text.encodingGuessed === true
        ? `${encodingName} (a guess: not UTF-8, ${badSequences})`
        : `${encodingName}${text.invalidSequences > 0 ? `, ${badSequences}` : ''}`;
  const warn = text.invalidSequences > 0 || text.encodingGuessed === true;
  return {
    analyzer: 'text',
    title: 'Text',
    headline: `${plural(text.lines, 'line')} · ${plural(text.words, 'word')} · ${plural(text.characters, 'character')}`,
    blocks: compact([
      warn ? { kind: 'note', tone: 'warning', text: `The text is ${encoding}.` } : null,
      {
        kind: 'facts',
        facts: [
          { label: 'Lines', value: formatNumber(text.lines) },
          { label: 'Words', value: formatNumber(text.words) },
          { label: 'Characters', value: formatNumber(text.characters) },
          {
            label: 'Longest line',
            value: text.longestLineNumber > 0 ? `${plural(text.longestLineCharacters, 'character')} (line ${formatNumber(text.longestLineNumber)})` : '—',
          },
          { label: 'Encoding', value: `${encoding}${text.bom ? ', with a byte order mark' : ''}` },
          { label: 'Line endings', value: `${text.lineEnding}${text.endsWithNewline ? '' : ', no newline at the end'}` },
        ],
      },
    ]),
  };
}

function describeImage(image: z.infer<typeof imageSchema>): ResultSection {
  const format = image.format?.toUpperCase() ?? 'Unknown format';
  const dimensions = image.width !== null && image.height !== null ? `${formatNumber(image.width)} × ${formatNumber(image.height)} pixels` : null;
  return {
    analyzer: 'image',
    title: 'Image',
    headline: image.valid ? `${format}${dimensions ? ` · ${dimensions}` : ''}` : 'Not a readable image',
    blocks: compact([
      image.error ? { kind: 'note', tone: 'error', text: image.error } : null,
      {
        kind: 'facts',
        facts: [
          { label: 'Format', value: format },
          { label: 'Dimensions', value: dimensions ?? '—' },
          ...Object.entries(image.details).map(([label, value]) => ({ label: humanize(label), value: typeof value === 'number' ? formatNumber(value) : String(value) })),
        ],
      },
    ]),
  };
}

/** Any other summary: its plain fields as facts, nested values as short JSON (the raw view has it all). */
function describeGeneric(name: string, summary: unknown): ResultSection {
  if (summary === null || typeof summary !== 'object' || Array.isArray(summary)) {
    return { analyzer: name, title: titleOf(name), headline: shortJson(summary), blocks: [] };
  }
  const facts = Object.entries(summary as Record<string, unknown>).map(([label, value]) => ({
    label: humanize(label),
    value: typeof value === 'number' ? formatNumber(value) : typeof value === 'string' ? value : shortJson(value),
  }));
  return { analyzer: name, title: titleOf(name), headline: plural(facts.length, 'field'), blocks: facts.length > 0 ? [{ kind: 'facts', facts }] : [] };
}

const maxShortJsonChars = 200;

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > maxShortJsonChars ? `${text.slice(0, maxShortJsonChars - 1)}…` : text;
}

/** `longestLineNumber` → `Longest line number`, `bit_depth` → `Bit depth`. */
export function humanize(key: string): string {
  const words = key
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
