// An exact histogram in fixed memory, for a stream whose range is not known in advance: the
// first values set the bin width, and whenever a value falls outside the bins, the width steps up
// a ladder in which every width is a whole multiple of the one before, so neighbouring bins merge
// into wider ones without losing a count. Bin edges are multiples of the width, so they read
// well (…, 0.2, 1, 2, 10, 20, … for numbers; seconds, minutes, hours, days, then doubling days
// for dates).

/** Most bins a histogram holds; a result usually shows between a fifth of this and all of it. */
export const maxHistogramBins = 64;
/** Values (distinct ones, each with its weight) held back to choose the first width from their range. */
const firstEstimateValues = 256;
const millisecondsPerDay = 86_400_000;

/** Bin widths by level: each is a whole multiple of the previous one. */
export interface WidthLadder {
  /** The width at `level` (any integer). */
  width(level: number): number;
  /** width(level + 1) / width(level), a whole number. */
  factor(level: number): number;
  /** The lowest level worth using for these first values (e.g. whole units for integers). */
  minLevel(values: Float64Array, count: number): number;
  /** A level at or a little below the one whose bins cover `span` in `maxHistogramBins`. */
  levelBelow(span: number): number;
}

/** 1, 2, 10, 20, 100, … and 0.2, 0.1, 0.02, …: factors of 2 and 5 in turn. */
export const numberWidths: WidthLadder = {
  width(level) {
    const decade = Math.floor(level / 2);
    const base = level - decade * 2 === 0 ? 1 : 2;
    // Division by an exact power of ten gives the nearest double to 0.1, 0.02, …
    return decade >= 0 ? base * 10 ** decade : base / 10 ** -decade;
  },
  factor(level) {
    return level - Math.floor(level / 2) * 2 === 0 ? 2 : 5;
  },
  minLevel(values, count) {
    for (let index = 0; index < count; index += 1) if (!Number.isInteger(values[index])) return -Infinity;
    return 0;
  },
  levelBelow(span) {
    return Math.floor(2 * Math.log10(span / maxHistogramBins)) - 2;
  },
};

const secondsLadder = [1, 2, 10, 30, 60, 120, 600, 1800, 3600, 7200, 21_600, 43_200, 86_400];
const dayLevel = secondsLadder.length - 1;

/** Milliseconds: 1 s, 2 s, 10 s, 30 s, 1 min, …, 12 h, 1 day, then 2, 4, 8, … days. */
export const timeWidths: WidthLadder = {
  width(level) {
    if (level <= 0) return 1000;
    if (level <= dayLevel) return (secondsLadder[level] as number) * 1000;
    return millisecondsPerDay * 2 ** (level - dayLevel);
  },
  factor(level) {
    return this.width(level + 1) / this.width(level);
  },
  minLevel(values, count) {
    for (let index = 0; index < count; index += 1) if ((values[index] as number) % millisecondsPerDay !== 0) return 0;
    return dayLevel;
  },
  levelBelow() {
    return 0;
  },
};

export type HistogramSummary = { min: number; max: number; counts: number[] };

export class Histogram {
  private readonly counts = new Float64Array(maxHistogramBins);
  private level = 0;
  /** widths.width(level), kept: computing it for every value showed in CPU profiles. */
  private width = 1;
  /** Bin number (value / width, rounded down) of counts[0]; NaN until the first estimate. */
  private first = Number.NaN;
  private held: Float64Array | null = new Float64Array(firstEstimateValues);
  private heldWeights = new Float64Array(firstEstimateValues);
  private heldCount = 0;

  constructor(private readonly widths: WidthLadder) {}

  /** `weight` occurrences of `value`. */
  add(value: number, weight: number): void {
    if (this.held !== null) {
      this.heldWeights[this.heldCount] = weight;
      this.held[this.heldCount++] = value;
      if (this.heldCount === firstEstimateValues) this.start();
      return;
    }
    let bin = this.binOf(value);
    // A loop: at the new width the value's bin may still lie one past the edge, by rounding.
    while (bin < this.first || bin >= this.first + maxHistogramBins) {
      this.widen(bin);
      bin = this.binOf(value);
    }
    const index = bin - this.first;
    this.counts[index] = (this.counts[index] as number) + weight;
  }

  /** The bins from the first to the last non-empty one, with their outer edges; null when empty. */
  summary(): HistogramSummary | null {
    if (this.held !== null) {
      if (this.heldCount === 0) return null;
      this.start();
    }
    let low = 0;
    let high = maxHistogramBins - 1;
    while (low < high && this.counts[low] === 0) low += 1;
    while (high > low && this.counts[high] === 0) high -= 1;
    const width = this.widths.width(this.level);
    return {
      min: tidy((this.first + low) * width),
      max: tidy((this.first + high + 1) * width),
      counts: Array.from(this.counts.subarray(low, high + 1)),
    };
  }

  /** The first estimate: the narrowest width at which the held values fit the bins. */
  private start(): void {
    const held = this.held as Float64Array;
    let min = Infinity;
    let max = -Infinity;
    for (let index = 0; index < this.heldCount; index += 1) {
      min = Math.min(min, held[index] as number);
      max = Math.max(max, held[index] as number);
    }
    // A little under the width the range needs, then up the ladder until it fits.
    const span = Math.max(max - min, Math.abs(max) * 1e-9, Number.MIN_VALUE);
    let level = Math.max(this.widths.levelBelow(span), this.widths.minLevel(held, this.heldCount));
    while (Math.floor(max / this.widths.width(level)) - Math.floor(min / this.widths.width(level)) >= maxHistogramBins) level += 1;
    this.setLevel(level);
    this.first = this.binOf(min);
    this.held = null;
    for (let index = 0; index < this.heldCount; index += 1) this.add(held[index] as number, this.heldWeights[index] as number);
  }

  /** Steps up the ladder until `bin` (at the current width) and every counted bin fit. */
  private widen(bin: number): void {
    let low = Math.min(bin, this.first + this.firstNonEmpty());
    let high = Math.max(bin, this.first + this.lastNonEmpty());
    const old = Float64Array.from(this.counts);
    const oldFirst = this.first;
    let scale = 1;
    while (high - low >= maxHistogramBins) {
      const factor = this.widths.factor(this.level);
      low = Math.floor(low / factor);
      high = Math.floor(high / factor);
      scale *= factor;
      this.setLevel(this.level + 1);
    }
    // Growing downwards the window starts at the new value, upwards it ends there.
    const first = bin < oldFirst ? low : high - maxHistogramBins + 1;
    this.counts.fill(0);
    for (let index = 0; index < maxHistogramBins; index += 1) {
      const count = old[index] as number;
      if (count === 0) continue;
      const target = Math.floor((oldFirst + index) / scale) - first;
      this.counts[target] = (this.counts[target] as number) + count;
    }
    this.first = first;
  }

  private setLevel(level: number): void {
    this.level = level;
    this.width = this.widths.width(level);
  }

  private firstNonEmpty(): number {
    for (let index = 0; index < maxHistogramBins; index += 1) if (this.counts[index] !== 0) return index;
    return 0;
  }

  private lastNonEmpty(): number {
    for (let index = maxHistogramBins - 1; index >= 0; index -= 1) if (this.counts[index] !== 0) return index;
    return 0;
  }

  /**
   * value / width rounded down, where a quotient a rounding error short of a whole number (0.3 /
   * 0.1 = 2.9999999999999996) counts as that number: decimal values on a bin edge belong to the
   * bin that starts there.
   */
  private binOf(value: number): number {
    const quotient = value / this.width;
    const nearest = Math.round(quotient);
    return Math.abs(quotient - nearest) <= 1e-9 * Math.max(1, Math.abs(nearest)) ? nearest : Math.floor(quotient);
  }
}

/** Drops the binary noise of a product such as 37 * 0.1 (3.7000000000000006). */
function tidy(value: number): number {
  return Number(value.toPrecision(12));
}
