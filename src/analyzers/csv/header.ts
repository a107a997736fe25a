// Is the first row a header? Python's csv.Sniffer.has_header asks each column whether its first
// cell differs from the cells below in type, or in length where the column's values all have
// one length, and lets the columns vote. This does the same against whole-column profiles (not
// 20 sampled rows), with the kinds told apart more finely, and three more signs that real files
// carry:
// - a blank first cell over a column that is never blank: pandas writes its index that way
//   (`,a,b`);
// - names that are consecutive whole numbers beside a text name (`Country,2019,2020`), which
//   the first data row does not repeat: years, as column names, fit an integer column by type;
// - when no column tells either way, a first row that is all text is taken as names (what pandas
//   and spreadsheets assume), otherwise as data.
// Repeated names do not matter. The decision comes with the reason, for people to check.

import type { ColumnType } from './column.js';
import { kindBoolean, kindDate, kindDatetime, kindDecimal, kindInteger, kindString, type CellKind } from './values.js';

/** What header detection needs of a column's data rows (the first row left out). */
export type ColumnShape = {
  type: ColumnType;
  values: number;
  empty: number;
  /** Values that are integers (to tell a whole-number name over decimals). */
  integers: number;
  minLength: number | null;
  maxLength: number | null;
};

/** The first row's cell as read: its trimmed text, kind (null when blank) and length in characters. */
export type FirstCell = { text: string; kind: CellKind | null; length: number };

export type HeaderDecision = { hasHeader: boolean; reason: string };

/** Evidence listed in a reason; the counts cover all of it. */
const maxListedEvidence = 3;
const maxQuotedNameChars = 24;
const wholeNumber = /^\d+$/;

const typeNames: Record<ColumnType, string> = {
  integer: 'whole numbers',
  number: 'numbers',
  boolean: 'true/false',
  date: 'dates',
  datetime: 'date-times',
  string: 'text',
  empty: 'nothing',
};

function fitsType(kind: CellKind, type: ColumnType): boolean {
  switch (type) {
    case 'integer':
      return kind === kindInteger;
    case 'number':
      return kind === kindInteger || kind === kindDecimal;
    case 'boolean':
      return kind === kindBoolean;
    case 'date':
      return kind === kindDate;
    case 'datetime':
      return kind === kindDate || kind === kindDatetime;
    default:
      return true;
  }
}

function quoted(text: string): string {
  return text.length > maxQuotedNameChars ? `"${text.slice(0, maxQuotedNameChars)}…"` : `"${text}"`;
}

type Verdict = { vote: -1 | 0 | 1; why: string };
const noVerdict: Verdict = { vote: 0, why: '' };

/**
 * Decides from the first row's cells, the shape of each column below it, and the first data
 * row's cells (to see whether it repeats a pattern of the first).
 */
export function detectHeader(first: readonly FirstCell[], columns: readonly ColumnShape[], secondRow: readonly string[] | null): HeaderDecision {
  const verdicts = first.map((cell, index) => columnVerdict(cell, columns[index], index));
  yearLikeNames(first, secondRow, verdicts);
  const forHeader = verdicts.filter((verdict) => verdict.vote > 0);
  const forData = verdicts.filter((verdict) => verdict.vote < 0);
  const score = forHeader.length - forData.length;
  if (score !== 0) {
    const hasHeader = score > 0;
    const [winning, losing] = hasHeader ? [forHeader, forData] : [forData, forHeader];
    const reasons = [...new Set(winning.map((verdict) => verdict.why))];
    const more = reasons.length - maxListedEvidence;
    const listed = reasons.slice(0, maxListedEvidence).join('; ') + (more > 0 ? `; and ${more} more` : '');
    return {
      hasHeader,
      reason:
        `The first row ${hasHeader ? 'differs from' : 'fits'} the rows below in ${winning.length} ${winning.length === 1 ? 'column' : 'columns'}` +
        `${losing.length > 0 ? ` (${losing.length} against)` : ''}: ${listed}.`,
    };
  }
  const allText = first.length > 0 && first.every((cell) => cell.kind === kindString);
  const tie = forHeader.length > 0 ? `Columns are split (${forHeader.length} for a header, ${forData.length} against)` : 'No column tells';
  return allText
    ? { hasHeader: true, reason: `${tie}; the first row is all text, taken as column names.` }
    : { hasHeader: false, reason: `${tie}; the first row holds numbers, dates, booleans or blanks, taken as data.` };
}

function columnVerdict(cell: FirstCell, column: ColumnShape | undefined, index: number): Verdict {
  if (column === undefined || column.values === 0) return noVerdict;
  if (cell.kind === null) {
    return column.empty > 0 ? noVerdict : { vote: 1, why: `a blank name over a column never blank (column ${index + 1})` };
  }
  const typed = column.type !== 'string' && column.type !== 'empty';
  if (typed && !fitsType(cell.kind, column.type)) return { vote: 1, why: `${quoted(cell.text)} over ${typeNames[column.type]}` };
  if (column.type === 'number' && cell.kind === kindInteger && column.integers === 0) {
    return { vote: 1, why: `${quoted(cell.text)}, a whole number, over decimals` };
  }
  const fixedLength = column.values >= 2 && column.minLength !== null && column.minLength === column.maxLength ? column.minLength : null;
  if (fixedLength !== null) {
    return cell.length !== fixedLength
      ? { vote: 1, why: `${quoted(cell.text)} over values all ${fixedLength} characters long` }
      : { vote: -1, why: `${quoted(cell.text)} as long as the values below` };
  }
  return typed ? { vote: -1, why: `${quoted(cell.text)} fits ${typeNames[column.type]}` } : noVerdict;
}

/**
 * Whole numbers counting up by one across two or more neighbouring cells of a first row that
 * also names a column in text (`Country,2019,2020`): column names such as years. They fit an
 * integer column by type, so the type vote said data; the first data row tells: the same run
 * there would make them data after all.
 */
function yearLikeNames(first: readonly FirstCell[], secondRow: readonly string[] | null, verdicts: Verdict[]): void {
  if (!first.some((cell) => cell.kind === kindString)) return;
  const countsUp = (cells: readonly (string | undefined)[], index: number) => {
    const left = cells[index];
    const right = cells[index + 1];
    return left !== undefined && right !== undefined && wholeNumber.test(left) && wholeNumber.test(right) && Number(right) === Number(left) + 1;
  };
  const names = first.map((cell) => (cell.kind === kindInteger ? cell.text : undefined));
  const below = secondRow?.map((cell) => cell.trim()) ?? [];
  for (let start = 0; start < first.length; ) {
    let end = start;
    while (countsUp(names, end)) end += 1;
    const repeated = end > start && Array.from({ length: end - start }, (_, offset) => start + offset).every((index) => countsUp(below, index));
    if (end > start && !repeated) {
      const why = `${quoted(first[start]?.text ?? '')} to ${quoted(first[end]?.text ?? '')} count up by one, as names such as years do`;
      // Columns that already tell a header apart keep their own reason.
      for (let index = start; index <= end; index += 1) if ((verdicts[index] as Verdict).vote <= 0) verdicts[index] = { vote: 1, why };
    }
    start = end + 1;
  }
}

