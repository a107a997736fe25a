import { deflateSync } from 'node:zlib';
import { expect } from 'vitest';
import { runAnalyzers, type AnalysisReport } from '../../src/analyzers/run.js';
import type { FileInfo } from '../../src/analyzers/types.js';

/** Chunk sizes every fixture is fed in: byte by byte, odd small chunks, and S3-sized chunks. */
export const chunkSizes = [1, 7, 64 * 1024] as const;

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** `text` as UTF-16 code units in the given byte order (a BOM only if `text` starts with U+FEFF). */
export function utf16(text: string, encoding: 'utf-16le' | 'utf-16be'): Uint8Array {
  const data = Buffer.from(text, 'utf16le');
  return encoding === 'utf-16le' ? data : data.swap16();
}

/** windows-1252 bytes 0x80-0x9F by the character they stand for (WHATWG index); the rest is Latin-1. */
const windows1252Specials = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

/** `text` in windows-1252 (every character must have a byte there). */
export function windows1252(text: string): Uint8Array {
  return Uint8Array.from([...text], (char) => {
    const special = windows1252Specials.indexOf(char);
    if (special >= 0) return 0x80 + special;
    const code = char.charCodeAt(0);
    if (code > 0xff || (code >= 0x80 && code <= 0x9f)) throw new Error(`${char} has no windows-1252 byte`);
    return code;
  });
}

export async function* chunked(data: Uint8Array, chunkSize: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    // A copy per chunk, as a network stream would hand over.
    yield data.slice(offset, offset + chunkSize);
  }
}

export function fileInfo(data: Uint8Array, contentType: string, filename: string): FileInfo {
  return { contentType, filename, size: data.length, sniffed: undefined };
}

/**
 * Chunk sizes for inputs of megabytes, where one byte at a time would take minutes: an odd size
 * still splits every kind of token and character somewhere.
 */
export const largeChunkSizes = [4099, 64 * 1024] as const;

/**
 * Runs all analyzers over `data` once per chunk size, asserts that every run reports exactly the
 * same results (the proof that no analyzer depends on where chunks break), returns the report.
 */
export async function analyze(
  data: Uint8Array,
  contentType: string,
  filename: string,
  sizes: readonly number[] = chunkSizes,
): Promise<AnalysisReport> {
  const reports: AnalysisReport[] = [];
  for (const size of sizes) {
    reports.push(await runAnalyzers(chunked(data, size), { contentType, filename, size: data.length }));
  }
  const [first, ...rest] = reports as [AnalysisReport, ...AnalysisReport[]];
  for (const report of rest) {
    expect(report.results).toEqual(first.results);
    expect(report.bytes).toBe(data.length);
  }
  return first;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** A valid RGB PNG with a gradient, compressed with zlib as the format requires. */
export function makePng(width: number, height: number): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit depth, truecolour, deflate, adaptive filter, no interlace
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y += 1) {
    const row = y * (1 + width * 3);
    for (let x = 0; x < width; x += 1) rows.set([(x * 255) / width, (y * 255) / height, 128], row + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

function jpegSegment(marker: number, payload: number[] | Uint8Array): Buffer {
  const length = payload.length + 2;
  return Buffer.concat([Buffer.from([0xff, marker, length >> 8, length & 0xff]), Buffer.from(payload)]);
}

/**
 * A minimal valid baseline JPEG: one grey component, every 8x8 block flat mid-grey, with the
 * smallest Huffman tables that encode that (one code each for "DC difference 0" and "end of
 * block"). `exifBytes` adds an APP1 segment of 0xFF filler before the frame header, so the frame
 * marker sits behind data that looks like markers, as real EXIF data can.
 */
export function makeJpeg(width: number, height: number, exifBytes = 0): Uint8Array {
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  // Two zero bits per block (DC category 0, then EOB), padded with one bits to a whole byte.
  const bitCount = blocks * 2;
  const scan = Buffer.alloc(Math.ceil(bitCount / 8), 0);
  const padding = scan.length * 8 - bitCount;
  if (padding > 0) scan[scan.length - 1] = (1 << padding) - 1;
  const exif = exifBytes > 0 ? [jpegSegment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), Buffer.alloc(exifBytes, 0xff)]))] : [];
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    jpegSegment(0xe0, [...Buffer.from('JFIF\0', 'latin1'), 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...exif,
    jpegSegment(0xdb, [0x00, ...new Array<number>(64).fill(1)]),
    jpegSegment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    jpegSegment(0xc4, [0x00, 1, ...new Array<number>(15).fill(0), 0x00]),
    jpegSegment(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0x00]),
    jpegSegment(0xda, [1, 1, 0x00, 0, 63, 0]),
    scan,
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** Deterministic pseudo-random numbers in [0, 1) (xorshift32), so a generated corpus is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** Deterministic pseudo-random bytes (the low byte of each seededRandom state), so "random binary" is the same on every run. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const data = new Uint8Array(length);
  const next = seededRandom(seed);
  for (let index = 0; index < length; index += 1) data[index] = (next() * 2 ** 32) & 0xff;
  return data;
}
