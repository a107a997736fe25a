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
//
// Most cells repeat a value already in the table, and for those this is the whole cost: two
// counters go up. What was read of the value (kind, number or time, length) is kept with it, and
// the statistics that depend on the value only (kinds, moments, quantile sketch, histogram) get
// it once per distinct value with its weight, when the entry is flushed: at a purge or at the end.
// HyperLogLog sees a value when it enters the table (adding one twice changes nothing), and the
// bytes of a value are kept, not decoded, until it is reported.

import { HyperLogLog } from './hyperloglog.js';
import { kindDecimal, kindInteger, kindNull, type CellKind } from './values.js';

/** Top-value texts are cut to this many characters (and marked with an ellipsis). */
export const maxDisplayChars = 100;
/** UTF-8 takes at most 4 bytes per character: enough bytes for `maxDisplayChars`. */
const maxDisplayBytes = maxDisplayChars * 4;
const initialSlots = 16;
const initialArenaBytes = 4096;
/** Counts sampled to find the median a purge takes off (as DataSketches does): enough to remove about half. */
const medianSampleSize = 256;
/**
 * Purges after which a column none of whose values ever stood out (every count within the error
 * bound, so none could be listed) stops being tallied: its values are spread so thin that the
 * table would only churn. Its later cells still count for HyperLogLog and all statistics, and
 * each adds one to the error bound, which keeps what is reported true.
 */
const purgesBeforeGivingUp = 16;
/** Slots are kept at most half full, so a lookup probes about two of them. */
const maxLoad = 0.5;
const utf8 = new TextDecoder();

export type TopValue = { value: string; count: number };

/** Receives each distinct value's occurrences since it was last flushed. */
export interface WeightedValueSink {
  addWeighted(kind: CellKind, value: number, weight: number): void;
}

/**
 * One slot per stretch of `stride` doubles. Interleaved, a probe reads one cache line where
 * separate arrays cost one miss each, which showed as the largest line of the profile.
 */
const stride = 6;
const hashField = 0;
const checkField = 1;
/** 0 marks an empty slot: a live entry counts at least 1. */
const countField = 2;
/** characters << 6 | escaped quotes << 5 | cut << 4 | kind. */
const metaField = 3;
/** The number (integers, decimals) or epoch milliseconds (dates) the value reads as, else NaN. */
const valueField = 4;
/** Occurrences not yet flushed to the WeightedValueSink. */
const pendingField = 5;
const kindMask = 0xf;
const cutBit = 0x10;
/** The kept bytes write each quote of the value as two (the tokenizer hands quoted cells over as written). */
const escapedBit = 0x20;
const characterShift = 6;
/** Lengths kept beside the kind: cut cells are never longer than maxCellBytes, others fit easily. */
const maxKeptCharacters = 2 ** 25 - 1;

/** A purge's survivors, kept here between taking them out and putting them back. */
let scratch = new Float64Array(0);
let scratchText = new Int32Array(0);
const medianSample = new Float64Array(medianSampleSize);

export class ValueCounts {
  private slots = 0;
  private table = new Float64Array(0);
  /** Per slot: where its display bytes start in `arena`, and how many there are. */
  private textAt = new Int32Array(0);
  private arena = new Uint8Array(initialArenaBytes);
  private arenaUsed = 0;
  /** The arena a rebuild compacts into, then swaps with `arena`. */
  private spareArena = new Uint8Array(0);
  private size = 0;
  /** Entries of missing-value markers, which are not values: counted while the table is exact. */
  private nullEntries = 0;
  /** Taken off every counter by purges so far: a true count lies in [count, count + maxError]. */
  private maxError = 0;
  private distinctSketch: HyperLogLog | null = null;
  private purges = 0;
  /** No longer tallied (see purgesBeforeGivingUp); occurrences since then are only counted. */
  private untallied = false;
  private untalliedOccurrences = 0;

  constructor(
    private readonly capacity: number,
    private readonly sink: WeightedValueSink,
  ) {
    this.allocate(initialSlots);
  }

  /** The slot of the value with these hashes, counted once more; -1 when the table does not hold it. */
  find(hash: number, check: number): number {
    const table = this.table;
    const mask = this.slots - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slot * stride;
      const count = table[at + countField] as number;
      if (count === 0) return -1;
      if (table[at + hashField] === hash && table[at + checkField] === check) {
        table[at + countField] = count + 1;
        table[at + pendingField] = (table[at + pendingField] as number) + 1;
        return slot;
      }
    }
  }

  /** Whether values are still tallied; once not, `find` and `insert` are not called. */
  get tallying(): boolean {
    return !this.untallied;
  }

  /** An occurrence of a value, once the column is no longer tallied: the distinct count still sees it. */
  addUntallied(hash: number, kind: CellKind): void {
    this.untalliedOccurrences += 1;
    if (kind !== kindNull) this.distinctSketch?.add(hash >>> 0);
  }

  kindAt(slot: number): CellKind {
    return ((this.table[slot * stride + metaField] as number) & kindMask) as CellKind;
  }

  /** A value `find` did not hold, once, with what was read of it. */
  insert(hash: number, check: number, kind: CellKind, value: number, characters: number, bytes: Uint8Array, start: number, end: number, cut: boolean, escaped: boolean): void {
    if (this.size >= this.capacity) this.purge();
    if (this.size + 1 > this.slots * maxLoad) this.rebuild(this.slots * 2, 0);
    if (kind === kindNull) {
      if (this.maxError === 0) this.nullEntries += 1;
    } else {
      this.distinctSketch?.add(hash >>> 0);
    }
    const meta = (Math.min(characters, maxKeptCharacters) << characterShift) | (escaped ? escapedBit : 0) | (cut ? cutBit : 0) | kind;
    // Twice the bytes where quotes are written doubled.
    const textStart = this.keepBytes(bytes, start, Math.min(end, start + (escaped ? 2 : 1) * maxDisplayBytes));
    this.place(hash, check, 1, meta, value, 1, textStart, this.arenaUsed - textStart);
  }

  /** Hands every entry's unflushed occurrences to the sink. */
  flush(): void {
    const table = this.table;
    for (let slot = 0; slot < this.slots; slot += 1) {
      const at = slot * stride;
      const pending = table[at + pendingField] as number;
      if (table[at + countField] === 0 || pending === 0) continue;
      this.sink.addWeighted(((table[at + metaField] as number) & kindMask) as CellKind, table[at + valueField] as number, pending);
      table[at + pendingField] = 0;
    }
  }

  /** Distinct values: exact until the first purge, then the HyperLogLog estimate. */
  distinct(): { count: number; estimated: boolean } {
    if (this.distinctSketch === null) return { count: this.size - this.nullEntries, estimated: false };
    return { count: this.distinctSketch.estimate(), estimated: true };
  }

  /** How much a reported count may fall short of the true one (0: counts are exact). */
  get countError(): number {
    return this.maxError + this.untalliedOccurrences;
  }

  /**
   * The most frequent values, most frequent first (ties by text). Once counts are approximate,
   * only values whose count exceeds the error bound: those are certainly frequent.
   */
  top(limit: number): TopValue[] {
    const candidates: { slot: number; count: number }[] = [];
    const error = this.countError;
    for (let slot = 0; slot < this.slots; slot += 1) {
      const count = this.table[slot * stride + countField] as number;
      if (count > error && this.kindAt(slot) !== kindNull) candidates.push({ slot, count });
    }
    // Texts are decoded for the likely winners only: ties at the cut need their text to order.
    candidates.sort((left, right) => right.count - left.count);
    const lowest = candidates[Math.min(limit, candidates.length) - 1]?.count ?? 0;
    const entries = candidates.filter((entry) => entry.count >= lowest).map(({ slot, count }) => ({ value: this.textOf(slot), count }));
    entries.sort((left, right) => right.count - left.count || (left.value < right.value ? -1 : left.value > right.value ? 1 : 0));
    return entries.slice(0, limit);
  }

  /** Every numeric value with its count, while counts are exact; null once they are not. */
  exactNumbers(): { values: number[]; counts: number[] } | null {
    if (this.countError > 0) return null;
    const pairs: [number, number][] = [];
    for (let slot = 0; slot < this.slots; slot += 1) {
      const at = slot * stride;
      const count = this.table[at + countField] as number;
      const kind = this.kindAt(slot);
      if (count !== 0 && (kind === kindInteger || kind === kindDecimal)) pairs.push([this.table[at + valueField] as number, count]);
    }
    pairs.sort((left, right) => left[0] - right[0]);
    return { values: pairs.map((pair) => pair[0]), counts: pairs.map((pair) => pair[1]) };
  }

  private textOf(slot: number): string {
    const start = this.textAt[slot * 2] as number;
    const length = this.textAt[slot * 2 + 1] as number;
    const meta = this.table[slot * stride + metaField] as number;
    const decoded = utf8.decode(this.arena.subarray(start, start + length));
    const text = (meta & escapedBit) !== 0 ? decoded.replaceAll('""', '"') : decoded;
    const cut = (meta & cutBit) !== 0;
    const keptAtMost = ((meta & escapedBit) !== 0 ? 2 : 1) * maxDisplayBytes;
    if (!cut && length < keptAtMost && text.length <= maxDisplayChars) return text;
    return `${cutText(text, maxDisplayChars)}…`;
  }

  /** Appends the bytes to the arena (grown by doubling); returns where they start. */
  private keepBytes(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    if (this.arenaUsed + length > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + length));
      grown.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = grown;
    }
    const at = this.arenaUsed;
    for (let index = 0; index < length; index += 1) this.arena[at + index] = bytes[start + index] as number;
    this.arenaUsed += length;
    return at;
  }

  /**
   * Makes room: takes the median count off every counter and drops those left at zero or
   * below, so about half the entries go and the counts stay lower bounds within `maxError`.
   * Pending occurrences are flushed on the way. The first purge also starts the distinct-count
   * sketch with every value seen so far, which the table still holds at that point.
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
    const highest = this.rebuild(this.slots, median, true);
    this.purges += 1;
    if (this.purges >= purgesBeforeGivingUp && highest <= this.maxError) this.untallied = true;
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
    this.textAt = new Int32Array(slots * 2);
  }

  /**
   * Puts every entry into `slots` slots, `decrease` taken off each count (those left at zero or
   * below go), and compacts the arena; `flushing` hands pending occurrences to the sink on the
   * way. A purge keeps the table and swaps between two arenas, so a column of unique values
   * allocates nothing per purge. Returns the highest count before the decrease.
   */
  private rebuild(slots: number, decrease: number, flushing = false): number {
    let highest = 0;
    if (scratch.length < this.size * stride) {
      scratch = new Float64Array(this.size * stride);
      scratchText = new Int32Array(this.size * 2);
    }
    let kept = 0;
    for (let slot = 0; slot < this.slots; slot += 1) {
      const at = slot * stride;
      const count = this.table[at + countField] as number;
      if (count === 0) continue;
      if (count > highest) highest = count;
      if (flushing && this.table[at + pendingField] !== 0) {
        this.sink.addWeighted(((this.table[at + metaField] as number) & kindMask) as CellKind, this.table[at + valueField] as number, this.table[at + pendingField] as number);
        this.table[at + pendingField] = 0;
      }
      if (count <= decrease) continue;
      for (let field = 0; field < stride; field += 1) scratch[kept * stride + field] = this.table[at + field] as number;
      scratch[kept * stride + countField] = count - decrease;
      scratchText[kept * 2] = this.textAt[slot * 2] as number;
      scratchText[kept * 2 + 1] = this.textAt[slot * 2 + 1] as number;
      kept += 1;
    }
    const oldArena = this.arena;
    this.arena = this.spareArena.length >= this.arena.length ? this.spareArena : new Uint8Array(this.arena.length);
    this.spareArena = oldArena;
    this.arenaUsed = 0;
    if (slots === this.slots) {
      // Only counts mark a slot live; place() writes every other field.
      for (let slot = 0; slot < this.slots; slot += 1) this.table[slot * stride + countField] = 0;
    } else {
      this.allocate(slots);
    }
    this.size = 0;
    for (let index = 0; index < kept; index += 1) {
      const at = index * stride;
      const textStart = scratchText[index * 2] as number;
      const start = this.keepBytes(oldArena, textStart, textStart + (scratchText[index * 2 + 1] as number));
      this.place(
        scratch[at + hashField] as number,
        scratch[at + checkField] as number,
        scratch[at + countField] as number,
        scratch[at + metaField] as number,
        scratch[at + valueField] as number,
        scratch[at + pendingField] as number,
        start,
        this.arenaUsed - start,
      );
    }
    return highest;
  }

  private place(hash: number, check: number, count: number, meta: number, value: number, pending: number, textStart: number, textLength: number): void {
    const mask = this.slots - 1;
    let slot = hash & mask;
    while (this.table[slot * stride + countField] !== 0) slot = (slot + 1) & mask;
    const at = slot * stride;
    this.table[at + hashField] = hash;
    this.table[at + checkField] = check;
    this.table[at + countField] = count;
    this.table[at + metaField] = meta;
    this.table[at + valueField] = value;
    this.table[at + pendingField] = pending;
    this.textAt[slot * 2] = textStart;
    this.textAt[slot * 2 + 1] = textLength;
    this.size += 1;
  }
}

/** The first `chars` UTF-16 units of `text`, one fewer rather than half a surrogate pair. */
export function cutText(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const last = text.charCodeAt(chars - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? chars - 1 : chars);
}
