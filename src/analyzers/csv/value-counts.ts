// The values of one column and how often each occurs, in bounded memory: exact while the column
// has at most `capacity` distinct values, then the frequent-items sketch of Apache DataSketches
// (Misra-Gries with the purge of Anderson et al. 2017, "A high-performance algorithm for
// identifying frequent items in data streams") for the top values, and HyperLogLog for the number
// of distinct values.
//
// Values are keyed by two independent 32-bit hashes of their bytes (computed by the caller while
// it reads the cell), in an open-addressing table of typed arrays: a JavaScript Map keyed by a
// string per cell was the largest cost of the profile. Two distinct values are taken for one only
// if both hashes collide, about once in 2^64 pairs.

import { HyperLogLog } from './hyperloglog.js';
import { kindDecimal, kindInteger, kindNull, type CellKind } from './values.js';

/** Top-value texts are cut to this many characters (and marked with an ellipsis). */
export const maxDisplayChars = 100;
/** UTF-8 takes at most 4 bytes per character: enough bytes for `maxDisplayChars`. */
const maxDisplayBytes = maxDisplayChars * 4;
const initialSlots = 16;
/** Counts sampled to find the median a purge takes off (as DataSketches does): enough to remove about half. */
const medianSampleSize = 256;
/** Slots are kept at most half full, so a lookup probes about two of them. */
const maxLoad = 0.5;
const utf8 = new TextDecoder();

export type TopValue = { value: string; count: number };

/**
 * One slot per stretch of `stride` doubles: hash, check, count, meta (characters << 4 | kind),
 * value. Interleaved, a probe reads one cache line where separate arrays cost one miss each,
 * which showed as the largest line of the profile.
 */
const stride = 5;
const hashField = 0;
const checkField = 1;
const countField = 2;
const metaField = 3;
const valueField = 4;
const kindBits = 4;
const kindMask = (1 << kindBits) - 1;

/** A purge's survivors, kept here between taking them out and putting them back. */
let scratch = new Float64Array(0);
const medianSample = new Float64Array(medianSampleSize);

/**
 * Besides its count, each entry keeps what was read of the value (kind, number or time,
 * length), so a value seen before is not read again: in most columns most cells repeat one.
 */
export class ValueCounts {
  private slots = 0;
  /** `stride` doubles per slot; a count of 0 marks an empty slot (a live entry counts at least 1). */
  private table = new Float64Array(0);
  /** Display text; after the first purge, set only once a value is seen a second time. */
  private texts: (string | undefined)[] = [];
  private size = 0;
  /** Entries of missing-value markers, which are not values: counted while the table is exact. */
  private nullEntries = 0;
  /** Taken off every counter by purges so far: a true count lies in [count, count + maxError]. */
  private maxError = 0;
  private distinctSketch: HyperLogLog | null = null;

  constructor(private readonly capacity: number) {
    this.allocate(initialSlots);
  }

  /** The slot of the value with these hashes, its count raised by one; -1 when the table does not hold it. */
  find(hash: number, check: number): number {
    const table = this.table;
    const mask = this.slots - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slot * stride;
      const count = table[at + countField] as number;
      if (count === 0) return -1;
      if (table[at + hashField] === hash && table[at + checkField] === check) {
        table[at + countField] = count + 1;
        if (this.distinctSketch !== null && ((table[at + metaField] as number) & kindMask) !== kindNull) this.distinctSketch.add(hash >>> 0);
        return slot;
      }
    }
  }

  kindAt(slot: number): CellKind {
    return ((this.table[slot * stride + metaField] as number) & kindMask) as CellKind;
  }

  valueAt(slot: number): number {
    return this.table[slot * stride + valueField] as number;
  }

  charactersAt(slot: number): number {
    return (this.table[slot * stride + metaField] as number) >>> kindBits;
  }

  /** Gives the entry at `slot` its display text if it has none yet (entries made after a purge). */
  keepText(slot: number, bytes: Uint8Array, start: number, end: number, cut: boolean): void {
    if (this.texts[slot] === undefined) this.texts[slot] = displayText(bytes, start, end, cut);
  }

  /** A value `find` did not hold, once, with what was read of it. */
  insert(hash: number, check: number, kind: CellKind, value: number, characters: number, bytes: Uint8Array, start: number, end: number, cut: boolean): void {
    if (this.size >= this.capacity) this.purge();
    if (this.size + 1 > this.slots * maxLoad) this.rebuild(this.slots * 2, 0);
    if (kind === kindNull) {
      if (this.maxError === 0) this.nullEntries += 1;
    } else {
      this.distinctSketch?.add(hash >>> 0);
    }
    // Lengths past 2^27 characters do not fit beside the kind; cut cells are never that long.
    const meta = Math.min(characters, 2 ** 27 - 1) * (1 << kindBits) + kind;
    this.place(hash, check, 1, meta, value, this.maxError === 0 ? displayText(bytes, start, end, cut) : undefined);
  }

  /** Distinct values: exact until the first purge, then the HyperLogLog estimate. */
  distinct(): { count: number; estimated: boolean } {
    if (this.distinctSketch === null) return { count: this.size - this.nullEntries, estimated: false };
    return { count: this.distinctSketch.estimate(), estimated: true };
  }

  /** How much a reported count may fall short of the true one (0: counts are exact). */
  get countError(): number {
    return this.maxError;
  }

  /**
   * The most frequent values, most frequent first (ties by text). Once counts are approximate,
   * only values whose count exceeds the error bound: those are certainly frequent.
   */
  top(limit: number): TopValue[] {
    const entries: TopValue[] = [];
    for (let slot = 0; slot < this.slots; slot += 1) {
      const count = this.table[slot * stride + countField] as number;
      const value = this.texts[slot];
      if (count > this.maxError && value !== undefined && this.kindAt(slot) !== kindNull) entries.push({ value, count });
    }
    entries.sort((left, right) => right.count - left.count || (left.value < right.value ? -1 : left.value > right.value ? 1 : 0));
    return entries.slice(0, limit);
  }

  /** Every numeric value with its count, while counts are exact; null once they are not. */
  exactNumbers(): { values: number[]; counts: number[] } | null {
    if (this.maxError > 0) return null;
    const pairs: [number, number][] = [];
    for (let slot = 0; slot < this.slots; slot += 1) {
      const count = this.table[slot * stride + countField] as number;
      const kind = this.kindAt(slot);
      if (count !== 0 && (kind === kindInteger || kind === kindDecimal)) pairs.push([this.valueAt(slot), count]);
    }
    pairs.sort((left, right) => left[0] - right[0]);
    return { values: pairs.map((pair) => pair[0]), counts: pairs.map((pair) => pair[1]) };
  }

  /**
   * Makes room: takes the median count off every counter and drops those left at zero or
   * below, so about half the entries go and the counts stay lower bounds within `maxError`.
   * The first purge also starts the distinct-count sketch with every value seen so far, which
   * the table still holds at that point.
   */
  private purge(): void {
    if (this.distinctSketch === null) {
      this.distinctSketch = new HyperLogLog();
      for (let slot = 0; slot < this.slots; slot += 1) {
        const at = slot * stride;
        if (this.table[at + countField] !== 0 && this.kindAt(slot) !== kindNull) this.distinctSketch.add((this.table[at + hashField] as number) >>> 0);
      }
    }
    const median = this.sampledMedian();
    this.maxError += median;
    this.rebuild(this.slots, median);
  }

  /**
   * The median of the first `medianSampleSize` live counts in slot order. Slots are in hash
   * order, so those are a random sample, found without reading the whole table.
   */
  private sampledMedian(): number {
    let taken = 0;
    for (let slot = 0; slot < this.slots && taken < medianSampleSize; slot += 1) {
      const count = this.table[slot * stride + countField] as number;
      if (count !== 0) medianSample[taken++] = count;
    }
    return medianSample.subarray(0, taken).sort()[taken >> 1] as number;
  }

  private allocate(slots: number): void {
    this.slots = slots;
    this.table = new Float64Array(slots * stride);
    this.texts = new Array<string | undefined>(slots).fill(undefined);
  }

  /**
   * Puts every entry into `slots` slots, `decrease` taken off each count (those left at zero or
   * below go). A purge keeps the arrays, so a column of unique values allocates nothing per purge.
   */
  private rebuild(slots: number, decrease: number): void {
    if (scratch.length < this.size * stride) scratch = new Float64Array(this.size * stride);
    const texts: (string | undefined)[] = [];
    let kept = 0;
    for (let slot = 0; slot < this.slots; slot += 1) {
      const at = slot * stride;
      const count = this.table[at + countField] as number;
      if (count === 0 || count <= decrease) continue;
      for (let field = 0; field < stride; field += 1) scratch[kept * stride + field] = this.table[at + field] as number;
      scratch[kept * stride + countField] = count - decrease;
      texts.push(this.texts[slot]);
      kept += 1;
    }
    if (slots === this.slots) {
      this.table.fill(0);
      this.texts.fill(undefined);
    } else {
      this.allocate(slots);
    }
    this.size = 0;
    for (let index = 0; index < kept; index += 1) {
      const at = index * stride;
      this.place(
        scratch[at + hashField] as number,
        scratch[at + checkField] as number,
        scratch[at + countField] as number,
        scratch[at + metaField] as number,
        scratch[at + valueField] as number,
        texts[index],
      );
    }
  }

  private place(hash: number, check: number, count: number, meta: number, value: number, text: string | undefined): void {
    const mask = this.slots - 1;
    let slot = hash & mask;
    while (this.table[slot * stride + countField] !== 0) slot = (slot + 1) & mask;
    const at = slot * stride;
    this.table[at + hashField] = hash;
    this.table[at + checkField] = check;
    this.table[at + countField] = count;
    this.table[at + metaField] = meta;
    this.table[at + valueField] = value;
    this.texts[slot] = text;
    this.size += 1;
  }
}

/** The value's text for the result, cut to `maxDisplayChars` characters. */
function displayText(bytes: Uint8Array, start: number, end: number, cut: boolean): string {
  const text = utf8.decode(bytes.subarray(start, Math.min(end, start + maxDisplayBytes)));
  if (!cut && end - start <= maxDisplayBytes && text.length <= maxDisplayChars) return text;
  return `${cutText(text, maxDisplayChars)}…`;
}

/** The first `chars` UTF-16 units of `text`, one fewer rather than half a surrogate pair. */
export function cutText(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const last = text.charCodeAt(chars - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? chars - 1 : chars);
}
