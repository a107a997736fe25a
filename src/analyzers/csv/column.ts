// One column's profile, built cell by cell in bounded memory: kinds, lengths, value counts, and
// for numbers and dates the exact range, moments, quantiles and a histogram.

import { cellHash, hashCell } from './cell-hash.js';
import { Histogram, numberWidths, timeWidths, type HistogramSummary } from './histogram.js';
import { QuantileSketch } from './quantile-sketch.js';
import { ValueCounts, type TopValue, type WeightedValueSink } from './value-counts.js';
import {
  canonicalInteger,
  cellKinds,
  compareIntegerText,
  kindBoolean,
  kindDate,
  kindDatetime,
  kindDecimal,
  kindInteger,
  kindNull,
  kindString,
  type CellKind,
  type CellKindName,
  type CellReader,
} from './values.js';

export type ColumnType = 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'string' | 'empty';

/** Quantiles reported for numeric columns. */
const quantilePoints = [
  ['p5', 0.05],
  ['p25', 0.25],
  ['p50', 0.5],
  ['p75', 0.75],
  ['p95', 0.95],
] as const;
export type Quantiles = Record<(typeof quantilePoints)[number][0], number>;
/** Significant digits kept in means, deviations and quantiles: the rest is rounding noise. */
const reportedDigits = 12;
const utf8 = new TextDecoder();

export type CsvColumnSummary = {
  name: string;
  /** The narrowest type every value fits (integers are numbers too; dates are date-times too). */
  type: ColumnType;
  /** Cells with a value: not empty, not a missing-value marker. */
  values: number;
  /** Blank cells, plus cells missing from rows shorter than this column. */
  empty: number;
  /** Missing-value markers pandas reads as NaN by default: `NA`, `N/A`, `null`, `#N/A`, … */
  nulls: number;
  /** How many values are of each kind (kinds with none left out): why a column is `string`. */
  kinds: Partial<Record<Exclude<CellKindName, 'null'>, number>>;
  /** Distinct values; exact unless `distinctEstimated` (HyperLogLog, about 1.6 % standard error). */
  distinct: number;
  distinctEstimated: boolean;
  /**
   * The most frequent values, most frequent first. When `topValuesEstimated`, each count is a
   * lower bound, short of the true count by at most `topValuesMaxError`, and only values
   * certainly more frequent than that are listed.
   */
  topValues: TopValue[];
  topValuesEstimated: boolean;
  topValuesMaxError: number;
  /** Length of the values in characters (surrounding spaces not counted). */
  minLength: number | null;
  maxLength: number | null;
  /**
   * Numbers (integers beyond 2^53 as exact decimal strings) for number columns, the text as
   * written for date columns, null otherwise.
   */
  min: number | string | null;
  max: number | string | null;
  /** Numeric columns: arithmetic mean and sample standard deviation. */
  mean?: number;
  stddev?: number | null;
  /** Numeric columns: exact (linear interpolation, as pandas) unless `quantilesEstimated` (DDSketch, within 1 %). */
  quantiles?: Quantiles;
  quantilesEstimated?: boolean;
  /**
   * Numeric and date columns: equal-width bins from `min` to `max` (numbers, or ISO 8601 UTC
   * date-times for dates), exact counts.
   */
  histogram?: HistogramSummary | DateHistogram;
};

export type DateHistogram = { min: string; max: string; counts: number[] };

/** Bytes kept of a date or a long integer that is the column's minimum or maximum. */
class Extreme {
  private buffer = new Uint8Array(64);
  private length = 0;

  set(bytes: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length > this.buffer.length) this.buffer = new Uint8Array(length);
    for (let index = 0; index < length; index += 1) this.buffer[index] = bytes[start + index] as number;
    this.length = length;
  }

  clear(): void {
    this.length = 0;
  }

  get empty(): boolean {
    return this.length === 0;
  }

  text(): string {
    return utf8.decode(this.buffer.subarray(0, this.length));
  }
}

function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x09;
}

function tidy(value: number): number {
  return Number(value.toPrecision(reportedDigits));
}

export class ColumnProfile implements WeightedValueSink {
  private readonly kinds = new Float64Array(cellKinds.length);
  private minLength = Infinity;
  private maxLength = 0;
  private readonly counts: ValueCounts;

  // Numbers: West's weighted form of Welford's running mean and sum of squared deviations,
  // and the exact extremes.
  private numbers = 0;
  private mean = 0;
  private squaredDeviations = 0;
  private minNumber = Infinity;
  private maxNumber = -Infinity;
  /** The digits of an extreme that is an integer beyond 2^53, where the double is not exact. */
  private readonly minInteger = new Extreme();
  private readonly maxInteger = new Extreme();
  private sketch: QuantileSketch | null = null;
  private numberHistogram: Histogram | null = null;

  private minTime = Infinity;
  private maxTime = -Infinity;
  private readonly minDate = new Extreme();
  private readonly maxDate = new Extreme();
  private timeHistogram: Histogram | null = null;

  constructor(
    private readonly reader: CellReader,
    distinctCapacity: number,
  ) {
    this.counts = new ValueCounts(distinctCapacity, this);
  }

  /**
   * One cell: `bytes[start..end)`, whose full length is `length` (more when it was cut). A value
   * the column has seen costs a hash and a lookup; only a new one is read, and its length and
   * extremes looked at (the same value cannot change them).
   */
  add(bytes: Uint8Array, start: number, end: number, length: number, escapedQuotes: number): void {
    // Bytes of a cut cell past the kept ones (each counted as a character).
    const beyondKept = length - (end - start);
    const cut = beyondKept > 0;
    while (start < end && isBlank(bytes[start] as number)) start += 1;
    if (!cut) while (end > start && isBlank(bytes[end - 1] as number)) end -= 1;
    if (start === end) return;
    hashCell(bytes, start, end);
    const { hash, check } = cellHash;
    const counts = this.counts;
    if (!counts.tallying) {
      this.addUntallied(bytes, start, end, beyondKept - escapedQuotes, hash, escapedQuotes > 0);
      return;
    }
    const slot = counts.find(hash, check);
    if (slot >= 0) {
      // Cut cells alike in their kept bytes may differ in length.
      if (cut && counts.kindAt(slot) !== kindNull) this.addLength(this.charactersOf(bytes, start, end) + beyondKept - escapedQuotes);
      return;
    }
    const reader = this.reader;
    // A value holding a quote is text; its doubled quotes count once.
    const kind = escapedQuotes > 0 ? kindString : reader.classify(bytes, start, end);
    const value = kind === kindInteger || kind === kindDecimal ? reader.number : kind === kindDate || kind === kindDatetime ? reader.time : Number.NaN;
    const characters = this.charactersOf(bytes, start, end) + beyondKept - escapedQuotes;
    counts.insert(hash, check, kind, value, characters, bytes, start, end, cut, escapedQuotes > 0);
    if (kind === kindNull) return;
    this.addLength(characters);
    if (kind === kindInteger || kind === kindDecimal) this.addExtremes(value, kind === kindInteger && reader.exactInteger, bytes, start, end);
    else if (kind === kindDate || kind === kindDatetime) this.addTimeExtremes(value, bytes, start, end);
  }

  /** A cell of a column no longer tallied: read and counted on its own. */
  private addUntallied(bytes: Uint8Array, start: number, end: number, extraCharacters: number, hash: number, holdsQuote: boolean): void {
    const reader = this.reader;
    const kind = holdsQuote ? kindString : reader.classify(bytes, start, end);
    this.counts.addUntallied(hash, kind);
    const value = kind === kindInteger || kind === kindDecimal ? reader.number : kind === kindDate || kind === kindDatetime ? reader.time : Number.NaN;
    this.addWeighted(kind, value, 1);
    if (kind === kindNull) return;
    this.addLength(this.charactersOf(bytes, start, end) + extraCharacters);
    if (kind === kindInteger || kind === kindDecimal) this.addExtremes(value, kind === kindInteger && reader.exactInteger, bytes, start, end);
    else if (kind === kindDate || kind === kindDatetime) this.addTimeExtremes(value, bytes, start, end);
  }

  /** Characters are the bytes that do not continue a UTF-8 sequence. */
  private charactersOf(bytes: Uint8Array, start: number, end: number): number {
    let characters = end - start;
    if (!cellHash.ascii) for (let index = start; index < end; index += 1) if (((bytes[index] as number) & 0xc0) === 0x80) characters -= 1;
    return characters;
  }

  private addLength(characters: number): void {
    if (characters < this.minLength) this.minLength = characters;
    if (characters > this.maxLength) this.maxLength = characters;
  }

  /** `weight` occurrences of one value (ValueCounts flushes them). */
  addWeighted(kind: CellKind, value: number, weight: number): void {
    this.kinds[kind] = (this.kinds[kind] as number) + weight;
    if (kind === kindInteger || kind === kindDecimal) {
      if (!Number.isFinite(value)) return;
      this.numbers += weight;
      const delta = value - this.mean;
      this.mean += (delta * weight) / this.numbers;
      this.squaredDeviations += delta * (value - this.mean) * weight;
      (this.sketch ??= new QuantileSketch()).add(value, weight);
      (this.numberHistogram ??= new Histogram(numberWidths)).add(value, weight);
    } else if (kind === kindDate || kind === kindDatetime) {
      (this.timeHistogram ??= new Histogram(timeWidths)).add(value, weight);
    }
  }

  private addExtremes(value: number, unsafeInteger: boolean, bytes: Uint8Array, start: number, end: number): void {
    if (!Number.isFinite(value)) return;
    // Rounding to a double keeps order (a < b gives double(a) <= double(b)), so the digits are
    // needed only to break a tie between two integers beyond 2^53.
    if (value < this.minNumber || (value === this.minNumber && unsafeInteger && this.beyond(this.minInteger, bytes, start, end) < 0)) {
      this.minNumber = value;
      if (unsafeInteger) this.minInteger.set(bytes, start, end);
      else this.minInteger.clear();
    }
    if (value > this.maxNumber || (value === this.maxNumber && unsafeInteger && this.beyond(this.maxInteger, bytes, start, end) > 0)) {
      this.maxNumber = value;
      if (unsafeInteger) this.maxInteger.set(bytes, start, end);
      else this.maxInteger.clear();
    }
  }

  /** The cell's integer against the kept extreme (0 when there is none to compare). */
  private beyond(extreme: Extreme, bytes: Uint8Array, start: number, end: number): number {
    if (extreme.empty) return 0;
    return compareIntegerText(utf8.decode(bytes.subarray(start, end)), extreme.text());
  }

  private addTimeExtremes(time: number, bytes: Uint8Array, start: number, end: number): void {
    if (time < this.minTime) {
      this.minTime = time;
      this.minDate.set(bytes, start, end);
    }
    if (time > this.maxTime) {
      this.maxTime = time;
      this.maxDate.set(bytes, start, end);
    }
  }

  /** The column's summary, for `rows` data rows, with at most `topValues` top values. */
  summary(name: string, rows: number, topValues: number): CsvColumnSummary {
    this.counts.flush();
    const count = (kind: number) => this.kinds[kind] as number;
    const nulls = count(kindNull);
    const values = this.kinds.reduce((sum, kindCount) => sum + kindCount, 0) - nulls;
    const numbers = count(kindInteger) + count(kindDecimal);
    const times = count(kindDate) + count(kindDatetime);
    let type: ColumnType = 'string';
    if (values === 0) type = 'empty';
    else if (count(kindInteger) === values) type = 'integer';
    else if (numbers === values) type = 'number';
    else if (count(kindBoolean) === values) type = 'boolean';
    else if (count(kindDate) === values) type = 'date';
    else if (times === values) type = 'datetime';
    const kinds: CsvColumnSummary['kinds'] = {};
    cellKinds.forEach((kind, index) => {
      if (kind !== 'null' && count(index) > 0) kinds[kind] = count(index);
    });
    const distinct = this.counts.distinct();
    const summary: CsvColumnSummary = {
      name,
      type,
      values,
      empty: rows - values - nulls,
      nulls,
      kinds,
      distinct: distinct.count,
      distinctEstimated: distinct.estimated,
      topValues: this.counts.top(topValues),
      topValuesEstimated: this.counts.countError > 0,
      topValuesMaxError: this.counts.countError,
      minLength: values === 0 ? null : this.minLength,
      maxLength: values === 0 ? null : this.maxLength,
      min: null,
      max: null,
    };
    if ((type === 'integer' || type === 'number') && this.numbers > 0) this.addNumberSummary(summary, type === 'integer');
    if ((type === 'date' || type === 'datetime') && !this.minDate.empty) {
      summary.min = this.minDate.text();
      summary.max = this.maxDate.text();
      const histogram = this.timeHistogram?.summary() ?? null;
      if (histogram !== null) summary.histogram = { min: isoTime(histogram.min), max: isoTime(histogram.max), counts: histogram.counts };
    }
    return summary;
  }

  private addNumberSummary(summary: CsvColumnSummary, integers: boolean): void {
    summary.min = this.minInteger.empty ? this.minNumber : canonicalInteger(this.minInteger.text());
    summary.max = this.maxInteger.empty ? this.maxNumber : canonicalInteger(this.maxInteger.text());
    summary.mean = tidy(this.mean);
    summary.stddev = this.numbers > 1 ? tidy(Math.sqrt(this.squaredDeviations / (this.numbers - 1))) : null;
    const exact = this.counts.exactNumbers();
    const quantiles = {} as Quantiles;
    for (const [label, q] of quantilePoints) {
      let value = exact === null ? (this.sketch as QuantileSketch).quantile(q) : exactQuantile(exact.values, exact.counts, q);
      // The sketch's value is within 1 % of one at that rank; within the exact range, and a
      // whole number in an integer column, it reads as what it estimates.
      if (exact === null) value = Math.min(this.maxNumber, Math.max(this.minNumber, integers ? Math.round(value) : value));
      quantiles[label] = tidy(value);
    }
    summary.quantiles = quantiles;
    summary.quantilesEstimated = exact === null;
    const histogram = this.numberHistogram?.summary();
    if (histogram) summary.histogram = histogram;
  }
}

/** The q-quantile of values with counts (sorted by value), interpolating linearly between ranks. */
function exactQuantile(values: number[], counts: number[], q: number): number {
  const total = counts.reduce((sum, count) => sum + count, 0);
  const rank = q * (total - 1);
  const lower = Math.floor(rank);
  let seen = 0;
  let below = Number.NaN;
  for (let index = 0; index < values.length; index += 1) {
    seen += counts[index] as number;
    if (Number.isNaN(below) && seen > lower) below = values[index] as number;
    if (seen > lower + 1 || (seen > lower && rank === lower)) {
      const above = values[index] as number;
      return below + (above - below) * (rank - lower);
    }
  }
  return values[values.length - 1] as number;
}

function isoTime(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}
