// DDSketch (Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable quantile sketch with
// relative-error guarantees", VLDB 2019), with its logarithmic mapping and collapsing-lowest dense
// stores, as in Datadog's sketches-js. That package is not used: it requires `protobufjs`, which
// it does not declare, for serialisation this profile never does, and the function bundle
// cannot be built with the import unresolved.
//
// Every quantile is within 1 % of a value at that rank; memory is at most two stores of
// `maxBins` counters per column, whatever the stream. The relative guarantee holds for the top
// 1024 bins (values spanning a factor of 1.02^1024, about 6e8); smaller magnitudes than that
// are folded into the lowest bin.

/** The sketch's guarantee: each quantile is within this fraction of a true value at that rank. */
const relativeAccuracy = 0.01;
const gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
const logGamma = Math.log(gamma);
/** Counters per store (8 KiB): bounds memory per numeric column. */
const maxBins = 1024;
/** Magnitudes below this (subnormal doubles) have no key and count as zero. */
const minIndexableValue = 2.2250738585072014e-308 * gamma;

/** Counts per key over a window of `maxBins` consecutive keys; lower keys fold into the lowest. */
class CollapsingLowestStore {
  private bins: Float64Array | null = null;
  /** Key of bins[0]. */
  private offset = 0;
  private minKey = 0;
  private maxKey = 0;
  count = 0;

  add(key: number, weight: number): void {
    if (this.bins === null) {
      this.bins = new Float64Array(maxBins);
      this.offset = key - maxBins / 2;
      this.minKey = key;
      this.maxKey = key;
    } else if (key > this.maxKey || (key < this.minKey && this.maxKey - this.minKey + 1 < maxBins)) {
      // (A key below a full window is folded into its lowest bin below, with no change.)
      this.extend(key);
    }
    const index = Math.max(key, this.minKey) - this.offset;
    (this.bins as Float64Array)[index] = ((this.bins as Float64Array)[index] as number) + weight;
    this.count += weight;
  }

  /** The key holding the value of rank `rank` (0-based), from the lowest key up. */
  keyAtRank(rank: number): number {
    let seen = 0;
    for (let key = this.minKey; key <= this.maxKey; key += 1) {
      seen += (this.bins as Float64Array)[key - this.offset] as number;
      if (seen > rank) return key;
    }
    return this.maxKey;
  }

  private extend(key: number): void {
    const bins = this.bins as Float64Array;
    let minKey = Math.min(this.minKey, key);
    const maxKey = Math.max(this.maxKey, key);
    let folded = 0;
    if (maxKey - minKey + 1 > maxBins) {
      // Collapse: keys below the window's lowest go into it.
      minKey = maxKey - maxBins + 1;
      for (let old = this.minKey; old <= Math.min(this.maxKey, minKey - 1); old += 1) folded += bins[old - this.offset] as number;
    }
    const offset = minKey < this.offset ? minKey : maxKey >= this.offset + maxBins ? maxKey - maxBins + 1 : this.offset;
    if (offset === this.offset && folded === 0 && minKey <= this.minKey) {
      this.minKey = minKey;
      this.maxKey = maxKey;
      return;
    }
    const moved = new Float64Array(maxBins);
    for (let old = Math.max(this.minKey, minKey); old <= this.maxKey; old += 1) moved[old - offset] = bins[old - this.offset] as number;
    moved[minKey - offset] = (moved[minKey - offset] as number) + folded;
    this.bins = moved;
    this.offset = offset;
    this.minKey = minKey;
    this.maxKey = maxKey;
  }
}

export class QuantileSketch {
  private readonly positive = new CollapsingLowestStore();
  private readonly negative = new CollapsingLowestStore();
  private zeros = 0;

  /** `weight` occurrences of `value`. */
  add(value: number, weight: number): void {
    if (value > minIndexableValue) this.positive.add(Math.ceil(Math.log(value) / logGamma), weight);
    else if (value < -minIndexableValue) this.negative.add(Math.ceil(Math.log(-value) / logGamma), weight);
    else this.zeros += weight;
  }

  get count(): number {
    return this.positive.count + this.negative.count + this.zeros;
  }

  /** The value at quantile `q` (0 to 1), within the relative accuracy; NaN when empty. */
  quantile(q: number): number {
    const count = this.count;
    if (count === 0) return Number.NaN;
    const rank = q * (count - 1);
    if (rank < this.negative.count) return -valueOf(this.negative.keyAtRank(this.negative.count - 1 - rank));
    if (rank < this.negative.count + this.zeros) return 0;
    return valueOf(this.positive.keyAtRank(rank - this.negative.count - this.zeros));
  }
}

/** The point of bin `key`, (gamma^(key-1), gamma^key], within the relative accuracy of all of it. */
function valueOf(key: number): number {
  return (2 * gamma ** key) / (1 + gamma);
}
