// The text view of a file: what analyzers with `input: 'text'` read. Whatever the file's encoding
// (sniff.ts decides it from the first bytes), they get well-formed UTF-8, each chunk ending on a
// character boundary, a byte order mark passed on as U+FEFF. Decoding once here, not in each
// analyzer, means one place knows about UTF-16 and 8-bit text, the analyzers' loops need neither
// an invalid-sequence branch nor a character carried over a chunk boundary, and every text
// analyzer sees the same characters. Ill-formed input becomes U+FFFD (one per maximal ill-formed
// subpart, as TextDecoder does) and is counted for the text analyzer's summary.
import { isUtf8 } from 'node:buffer';
import type { TextDecoding, TextEncoding } from './types.js';

/** U+FFFD REPLACEMENT CHARACTER in UTF-8. */
const replacementBytes = Uint8Array.of(0xef, 0xbf, 0xbd);

export interface TextInput {
  /** The UTF-8 for `chunk`, in order: zero or more pieces (a well-formed chunk passes as it is). */
  write(chunk: Uint8Array): Uint8Array[];
  /** What is left at the end of the file: a sequence the file cut short, as U+FFFD. */
  end(): Uint8Array[];
  decoding(): TextDecoding;
}

export function createTextInput(encoding: TextEncoding): TextInput {
  switch (encoding) {
    case 'utf-8':
      return new Utf8Input();
    case 'utf-16le':
    case 'utf-16be':
      return new Utf16Input(encoding);
    case 'windows-1252':
      return new Windows1252Input();
  }
}

/** Counts ill-formed sequences and remembers the first one's offset. */
class InvalidCount {
  count = 0;
  first: number | null = null;

  add(offset: number): void {
    this.count += 1;
    this.first ??= offset;
  }
}

/** Bytes out of the slow paths, copied into one piece per write. */
class ByteOutput {
  private buffer = new Uint8Array(1024);
  private length = 0;

  push(byte: number): void {
    if (this.length === this.buffer.length) this.grow(1);
    this.buffer[this.length++] = byte;
  }

  pushAll(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buffer.length) this.grow(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Moves what was written into `pieces` as one copy. */
  flushTo(pieces: Uint8Array[]): void {
    if (this.length === 0) return;
    pieces.push(this.buffer.slice(0, this.length));
    this.length = 0;
  }

  private grow(extra: number): void {
    const next = new Uint8Array(Math.max(this.buffer.length * 2, this.length + extra));
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }
}

/**
 * The WHATWG UTF-8 decoder as a byte-at-a-time state machine: continuation bytes still needed,
 * the allowed range of the next one (narrower after E0, ED, F0, F4 to exclude overlongs,
 * surrogates and > U+10FFFF), and the bytes of the sequence so far. Well-formed sequences go to
 * `output` as they are, each ill-formed one as U+FFFD; with no output it only counts.
 */
class Utf8StateMachine {
  needed = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private readonly sequence = new Uint8Array(4);
  private sequenceLength = 0;
  private sequenceStart = 0;

  constructor(
    private readonly invalid: InvalidCount,
    private readonly output: ByteOutput | null,
  ) {}

  step(byte: number, offset: number): void {
    if (this.needed === 0) {
      if (byte < 0x80) {
        this.output?.push(byte);
      } else if (byte >= 0xc2 && byte <= 0xdf) {
        this.start(byte, 1, 0x80, 0xbf, offset);
      } else if (byte >= 0xe0 && byte <= 0xef) {
        this.start(byte, 2, byte === 0xe0 ? 0xa0 : 0x80, byte === 0xed ? 0x9f : 0xbf, offset);
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        this.start(byte, 3, byte === 0xf0 ? 0x90 : 0x80, byte === 0xf4 ? 0x8f : 0xbf, offset);
      } else {
        this.replace(offset);
      }
      return;
    }
    if (byte < this.lower || byte > this.upper) {
      // The sequence ends here as one U+FFFD; this byte is looked at again as a fresh start.
      this.needed = 0;
      this.replace(this.sequenceStart);
      this.step(byte, offset);
      return;
    }
    this.lower = 0x80;
    this.upper = 0xbf;
    this.sequence[this.sequenceLength++] = byte;
    this.needed -= 1;
    if (this.needed === 0) this.output?.pushAll(this.sequence.subarray(0, this.sequenceLength));
  }

  /** The end of the file inside a sequence: one U+FFFD for it. */
  end(): void {
    if (this.needed === 0) return;
    this.needed = 0;
    this.replace(this.sequenceStart);
  }

  private start(byte: number, needed: number, lower: number, upper: number, offset: number): void {
    this.needed = needed;
    this.lower = lower;
    this.upper = upper;
    this.sequence[0] = byte;
    this.sequenceLength = 1;
    this.sequenceStart = offset;
  }

  private replace(offset: number): void {
    this.lower = 0x80;
    this.upper = 0xbf;
    this.invalid.add(offset);
    this.output?.pushAll(replacementBytes);
  }
}

/**
 * Where a sequence that the chunk cuts short begins (the chunk's length when none is): the last
 * lead byte within the last three bytes, if its sequence needs more bytes than the chunk has.
 */
function incompleteTailStart(chunk: Uint8Array, from: number): number {
  const end = chunk.length;
  for (let index = end - 1; index >= Math.max(from, end - 3); index -= 1) {
    const byte = chunk[index] as number;
    if (byte < 0x80 || byte > 0xf4) return end;
    if (byte >= 0xc0) {
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return index + length > end ? index : end;
    }
  }
  return end;
}

/**
 * UTF-8 files: a well-formed stretch (checked natively, simdutf) passes through as the same
 * bytes without a copy; only a sequence split by the chunk boundary and ill-formed stretches
 * take the byte-at-a-time path.
 */
class Utf8Input implements TextInput {
  private readonly invalid = new InvalidCount();
  private readonly output = new ByteOutput();
  private readonly decoder = new Utf8StateMachine(this.invalid, this.output);
  private offset = 0;

  write(chunk: Uint8Array): Uint8Array[] {
    const pieces: Uint8Array[] = [];
    let index = 0;
    // Finish the sequence an earlier chunk began (at most three bytes).
    while (this.decoder.needed > 0 && index < chunk.length) {
      this.decoder.step(chunk[index] as number, this.offset + index);
      index += 1;
    }
    const tail = incompleteTailStart(chunk, index);
    const body = chunk.subarray(index, tail);
    if (body.length > 0 && isUtf8(body)) {
      this.output.flushTo(pieces);
      pieces.push(body);
    } else {
      for (let at = index; at < tail; at += 1) this.decoder.step(chunk[at] as number, this.offset + at);
    }
    for (let at = tail; at < chunk.length; at += 1) this.decoder.step(chunk[at] as number, this.offset + at);
    this.output.flushTo(pieces);
    this.offset += chunk.length;
    return pieces;
  }

  end(): Uint8Array[] {
    const pieces: Uint8Array[] = [];
    this.decoder.end();
    this.output.flushTo(pieces);
    return pieces;
  }

  decoding(): TextDecoding {
    return { encoding: 'utf-8', invalidSequences: this.invalid.count, firstInvalidByteOffset: this.invalid.first };
  }
}

const highSurrogateFirst = 0xd800;
const lowSurrogateFirst = 0xdc00;
const surrogateLast = 0xdfff;
const anySurrogate = /[\uD800-\uDFFF]/;

/**
 * UTF-16 files (announced by a BOM): Node's utf16le decoding, byte-swapped first for big-endian.
 * An odd byte and a high surrogate at the end of a chunk wait for the next one; unpaired
 * surrogates are counted here, and Buffer.from turns each into U+FFFD.
 */
class Utf16Input implements TextInput {
  private readonly invalid = new InvalidCount();
  /** Bytes of the stream not decoded yet (an odd byte, a high surrogate): at most three. */
  private carry: Uint8Array = new Uint8Array(0);
  /** Offset in the file of `carry[0]` (or of the next byte when nothing is carried). */
  private offset = 0;

  constructor(private readonly byteOrder: 'utf-16le' | 'utf-16be') {}

  write(chunk: Uint8Array): Uint8Array[] {
    const data = this.carry.length === 0 ? chunk : concat(this.carry, chunk);
    let usable = data.length - (data.length % 2);
    const units = Buffer.from(data.buffer, data.byteOffset, usable);
    const littleEndian = this.byteOrder === 'utf-16le' ? units : Buffer.from(units).swap16();
    let text = littleEndian.toString('utf16le');
    const last = text.charCodeAt(text.length - 1);
    if (last >= highSurrogateFirst && last < lowSurrogateFirst) {
      text = text.slice(0, -1);
      usable -= 2;
    }
    if (anySurrogate.test(text)) this.countUnpaired(text);
    this.carry = data.slice(usable);
    this.offset += usable;
    return text.length === 0 ? [] : [Buffer.from(text, 'utf8')];
  }

  end(): Uint8Array[] {
    // A dangling high surrogate, then an odd byte: one U+FFFD each, as TextDecoder has it.
    const pieces: Uint8Array[] = [];
    if (this.carry.length >= 2) {
      this.invalid.add(this.offset);
      pieces.push(replacementBytes);
    }
    if (this.carry.length % 2 === 1) {
      this.invalid.add(this.offset + this.carry.length - 1);
      pieces.push(replacementBytes);
    }
    this.carry = new Uint8Array(0);
    return pieces;
  }

  decoding(): TextDecoding {
    return { encoding: this.byteOrder, invalidSequences: this.invalid.count, firstInvalidByteOffset: this.invalid.first };
  }

  private countUnpaired(text: string): void {
    for (let index = 0; index < text.length; index += 1) {
      const unit = text.charCodeAt(index);
      if (unit < highSurrogateFirst || unit > surrogateLast) continue;
      const next = text.charCodeAt(index + 1);
      if (unit < lowSurrogateFirst && next >= lowSurrogateFirst && next <= surrogateLast) index += 1;
      else this.invalid.add(this.offset + index * 2);
    }
  }
}

/** windows-1252 bytes 0x80-0x9F (WHATWG index); the other bytes are the Latin-1 code points. */
const windows1252High = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
].map((codePoint) => String.fromCharCode(codePoint));
const windows1252Specials = /[\x80-\x9f]/g;

/**
 * 8-bit text guessed to be windows-1252: every byte is one character, so no byte waits for the
 * next chunk. The bytes are also run through UTF-8 validation to count what is not UTF-8.
 */
class Windows1252Input implements TextInput {
  private readonly invalid = new InvalidCount();
  private readonly utf8 = new Utf8StateMachine(this.invalid, null);
  private offset = 0;

  write(chunk: Uint8Array): Uint8Array[] {
    for (let index = 0; index < chunk.length; index += 1) this.utf8.step(chunk[index] as number, this.offset + index);
    this.offset += chunk.length;
    const latin1 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const text = latin1.replace(windows1252Specials, (char) => windows1252High[char.charCodeAt(0) - 0x80] as string);
    return text.length === 0 ? [] : [Buffer.from(text, 'utf8')];
  }

  end(): Uint8Array[] {
    this.utf8.end();
    return [];
  }

  decoding(): TextDecoding {
    return { encoding: 'windows-1252', invalidSequences: this.invalid.count, firstInvalidByteOffset: this.invalid.first };
  }
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}
