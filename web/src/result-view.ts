// A job's result, described for people. The result holds one summary per analyzer
// (`{file: {...}, text: {...}, csv: {...}}`, src/analyzers/); this turns it into
//
//   - one headline for the whole file, in plain words and a tone: "CSV · 2,000 rows × 7 columns"
//     (success), "Invalid JSON at line 4, column 1" (warning: the job worked, the file has a
//     problem), from the analysis that says most about what the file is;
//   - sections of facts, tables, charts and notes, one per analyzer, each fact said once: the text
//     statistics of a CSV or JSON file are not repeated beside its rows and records, only its
//     encoding and line endings join the file's facts.
//
// Pure data in, pure data out (no DOM), so every rule here is unit-tested; render.ts and charts.ts
// turn sections into elements, and the CLI prints the same headline. Summaries are validated here
// (zod: the result is server data); a summary of an unknown or changed shape is still shown,
// generically, rather than dropped.
import * as z from 'zod';
import { describeType, describeTypeWithArticle, formatBytes, formatNumber, plural } from './format.js';

export interface Fact {
  label: string;
  value: string;
  /** Hashes and identifiers: shown in a monospace face and never wrapped mid-word by the reader's eye. */
  mono?: boolean;
}

/** A column's distribution, drawn by charts.ts; `summary` is its text alternative. */
export type Chart =
  | {
      kind: 'histogram';
      column: string;
      /** Values per equal-width bin, from `from` to `to`. */
      counts: number[];
      /** The bins' outer edges, as they read ("10", "2021-01-15"), and each bin's range for its tooltip. */
      from: string;
      to: string;
      binLabels: string[];
      summary: string;
    }
  | { kind: 'bars'; column: string; bars: { label: string; count: number }[]; total: number; summary: string };

export type Block =
  | { kind: 'facts'; facts: Fact[] }
  | { kind: 'table'; caption: string; head: string[]; rows: string[][]; numeric?: number[] }
  | { kind: 'charts'; caption: string; charts: Chart[] }
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

/** What a file is, in a line: success when it is fine, warning when the job worked but the file has a problem. */
export interface Headline {
  text: string;
  tone: 'success' | 'warning';
}

/** Keys listed before "and N more": enough to recognise a schema, short enough for a phone. */
const maxListedKeys = 40;
/** Values drawn as bars for a text column; the rest are one "other" figure in the summary. */
const maxBars = 6;
/** Columns charted: a file of hundreds of columns would make a card of thousands of shapes. */
const maxCharts = 24;

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
const histogramSchema = z.looseObject({ min: z.union([z.number(), z.string()]), max: z.union([z.number(), z.string()]), counts: z.array(z.number()) });
const columnSchema = z.looseObject({
  name: z.string(),
  type: z.string(),
  empty: z.number(),
  min: cellValue,
  max: cellValue,
  // Newer summaries (the analyzers issue): counts, distinct values, top values, statistics, histogram.
  values: z.number().optional(),
  nulls: z.number().optional(),
  distinct: z.number().optional(),
  distinctEstimated: z.boolean().optional(),
  topValues: z.array(z.looseObject({ value: z.string(), count: z.number() })).optional(),
  topValuesEstimated: z.boolean().optional(),
  mean: z.number().optional(),
  stddev: z.number().nullable().optional(),
  histogram: histogramSchema.optional(),
});
const csvSchema = z.looseObject({
  valid: z.boolean(),
  // `error` and `header` are absent from newer summaries (problems and names are reported in other fields).
  error: z.looseObject({ message: z.string(), code: z.string(), line: z.number().nullable() }).nullable().optional(),
  delimiter: z.string(),
  rows: z.number(),
  columns: z.number(),
  hasHeader: z.boolean(),
  headerReason: z.string().optional(),
  /** false when the profile does not cover the whole file; `incomplete` says why (newer summaries). */
  complete: z.boolean().optional(),
  incomplete: z.array(z.string()).optional(),
  columnProfiles: z.array(columnSchema),
  profiledColumns: z.number().optional(),
  raggedRows: z.number(),
  firstRaggedRows: z.array(z.looseObject({ row: z.number(), fields: z.number() })),
  malformedRows: z.number().optional(),
  firstMalformedRows: z.array(z.looseObject({ row: z.number(), line: z.number(), problem: z.string() })).optional(),
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

type FileSummary = z.infer<typeof fileSchema>;
type CsvSummary = z.infer<typeof csvSchema>;
type ColumnSummary = z.infer<typeof columnSchema>;
type JsonSummary = z.infer<typeof jsonSchema>;
type NdjsonSummary = z.infer<typeof ndjsonSchema>;
type TextSummary = z.infer<typeof textSchema>;
type ImageSummary = z.infer<typeof imageSchema>;

/** The summaries this view knows, parsed; each absent when missing or of a shape it does not know. */
interface Known {
  file?: FileSummary;
  csv?: CsvSummary;
  json?: JsonSummary;
  ndjson?: NdjsonSummary;
  text?: TextSummary;
  image?: ImageSummary;
}

const schemas = { file: fileSchema, csv: csvSchema, json: jsonSchema, ndjson: ndjsonSchema, text: textSchema, image: imageSchema } as const;
type KnownName = keyof typeof schemas;

function isKnownName(name: string): name is KnownName {
  return Object.hasOwn(schemas, name);
}

function entriesOf(result: unknown): [string, unknown][] {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return [];
  return Object.entries(result as Record<string, unknown>);
}

function parseKnown(entries: [string, unknown][]): Known {
  const known: Record<string, unknown> = {};
  for (const [name, summary] of entries) {
    if (!isKnownName(name)) continue;
    const parsed = schemas[name].safeParse(summary);
    if (parsed.success) known[name] = parsed.data;
  }
  return known as Known;
}

/** Analyzers that describe the file as a whole (rows, records), beside which text statistics would repeat. */
function structured(known: Known): boolean {
  return known.csv !== undefined || known.json !== undefined || known.ndjson !== undefined;
}

// ---------------------------------------------------------------------------------------------
// The headline

/**
 * The file in one line, from the analysis that says most about what it is: an image's format and
 * size, a CSV's rows and columns, JSON's shape or where it breaks, else the text's lines, else the
 * file's type and size. A problem found anywhere (a type the bytes contradict, malformed rows,
 * invalid JSON) makes it a warning. Null for an empty or unreadable result.
 */
export function resultHeadline(result: unknown): Headline | null {
  const known = parseKnown(entriesOf(result));
  const main = mainHeadline(known) ?? genericHeadline(entriesOf(result));
  if (main === null) return null;
  const { file } = known;
  if (file === undefined) return main;
  if (!file.sizeMatchesDeclared) return { text: `${main.text} · not the size announced`, tone: 'warning' };
  if (file.typeCheck === 'mismatch') return { text: `${main.text} · not ${describeType(file.declaredType)} as declared`, tone: 'warning' };
  return main;
}

function mainHeadline(known: Known): Headline | null {
  const { image, csv, json, ndjson, text, file } = known;
  if (image !== undefined && (image.valid || file?.kind === 'binary')) return imageHeadline(image);
  if (csv !== undefined) return csvHeadline(csv);
  if (json !== undefined) return jsonHeadline(json);
  if (ndjson !== undefined) return ndjsonHeadline(ndjson);
  if (text !== undefined) return textHeadline(text);
  if (file !== undefined) return { text: `${describeType(file.sniffedType ?? file.declaredType)} · ${formatBytes(file.size)}`, tone: 'success' };
  return null;
}

function genericHeadline(entries: [string, unknown][]): Headline | null {
  const first = entries[0];
  return first === undefined ? null : { text: `${titleOf(first[0])} · ${describeSummary(first[0], first[1]).headline}`, tone: 'success' };
}

function csvName(csv: CsvSummary): string {
  return csv.delimiter === 'tab' ? 'TSV' : 'CSV';
}

function csvShape(csv: CsvSummary): string {
  return `${plural(csv.rows, 'row')} × ${plural(csv.columns, 'column')}`;
}

function csvProblems(csv: CsvSummary): string[] {
  const malformed = csv.malformedRows ?? 0;
  return compactStrings([
    csv.complete === false ? 'incomplete profile' : null,
    malformed > 0 ? plural(malformed, 'malformed row') : null,
    csv.raggedRows > 0 ? `${plural(csv.raggedRows, 'row')} with missing or extra fields` : null,
    !csv.valid && malformed === 0 && csv.complete !== false ? 'malformed' : null,
  ]);
}

function csvHeadline(csv: CsvSummary): Headline {
  const problems = csvProblems(csv);
  return { text: [`${csvName(csv)} · ${csvShape(csv)}`, ...problems].join(' · '), tone: problems.length > 0 ? 'warning' : 'success' };
}

function jsonWhere(json: JsonSummary): string {
  return json.error === null ? '' : `line ${formatNumber(json.error.line)}, column ${formatNumber(json.error.column)}`;
}

function jsonShape(json: JsonSummary): string {
  if (json.topLevelType === 'array' && json.records !== null) return `an array of ${plural(json.records, 'record')}`;
  if (json.topLevelType === 'object') return `an object with ${plural(json.keyCount, 'key')}${exactness(json)}`;
  const article: Record<string, string> = { string: 'a string', number: 'a number', boolean: 'a boolean', null: 'null' };
  return json.topLevelType === null ? 'empty' : (article[json.topLevelType] ?? json.topLevelType);
}

function exactness(json: JsonSummary): string {
  return (json.keyCountExact ?? !json.keysTruncated) ? '' : ' or more';
}

function jsonHeadline(json: JsonSummary): Headline {
  if (!json.valid) return { text: json.error === null ? 'Invalid JSON' : `Invalid JSON at ${jsonWhere(json)}`, tone: 'warning' };
  return { text: `JSON · ${jsonShape(json)}`, tone: 'success' };
}

function ndjsonHeadline(ndjson: NdjsonSummary): Headline {
  const text = `NDJSON · ${plural(ndjson.records, 'record')}`;
  if (ndjson.badLines === 0) return { text, tone: 'success' };
  return { text: `${text} · ${plural(ndjson.badLines, 'line')} not JSON`, tone: 'warning' };
}

function imageHeadline(image: ImageSummary): Headline {
  if (!image.valid) return { text: `Not a readable image${image.error ? `: ${lowerFirst(image.error)}` : ''}`, tone: 'warning' };
  const dimensions = image.width !== null && image.height !== null ? ` · ${formatNumber(image.width)} × ${formatNumber(image.height)}` : '';
  return { text: `Image · ${image.format?.toUpperCase() ?? 'unknown format'}${dimensions}`, tone: 'success' };
}

/** A problem with the text's encoding, in a phrase; null when there is none (UTF-16 is no fault). */
function encodingProblem(text: TextSummary): string | null {
  if (text.encoding === 'utf-8') return text.utf8Valid ? null : 'not valid UTF-8';
  if (text.encodingGuessed === true) return `not UTF-8 (read as ${text.encoding})`;
  return text.invalidSequences > 0 ? `${plural(text.invalidSequences, 'bad sequence')} in ${encodingName(text.encoding)}` : null;
}

function textHeadline(text: TextSummary): Headline {
  const problem = encodingProblem(text);
  const base = `Text · ${plural(text.lines, 'line')} · ${plural(text.words, 'word')}`;
  return problem === null ? { text: base, tone: 'success' } : { text: `${base} · ${problem}`, tone: 'warning' };
}

// ---------------------------------------------------------------------------------------------
// The sections

/**
 * The `file` section first (everything has it), then the others in the order the server listed
 * them, text folded into the file's section when a CSV, JSON or NDJSON analysis says more.
 */
export function describeResult(result: unknown): ResultSection[] {
  const entries = entriesOf(result);
  const known = parseKnown(entries);
  const foldText = structured(known) && known.text !== undefined;
  const sections: ResultSection[] = [];
  for (const [name, summary] of entries) {
    if (name === 'text' && foldText) continue;
    const section = name === 'file' && known.file !== undefined ? describeFile(known.file, foldText ? known.text : undefined) : describeSummary(name, summary);
    if (name === 'file') sections.unshift(withStorageNotes(section, summary));
    else sections.push(section);
  }
  return sections;
}

/** One analyzer's summary on its own (its crash, or the generic view of an unknown one). */
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
  const describe: Record<KnownName, (value: unknown) => ResultSection | null> = {
    file: (value) => parsed(fileSchema, value, (file) => describeFile(file, undefined)),
    csv: (value) => parsed(csvSchema, value, describeCsv),
    json: (value) => parsed(jsonSchema, value, describeJson),
    ndjson: (value) => parsed(ndjsonSchema, value, describeNdjson),
    text: (value) => parsed(textSchema, value, describeText),
    image: (value) => parsed(imageSchema, value, describeImage),
  };
  const section = (isKnownName(name) ? describe[name](summary) : null) ?? describeGeneric(name, summary);
  return withStorageNotes(section, summary);
}

function withStorageNotes(section: ResultSection, summary: unknown): ResultSection {
  const notes = storageNotes(summary);
  return notes.length === 0 ? section : { ...section, blocks: [...section.blocks, ...notes] };
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

function compactStrings(items: Array<string | null>): string[] {
  return items.filter((item): item is string => item !== null);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** What the bytes say about the declared type, in a sentence. */
function typeVerdict(file: FileSummary): string {
  const declared = describeType(file.declaredType);
  const generic = ['application/octet-stream', 'binary/octet-stream', ''].includes(file.declaredType.split(';')[0]?.trim().toLowerCase() ?? '');
  switch (file.typeCheck) {
    case 'match':
      if (file.sniffedType !== null) return `${declared}; the bytes agree`;
      if (file.kind === 'text') return `${declared}; the bytes are text, as declared`;
      return generic ? 'no format this server recognises' : `${declared}; nothing in the bytes contradicts it`;
    case 'mismatch':
      return `declared ${declared}, but the bytes are ${file.sniffedType === null ? file.kind : describeTypeWithArticle(file.sniffedType)}`;
    case 'unverified':
      if (file.sniffedType !== null) return `${describeType(file.sniffedType)}, recognised from the bytes`;
      return generic ? 'no format this server recognises' : `${declared}; nothing in the bytes confirms or contradicts it`;
  }
}

function describeFile(file: FileSummary, text: TextSummary | undefined): ResultSection {
  const encoding = text === undefined ? [] : textEncodingFacts(text);
  const encodingNote = text === undefined ? null : encodingWarning(text);
  return {
    analyzer: 'file',
    title: 'File',
    headline: `${formatBytes(file.size)} · ${describeType(file.sniffedType ?? file.declaredType)}`,
    blocks: compact([
      file.sizeMatchesDeclared ? null : { kind: 'note', tone: 'error', text: 'The stored file is not the size the upload announced.' },
      file.typeCheck === 'mismatch'
        ? { kind: 'note', tone: 'warning', text: `The file was declared as ${describeType(file.declaredType)}, but its bytes are ${file.sniffedType === null ? file.kind : describeTypeWithArticle(file.sniffedType)}.` }
        : null,
      encodingNote,
      {
        kind: 'facts',
        facts: [
          { label: 'Type', value: typeVerdict(file) },
          ...(file.size < 1024 ? [] : [{ label: 'Size', value: plural(file.size, 'byte') }]),
          { label: 'SHA-256', value: file.sha256, mono: true },
          ...encoding,
        ],
      },
    ]),
  };
}

function cell(value: number | string | null): string {
  if (value === null) return '—';
  return typeof value === 'number' ? formatNumber(value) : value;
}

const columnTypeWords: Record<string, string> = {
  integer: 'whole number',
  number: 'number',
  boolean: 'yes/no',
  date: 'date',
  datetime: 'date and time',
  string: 'text',
  empty: 'empty',
};

const delimiterWords: Record<string, string> = { comma: 'comma', tab: 'tab', semicolon: 'semicolon', pipe: 'vertical bar (|)' };

const malformationWords: Record<string, string> = {
  'quote-in-unquoted-field': 'a quote inside an unquoted field',
  'text-after-closing-quote': 'text after a closing quote',
  'unclosed-quote': 'a quote that is never closed',
};

function describeCsv(csv: CsvSummary): ResultSection {
  const names = csv.columnProfiles.map((column) => column.name);
  const width = Math.max(names.length, ...csv.sampleRows.map((row) => row.length));
  const sampleHead = Array.from({ length: width }, (_, index) => names[index] ?? `column_${index + 1}`);
  const firstRagged = csv.firstRaggedRows[0];
  const malformed = csv.malformedRows ?? 0;
  const firstMalformed = csv.firstMalformedRows?.[0];
  const withStats = csv.columnProfiles.some((column) => column.distinct !== undefined);
  const allCharts = compactCharts(csv.columnProfiles.map(columnChart));
  const charts = allCharts.slice(0, maxCharts);
  const unprofiled = csv.columns - csv.columnProfiles.length;
  return {
    analyzer: 'csv',
    title: csv.delimiter === 'tab' ? 'TSV profile' : 'CSV profile',
    headline: csvShape(csv),
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
      malformed > 0
        ? {
            kind: 'note',
            tone: 'warning',
            text: `${plural(malformed, 'row')} ${malformed === 1 ? 'was' : 'were'} read leniently, as spreadsheets and pandas read them${
              firstMalformed === undefined ? '' : ` (first: line ${formatNumber(firstMalformed.line)}, ${malformationWords[firstMalformed.problem] ?? firstMalformed.problem})`
            }.`,
          }
        : null,
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
        kind: 'facts',
        facts: [
          { label: 'Delimiter', value: delimiterWords[csv.delimiter] ?? csv.delimiter },
          { label: 'Header row', value: csv.hasHeader ? `yes${csv.headerReason ? `: ${lowerFirst(csv.headerReason)}` : ''}` : `no, the columns are numbered${csv.headerReason ? `: ${lowerFirst(csv.headerReason)}` : ''}` },
        ],
      },
      {
        kind: 'table',
        caption: unprofiled > 0 ? `Columns (the first ${formatNumber(csv.columnProfiles.length)} of ${formatNumber(csv.columns)})` : 'Columns',
        head: withStats ? ['Column', 'Type', 'Values', 'Empty', 'Distinct', 'Min', 'Max', 'Mean'] : ['Column', 'Type', 'Empty', 'Min', 'Max'],
        rows: csv.columnProfiles.map((column) => (withStats ? columnRow(column) : [column.name, typeWord(column.type), formatNumber(column.empty), cell(column.min), cell(column.max)])),
        numeric: withStats ? [2, 3, 4, 7] : [2],
      },
      charts.length > 0
        ? { kind: 'charts', caption: allCharts.length > charts.length ? `Distributions (the first ${charts.length} of ${formatNumber(allCharts.length)} columns with one)` : 'Distributions', charts }
        : null,
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

function typeWord(type: string): string {
  return columnTypeWords[type] ?? type;
}

function columnRow(column: ColumnSummary): string[] {
  const distinct = column.distinct === undefined ? '—' : `${column.distinctEstimated === true ? '≈ ' : ''}${formatNumber(column.distinct)}`;
  return [
    column.name,
    typeWord(column.type),
    column.values === undefined ? '—' : formatNumber(column.values),
    formatNumber(column.empty + (column.nulls ?? 0)),
    distinct,
    cell(column.min),
    cell(column.max),
    column.mean === undefined ? '—' : formatNumber(roundTo(column.mean, 6)),
  ];
}

/** Significant digits, for figures a person reads (the raw JSON keeps them all). */
function roundTo(value: number, digits: number): number {
  return value === 0 || !Number.isFinite(value) ? value : Number(value.toPrecision(digits));
}

function compactCharts(charts: Array<Chart | null>): Chart[] {
  return charts.filter((chart): chart is Chart => chart !== null);
}

/**
 * A numeric or date column's histogram; a text or yes/no column's most frequent values as bars,
 * unless every value is different (bars of one would say nothing the distinct count does not).
 */
export function columnChart(column: ColumnSummary): Chart | null {
  if (column.histogram !== undefined && column.histogram.counts.length > 0) return histogramChart(column, column.histogram);
  const top = column.topValues ?? [];
  if (top.length === 0 || (top[0]?.count ?? 0) <= 1) return null;
  const bars = top.slice(0, maxBars).map((value) => ({ label: value.value === '' ? '(empty)' : value.value, count: value.count }));
  const total = column.values ?? bars.reduce((sum, bar) => sum + bar.count, 0);
  const shown = bars.reduce((sum, bar) => sum + bar.count, 0);
  const other = Math.max(0, total - shown);
  const estimated = column.topValuesEstimated === true ? ' (at least)' : '';
  const summary = `${column.name}: ${plural(total, 'value')}; most frequent${estimated}: ${bars.map((bar) => `${bar.label} ${formatNumber(bar.count)}`).join(', ')}${
    other > 0 ? `; ${formatNumber(other)} others` : ''
  }.`;
  return { kind: 'bars', column: column.name, bars, total, summary };
}

function histogramChart(column: ColumnSummary, histogram: z.infer<typeof histogramSchema>): Chart | null {
  const dates = typeof histogram.min === 'string' || typeof histogram.max === 'string';
  const low = dates ? Date.parse(String(histogram.min)) : Number(histogram.min);
  const high = dates ? Date.parse(String(histogram.max)) : Number(histogram.max);
  if (!Number.isFinite(low) || !Number.isFinite(high) || high < low) return null;
  const { counts } = histogram;
  const width = (high - low) / counts.length;
  const edge = (value: number) => (dates ? formatDateEdge(value, column.type === 'datetime') : formatNumber(roundTo(value, 6)));
  const binLabels = counts.map((count, index) => `${edge(low + index * width)} to ${edge(low + (index + 1) * width)}: ${formatNumber(count)}`);
  const total = counts.reduce((sum, count) => sum + count, 0);
  const fullest = counts.indexOf(Math.max(...counts));
  const summary = `${column.name}: ${plural(total, 'value')} from ${edge(low)} to ${edge(high)} in ${plural(counts.length, 'bin')}; the fullest, ${binLabels[fullest] ?? ''}.`;
  return { kind: 'histogram', column: column.name, counts, from: edge(low), to: edge(high), binLabels, summary };
}

function formatDateEdge(ms: number, withTime: boolean): string {
  const iso = new Date(ms).toISOString();
  return withTime ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}

function describeJson(json: JsonSummary): ResultSection {
  const where = jsonWhere(json);
  const inRecords = json.topLevelType === 'array';
  return {
    analyzer: 'json',
    title: 'JSON',
    headline: json.valid ? `Valid: ${jsonShape(json)}` : `Invalid at ${where}`,
    blocks: compact([
      json.error ? { kind: 'note', tone: 'warning', text: `${json.error.message} (${where}, byte ${formatNumber(json.error.offset)}). The figures cover what came before it.` } : null,
      {
        kind: 'facts',
        facts: [
          { label: 'Top level', value: json.valid ? jsonShape(json) : (json.topLevelType ?? 'nothing readable') },
          ...(json.keyCount > 0 || json.keys.length > 0 ? [{ label: inRecords ? 'Keys in the records' : 'Keys', value: `${formatNumber(json.keyCount)}${exactness(json)}` }] : []),
          { label: 'Deepest nesting', value: plural(json.maxDepth, 'level') },
          ...(json.bom ? [{ label: 'Byte order mark', value: 'yes' }] : []),
        ],
      },
      keyList(inRecords ? 'Keys in the records' : 'Keys', json.keys, json.keyCount, json.keysTruncated),
    ]),
  };
}

function describeNdjson(ndjson: NdjsonSummary): ResultSection {
  const types = Object.entries(ndjson.types)
    .filter(([, count]) => count > 0)
    .map(([type, count]) => `${formatNumber(count)} ${type === 'object' ? (count === 1 ? 'object' : 'objects') : type}`)
    .join(', ');
  return {
    analyzer: 'ndjson',
    title: 'NDJSON',
    headline: `${plural(ndjson.records, 'record')} on ${plural(ndjson.lines, 'line')}${ndjson.badLines > 0 ? `, ${plural(ndjson.badLines, 'bad line')}` : ''}`,
    blocks: compact([
      {
        kind: 'facts',
        facts: [
          { label: 'Records', value: types || '—' },
          ...(ndjson.blankLines > 0 ? [{ label: 'Blank lines', value: formatNumber(ndjson.blankLines) }] : []),
        ],
      },
      ndjson.firstBadLines.length > 0
        ? {
            kind: 'table',
            caption: ndjson.badLines > ndjson.firstBadLines.length ? `First ${ndjson.firstBadLines.length} of ${formatNumber(ndjson.badLines)} lines that are not JSON` : 'Lines that are not JSON',
            head: ['Line', 'Problem'],
            rows: ndjson.firstBadLines.map((bad) => [formatNumber(bad.line), bad.error]),
            numeric: [0],
          }
        : null,
      keyList('Keys', ndjson.keys, ndjson.keys.length, ndjson.keysTruncated),
    ]),
  };
}

const encodingNames: Record<string, string> = { 'utf-8': 'UTF-8', 'utf-16le': 'UTF-16 (little-endian)', 'utf-16be': 'UTF-16 (big-endian)' };

function encodingName(encoding: string): string {
  return encodingNames[encoding] ?? encoding;
}

/** The encoding in words, with what is wrong with it. */
function encodingText(text: TextSummary): string {
  const badSequences = `${plural(text.invalidSequences, 'bad sequence')}${
    text.firstInvalidByteOffset === null ? '' : `, the first at byte ${formatNumber(text.firstInvalidByteOffset)}`
  }`;
  // UTF-16 is not UTF-8, but is no fault; 8-bit text read as windows-1252 is counted as what is not UTF-8.
  if (text.encoding === 'utf-8') return text.utf8Valid ? 'valid UTF-8' : `not valid UTF-8: ${badSequences}`;
  if (text.encodingGuessed === true) return `${encodingName(text.encoding)} (a guess: not UTF-8, ${badSequences})`;
  return `${encodingName(text.encoding)}${text.invalidSequences > 0 ? `, ${badSequences}` : ''}`;
}

function encodingWarning(text: TextSummary): Block | null {
  return encodingProblem(text) === null ? null : { kind: 'note', tone: 'warning', text: `The text is ${encodingText(text)}.` };
}

function textEncodingFacts(text: TextSummary): Fact[] {
  return [
    { label: 'Encoding', value: `${encodingText(text)}${text.bom ? ', with a byte order mark' : ''}` },
    { label: 'Line endings', value: `${text.lineEnding}${text.endsWithNewline ? '' : ', no newline at the end'}` },
  ];
}

function describeText(text: TextSummary): ResultSection {
  return {
    analyzer: 'text',
    title: 'Text',
    headline: `${plural(text.lines, 'line')} · ${plural(text.words, 'word')} · ${plural(text.characters, 'character')}`,
    blocks: compact([
      encodingWarning(text),
      {
        kind: 'facts',
        facts: [
          {
            label: 'Longest line',
            value: text.longestLineNumber > 0 ? `${plural(text.longestLineCharacters, 'character')} (line ${formatNumber(text.longestLineNumber)})` : '—',
          },
          ...textEncodingFacts(text),
        ],
      },
    ]),
  };
}

const pngColourTypes: Record<number, string> = { 0: 'greyscale', 2: 'RGB colour', 3: 'indexed colour (a palette)', 4: 'greyscale with transparency', 6: 'RGB colour with transparency' };
const jpegComponents: Record<number, string> = { 1: 'greyscale', 3: 'colour (YCbCr)', 4: 'CMYK colour' };

/** The format's header details in words: colour, depth, encoding; header bookkeeping left out. */
function imageFacts(format: string | null, details: ImageSummary['details']): Fact[] {
  const facts: Fact[] = [];
  const number = (key: string) => (typeof details[key] === 'number' ? details[key] : undefined);
  const flag = (key: string) => details[key] === true;
  if (format === 'png') {
    const colour = pngColourTypes[number('colorType') ?? -1];
    const depth = number('bitDepth');
    if (colour !== undefined) facts.push({ label: 'Colour', value: `${colour}${depth === undefined ? '' : `, ${plural(depth, 'bit')} per channel`}` });
    if (flag('interlaced')) facts.push({ label: 'Encoding', value: 'interlaced (loads progressively)' });
  } else if (format === 'jpeg') {
    const colour = jpegComponents[number('components') ?? -1];
    if (colour !== undefined) facts.push({ label: 'Colour', value: colour });
    if (typeof details.process === 'string') facts.push({ label: 'Encoding', value: `${details.process} JPEG` });
  } else if (format === 'webp') {
    const kinds = compactStrings([
      typeof details.bitstream === 'string' && details.bitstream !== 'extended' ? details.bitstream : null,
      flag('animated') ? 'animated' : null,
      flag('alpha') ? 'with transparency' : null,
    ]);
    if (kinds.length > 0) facts.push({ label: 'Encoding', value: kinds.join(', ') });
  } else if (format === 'gif' && typeof details.version === 'string') {
    facts.push({ label: 'Version', value: `GIF${details.version}` });
  }
  return facts;
}

function describeImage(image: ImageSummary): ResultSection {
  const format = image.format?.toUpperCase() ?? 'Unknown format';
  const dimensions = image.width !== null && image.height !== null ? `${formatNumber(image.width)} × ${formatNumber(image.height)} pixels` : null;
  return {
    analyzer: 'image',
    title: 'Image',
    headline: image.valid ? `${format}${dimensions ? ` · ${dimensions}` : ''}` : 'Not a readable image',
    blocks: compact([
      image.error ? { kind: 'note', tone: 'warning', text: image.error } : null,
      image.valid ? { kind: 'facts', facts: imageFacts(image.format, image.details) } : null,
    ]).filter((block) => block.kind !== 'facts' || block.facts.length > 0),
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
