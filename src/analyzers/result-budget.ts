// Every result is storable and small, whatever the file held (docs/processing.md: a byte budget
// well under the platform's 1 MB). Two steps over the summaries runAnalyzers collected:
//
// 1. Storable: Postgres refuses U+0000 in json/jsonb ("unsupported Unicode escape sequence"), jsonb
//    refuses unpaired surrogates, and both refuse nesting past the server's stack depth. Strings
//    and keys holding those characters get U+FFFD instead, and the summary says how many
//    (`replacedCharacters`); a deeper container becomes null.
// 2. Within budget: each analyzer caps its own lists within its `summaryBudgetBytes` and marks
//    them (`keysTruncated`, …). A summary that still does not fit is an analyzer's bug or an
//    input nobody foresaw, so instead of failing the job, lists and strings are cut evenly until
//    it fits and the summary says so (`truncatedToBudget`); the shape stays the same, so readers
//    of the result (page, CLI) keep working.
import type { AnalyzerCrash, JsonObject, JsonValue } from './types.js';

/**
 * The whole result as JSON (UTF-8). The platform caps a function's result at 1 MB, and the status
 * answer carries the result plus the job's history; a quarter of that leaves room, and a page
 * still renders it at once.
 */
export const resultBudgetBytes = 256 * 1024;
/** For an analyzer that names no budget: room for a few capped lists. */
export const defaultSummaryBudgetBytes = 64 * 1024;
/** Nesting a summary may have; no analyzer needs more, and Postgres' json parser recurses per level. */
export const maxSummaryDepth = 32;
/** Braces, quotes, colons and commas of the result object around the summaries, per analyzer. */
const envelopeBytesPerSummary = 64;

/** The limits a summary over budget is cut to, tried in order until it fits. */
const cutLadder: readonly { items: number; chars: number }[] = [
  { items: 1000, chars: 4096 },
  { items: 500, chars: 2048 },
  { items: 200, chars: 1024 },
  { items: 100, chars: 512 },
  { items: 50, chars: 256 },
  { items: 20, chars: 128 },
  { items: 10, chars: 64 },
  { items: 5, chars: 32 },
  { items: 1, chars: 16 },
  { items: 0, chars: 0 },
];

/** U+0000 and UTF-16 surrogates (paired ones are told apart below). */
// eslint-disable-next-line no-control-regex -- finding U+0000 is the point
const suspectCharacters = /[\u0000\uD800-\uDFFF]/;

export type BudgetedSummary = { name: string; summary: JsonObject | AnalyzerCrash; budgetBytes: number };

/** Sanitised and within budget, in the order given; see the top of this file. */
export function fitResult(entries: readonly BudgetedSummary[]): Record<string, JsonObject> {
  const fitted = entries.map(({ name, summary, budgetBytes }) => {
    const { value, replaced } = storable(summary as JsonObject);
    const original = replaced > 0 ? { ...value, replacedCharacters: replaced } : value;
    return { name, original, summary: fitSummary(original, budgetBytes) };
  });
  // Budgets of analyzers that run together may add up to more than the whole (custom analyzer
  // sets, a default budget): then the largest summary gives way until the result fits.
  const available = resultBudgetBytes - envelopeBytesPerSummary * fitted.length;
  for (;;) {
    const sizes = fitted.map((entry) => jsonBytes(entry.summary));
    const excess = sizes.reduce((sum, size) => sum + size, 0) - available;
    if (excess <= 0) break;
    const largest = sizes.indexOf(Math.max(...sizes));
    const entry = fitted[largest] as (typeof fitted)[number];
    const smaller = fitSummary(entry.original, Math.max(0, (sizes[largest] as number) - excess));
    // A summary already down to its mark cannot give more; only thousands of analyzers get here.
    if (jsonBytes(smaller) >= (sizes[largest] as number)) break;
    entry.summary = smaller;
  }
  const result: Record<string, JsonObject> = {};
  for (const { name, summary } of fitted) result[name] = summary;
  return result;
}

/** UTF-8 length of the JSON text of `value`: what the budget counts. */
export function jsonBytes(value: JsonValue): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** A copy without characters Postgres cannot store, and how many were replaced. */
export function storable(value: JsonObject): { value: JsonObject; replaced: number } {
  const counter = { replaced: 0 };
  return { value: storableValue(value, 0, counter) as JsonObject, replaced: counter.replaced };
}

function storableValue(value: JsonValue, depth: number, counter: { replaced: number }): JsonValue {
  if (typeof value === 'string') return storableString(value, counter);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= maxSummaryDepth) return null;
  if (Array.isArray(value)) return value.map((item) => storableValue(item, depth + 1, counter));
  const copy: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const safeKey = storableString(key, counter);
    // Two keys that differ only in replaced characters: the first one stays.
    if (!(safeKey in copy)) copy[safeKey] = storableValue(item, depth + 1, counter);
  }
  return copy;
}

function storableString(text: string, counter: { replaced: number }): string {
  if (!suspectCharacters.test(text)) return text;
  let out = '';
  let from = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit !== 0 && (unit < 0xd800 || unit > 0xdfff)) continue;
    if (unit >= 0xd800 && unit < 0xdc00) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        index += 1;
        continue;
      }
    }
    out += `${text.slice(from, index)}\uFFFD`;
    from = index + 1;
    counter.replaced += 1;
  }
  return out + text.slice(from);
}

/** `summary` as it is when within `budgetBytes`, else cut (see cutLadder) and marked. */
export function fitSummary(summary: JsonObject, budgetBytes: number): JsonObject {
  const bytes = jsonBytes(summary);
  if (bytes <= budgetBytes) return summary;
  const mark = { truncatedToBudget: { bytes, budgetBytes } };
  for (const limits of cutLadder) {
    const cut: JsonObject = { ...(cutValue(summary, limits, 0) as JsonObject), ...mark };
    if (jsonBytes(cut) <= budgetBytes) return cut;
  }
  // Even every list empty and every string blank is too much (thousands of top-level fields).
  return mark;
}

function cutValue(value: JsonValue, limits: { items: number; chars: number }, depth: number): JsonValue {
  if (typeof value === 'string') return cutString(value, limits.chars);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, limits.items).map((item) => cutValue(item, limits, depth + 1));
  // The summary's own fields stay (readers expect them); nested objects may be maps, so they are cut.
  const entries = Object.entries(value);
  const kept = depth === 0 ? entries : entries.slice(0, limits.items);
  const copy: JsonObject = {};
  for (const [key, item] of kept) copy[key] = cutValue(item, limits, depth + 1);
  return copy;
}

function cutString(text: string, chars: number): string {
  if (text.length <= chars) return text;
  let end = chars;
  // Never split a surrogate pair: half of one is what Postgres refuses.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last < 0xdc00) end -= 1;
  return `${text.slice(0, Math.max(0, end - 1))}…`;
}
