// The distinct keys of JSON records (json.ts, ndjson.ts), counted and listed in bounded memory
// whatever the file holds: many keys, huge keys, the same keys in millions of records.
//
// A key is known by a 64-bit hash of its bytes (two 32-bit FNV-1a variants), kept in an
// open-addressing table of 32-bit integers: looking up the keys of one more record allocates
// nothing, which is what keeps an array of a million records fast. Only a new key is decoded
// into a string, and only while the list has room.

/** Distinct keys counted exactly; past this, `exact` turns false and the count stops growing. */
export const maxCountedKeys = 100_000;
/** Keys listed in the summary, in first-seen order. */
export const maxListedKeys = 200;
/** Bytes of one key kept for the list; a longer key is listed cut (and still counted whole). */
export const maxKeyBytes = 256;
/** All listed keys together, as JSON: 200 keys of 256 bytes would be 50 KiB; most summaries need a fraction. */
export const maxListedKeyBytes = 16 * 1024;

const initialSlots = 1024;
const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;
const secondOffset = 0x9747b28c;
const secondPrime = 0x5bd1e995;

const latin1Decoder = new TextDecoder('latin1');
const utf8Decoder = new TextDecoder();

/** Incremental hash of one key's bytes, as the scanner sees them. */
export class KeyHash {
  first = fnvOffset;
  second = secondOffset;

  reset(): void {
    this.first = fnvOffset;
    this.second = secondOffset;
  }

  add(byte: number): void {
    this.first = Math.imul(this.first ^ byte, fnvPrime);
    this.second = Math.imul(this.second ^ byte, secondPrime);
  }

  addAll(bytes: Uint8Array): void {
    let first = this.first;
    let second = this.second;
    for (let index = 0; index < bytes.length; index += 1) {
      const byte = bytes[index] as number;
      first = Math.imul(first ^ byte, fnvPrime);
      second = Math.imul(second ^ byte, secondPrime);
    }
    this.first = first;
    this.second = second;
  }
}

/** A set of 64-bit hashes, grown by doubling up to what maxCountedKeys needs (2 MiB). */
class HashSet {
  private slots = new Int32Array(initialSlots * 2);
  private used = new Uint8Array(initialSlots);
  size = 0;

  /** True when the hash was not in the set (and now is). */
  add(first: number, second: number): boolean {
    if ((this.size + 1) * 2 > this.used.length) this.grow();
    const mask = this.used.length - 1;
    for (let slot = (first ^ (second >>> 7)) & mask; ; slot = (slot + 1) & mask) {
      if (this.used[slot] === 0) {
        this.used[slot] = 1;
        this.slots[slot * 2] = first;
        this.slots[slot * 2 + 1] = second;
        this.size += 1;
        return true;
      }
      if (this.slots[slot * 2] === first && this.slots[slot * 2 + 1] === second) return false;
    }
  }

  has(first: number, second: number): boolean {
    const mask = this.used.length - 1;
    for (let slot = (first ^ (second >>> 7)) & mask; this.used[slot] === 1; slot = (slot + 1) & mask) {
      if (this.slots[slot * 2] === first && this.slots[slot * 2 + 1] === second) return true;
    }
    return false;
  }

  private grow(): void {
    const { slots, used } = this;
    this.slots = new Int32Array(slots.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.size = 0;
    for (let slot = 0; slot < used.length; slot += 1) {
      if (used[slot] === 1) this.add(slots[slot * 2] as number, slots[slot * 2 + 1] as number);
    }
  }
}

/** A key as written in the file (escapes and all), cut at maxKeyBytes, as the string it denotes. */
export function decodeKey(raw: Uint8Array): string {
  let plain = true;
  for (let index = 0; index < raw.length; index += 1) {
    const byte = raw[index] as number;
    if (byte >= 0x80 || byte === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return latin1Decoder.decode(raw);
  // A key cut inside a UTF-8 sequence ends in U+FFFD; one cut inside an escape keeps its raw text.
  const text = utf8Decoder.decode(raw);
  if (!text.includes('\\')) return text;
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return text;
  }
}

/**
 * Distinct keys: counted exactly up to maxCountedKeys, listed up to maxListedKeys and
 * maxListedKeyBytes. `begin`/`commit`/`discard` let NDJSON take a line's keys only once the line
 * turned out to be a record.
 */
export class KeyCollector {
  private readonly seen = new HashSet();
  private readonly listed: string[] = [];
  private listedBytes = 2;
  private truncated = false;
  private exact = true;
  /** Keys of the open line (NDJSON), not yet counted: hashes and, while the list has room, names. */
  private readonly pending: { first: number; second: number; name: string | null }[] = [];
  private deferring = false;

  begin(): void {
    this.deferring = true;
    this.pending.length = 0;
  }

  commit(): void {
    this.deferring = false;
    for (const key of this.pending) this.take(key.first, key.second, key.name);
    this.pending.length = 0;
  }

  discard(): void {
    this.deferring = false;
    this.pending.length = 0;
  }

  /** Whether the key was counted already (a key of the open NDJSON line may still be pending). */
  has(hash: KeyHash): boolean {
    return this.seen.has(hash.first, hash.second);
  }

  /** One key: its hash over the whole key, and its first bytes as written (at most maxKeyBytes). */
  add(hash: KeyHash, raw: Uint8Array): void {
    const { first, second } = hash;
    if (this.seen.has(first, second)) return;
    if (this.deferring) {
      if (this.pending.length >= maxCountedKeys) {
        this.exact = false;
        return;
      }
      this.pending.push({ first, second, name: this.wouldList() ? decodeKey(raw) : null });
      return;
    }
    this.take(first, second, this.wouldList() ? decodeKey(raw) : null);
  }

  summary(): { keys: string[]; keyCount: number; keyCountExact: boolean; keysTruncated: boolean } {
    return { keys: [...this.listed], keyCount: this.seen.size, keyCountExact: this.exact, keysTruncated: this.truncated };
  }

  private wouldList(): boolean {
    return this.listed.length < maxListedKeys && this.listedBytes < maxListedKeyBytes;
  }

  private take(first: number, second: number, name: string | null): void {
    if (this.seen.size >= maxCountedKeys) {
      if (!this.seen.has(first, second)) {
        this.exact = false;
        this.truncated = true;
      }
      return;
    }
    if (!this.seen.add(first, second)) return;
    // JSON text of the name plus its comma: what it adds to the summary.
    const bytes = name === null ? 0 : Buffer.byteLength(JSON.stringify(name)) + 1;
    if (name !== null && this.listed.length < maxListedKeys && this.listedBytes + bytes <= maxListedKeyBytes) {
      this.listed.push(name);
      this.listedBytes += bytes;
    } else {
      this.truncated = true;
    }
  }
}
