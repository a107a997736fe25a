// Fits the CSV summary into its byte budget: the counts always, then as many column profiles as
// fit, in column order, in full (top values, quantiles, histogram) while there is room and
// compact (counts, type, range) after that, each with its name in `header`. What was cut is said
// in `incomplete`.

import type { CsvColumnSummary } from './column.js';
import type { CompactProfile, CsvSummary, ProfileEntry } from '../csv.js';

/** At most this share of the budget goes to sample rows; past it the last rows are dropped. */
const maxSampleShare = 0.25;

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

function compact(profile: CsvColumnSummary): CompactProfile & { detail: 'compact' } {
  const { name, type, values, empty, nulls, distinct, distinctEstimated, minLength, maxLength, min, max } = profile;
  return { name, type, values, empty, nulls, distinct, distinctEstimated, minLength, maxLength, min, max, detail: 'compact' };
}

/**
 * `summary` with its column profiles (from `profiles`) and sample rows cut to fit `budgetBytes`
 * of JSON. A summary whose fixed part alone exceeds the budget cannot happen: its lists are
 * bounded by the caller's caps well below it.
 */
export function fitToBudget(summary: CsvSummary, profiles: (topValues: number) => CsvColumnSummary[], budgetBytes: number, topValues: number): CsvSummary {
  const fitted: CsvSummary = { ...summary, columnProfiles: [], incomplete: [...summary.incomplete] };
  while (fitted.sampleRows.length > 0 && jsonBytes(fitted.sampleRows) > budgetBytes * maxSampleShare) {
    fitted.sampleRows = fitted.sampleRows.slice(0, -1);
    fitted.sampleRowsTruncated = true;
  }
  // Room for the notes this function may add, so adding them cannot break the budget.
  const notesBytes = 400;
  let available = budgetBytes - jsonBytes(fitted) - notesBytes;
  const all = profiles(topValues);
  const full = all.map((profile): ProfileEntry => ({ ...profile, detail: 'full' }));
  const compacts = all.map(compact);
  // Each entry costs its JSON and a comma, and with a header its name again in `header`.
  const nameBytes = all.map((profile) => (summary.header === null ? 0 : jsonBytes(profile.name) + 1));
  const fullBytes = full.map((entry, column) => jsonBytes(entry) + 1 + (nameBytes[column] as number));
  const compactBytes = compacts.map((entry, column) => jsonBytes(entry) + 1 + (nameBytes[column] as number));
  // When every column fits compact, full profiles in column order while every later column
  // still fits compact. When not, the first columns in full within half the room, then compact
  // ones while they fit: a wide file keeps a readable start and lists as many columns as it can.
  const laterCompact = compactBytes.map((_, column) => compactBytes.slice(column + 1).reduce((sum, bytes) => sum + bytes, 0));
  const allFitCompact = (laterCompact[0] ?? 0) + (compactBytes[0] ?? 0) <= available;
  const fullRoom = allFitCompact ? available : available / 2;
  const entries: ProfileEntry[] = [];
  let inFull = true;
  let usedFull = 0;
  for (let column = 0; column < all.length; column += 1) {
    const fullCost = fullBytes[column] as number;
    const compactCost = compactBytes[column] as number;
    inFull &&= allFitCompact ? fullCost + (laterCompact[column] as number) <= available : usedFull + fullCost <= fullRoom;
    const [entry, cost] = inFull ? [full[column] as ProfileEntry, fullCost] : [compacts[column] as ProfileEntry, compactCost];
    if (cost > available) break;
    entries.push(entry);
    available -= cost;
    if (inFull) usedFull += cost;
  }
  const compacted = entries.filter((entry) => entry.detail === 'compact').length;
  if (compacted > 0) {
    fitted.incomplete.push(
      `To fit the result, ${compacted} column ${compacted === 1 ? 'profile is' : 'profiles are'} compact (no top values, quantiles or histogram), from column ${entries.length - compacted + 1} on.`,
    );
  }
  if (entries.length < all.length) {
    fitted.incomplete.push(`To fit the result, only the first ${entries.length} of ${all.length} profiled columns are listed.`);
  }
  fitted.columnProfiles = entries;
  if (fitted.header !== null) fitted.header = entries.map((entry) => entry.name);
  fitted.complete = fitted.incomplete.length === 0;
  return fitted;
}
