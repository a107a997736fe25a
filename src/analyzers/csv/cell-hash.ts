// Two independent 32-bit hashes of a cell's bytes, four bytes at a time: MurmurHash3's x86_32
// body for the first, a multiply-rotate over the same words for the second. Together they key
// a value in ValueCounts; the first, mixed, feeds HyperLogLog.

import { mixHash } from './hyperloglog.js';

/** The hashes of the last `hashCell`, and whether its bytes were all ASCII. */
export const cellHash = { hash: 0, check: 0, ascii: true };

export function hashCell(bytes: Uint8Array, start: number, end: number): void {
  let hash = 0x9747b28c | 0;
  let check = 0x2545f491 | 0;
  let high = 0;
  let index = start;
  for (; index + 4 <= end; index += 4) {
    // Little-endian words put together by hand: a DataView would have to be made per cell, as
    // cells alternate between the chunk and the tokenizer's buffer of assembled cells.
    const word = (bytes[index] as number) | ((bytes[index + 1] as number) << 8) | ((bytes[index + 2] as number) << 16) | ((bytes[index + 3] as number) << 24);
    high |= word;
    let mixed = Math.imul(word, 0xcc9e2d51);
    mixed = Math.imul((mixed << 15) | (mixed >>> 17), 0x1b873593);
    hash ^= mixed;
    hash = (Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64) | 0;
    check = Math.imul(check ^ word, 0x85ebca6b);
    check = (check << 13) | (check >>> 19);
  }
  let tail = 0;
  for (let shift = 0; index < end; index += 1, shift += 8) tail |= (bytes[index] as number) << shift;
  high |= tail;
  let mixed = Math.imul(tail, 0xcc9e2d51);
  mixed = Math.imul((mixed << 15) | (mixed >>> 17), 0x1b873593);
  // Murmur's finaliser: the table indexes by the low bits, which the body alone leaves weak.
  hash = mixHash(hash ^ mixed ^ (end - start)) | 0;
  check = Math.imul(check ^ tail ^ Math.imul(end - start, 0x9e3779b1), 0xc2b2ae35);
  cellHash.hash = hash;
  cellHash.check = check;
  cellHash.ascii = (high & 0x80808080) === 0;
}
