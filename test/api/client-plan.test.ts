// The client's multipart arithmetic: part ranges, which parts a resumed upload still sends, and how
// part numbers are grouped into `parts` calls. Pure functions, no services.
import { describe, expect, it } from 'vitest';
import { nextSignBatch, partByteRange, planFitsSize, selectPendingParts } from '../../src/client/plan.js';

const mebibyte = 1024 * 1024;

describe('partByteRange', () => {
  it('covers the file exactly, only the last part shorter', () => {
    const size = 17 * mebibyte + 5;
    const partSize = 8 * mebibyte;
    const ranges = [1, 2, 3].map((n) => partByteRange(n, partSize, size));
    expect(ranges).toEqual([
      { start: 0, end: 8 * mebibyte },
      { start: 8 * mebibyte, end: 16 * mebibyte },
      { start: 16 * mebibyte, end: size },
    ]);
  });
});

describe('planFitsSize', () => {
  it('accepts the part count the size needs and nothing else', () => {
    expect(planFitsSize({ partSize: 8, partCount: 3 }, 17)).toBe(true);
    expect(planFitsSize({ partSize: 8, partCount: 2 }, 16)).toBe(true);
    expect(planFitsSize({ partSize: 8, partCount: 3 }, 16)).toBe(false);
    expect(planFitsSize({ partSize: 8, partCount: 2 }, 17)).toBe(false);
    expect(planFitsSize({ partSize: 8, partCount: 1 }, 0)).toBe(false);
  });
});

describe('selectPendingParts', () => {
  const plan = { partSize: 10, partCount: 4 };
  const size = 35;

  it('sends everything when nothing is uploaded', () => {
    expect(selectPendingParts(plan, size, [])).toEqual({ done: new Map(), pending: [1, 2, 3, 4], bytesDone: 0 });
  });

  it('skips the parts the store already holds', () => {
    const selection = selectPendingParts(plan, size, [
      { partNumber: 2, etag: '"b"', size: 10 },
      { partNumber: 4, etag: '"d"', size: 5 },
    ]);
    expect(selection.pending).toEqual([1, 3]);
    expect([...selection.done]).toEqual([
      [2, '"b"'],
      [4, '"d"'],
    ]);
    expect(selection.bytesDone).toBe(15);
  });

  it('re-sends a part whose stored size is wrong, and ignores parts outside the plan', () => {
    const selection = selectPendingParts(plan, size, [
      { partNumber: 1, etag: '"torn"', size: 3 },
      { partNumber: 9, etag: '"foreign"', size: 10 },
    ]);
    expect(selection.pending).toEqual([1, 2, 3, 4]);
    expect(selection.bytesDone).toBe(0);
  });
});

describe('nextSignBatch', () => {
  const order = [1, 2, 3, 4, 5, 6, 7, 8];
  const all = () => true;

  it('signs the asked part and the next ones that need a URL, up to the batch size', () => {
    expect(nextSignBatch(order, 1, all, 3)).toEqual([1, 2, 3]);
    expect(nextSignBatch(order, 7, all, 3)).toEqual([7, 8]);
    expect(nextSignBatch(order, 2, (n) => n % 2 === 0, 3)).toEqual([2, 4, 6]);
  });

  it('never asks for more than the server signs per call (100)', () => {
    const many = Array.from({ length: 250 }, (_, i) => i + 1);
    expect(nextSignBatch(many, 1, all, 1_000)).toHaveLength(100);
    expect(nextSignBatch(many, 1, all, 0)).toEqual([1]);
  });

  it('follows the upload order of a resumed upload', () => {
    expect(nextSignBatch([2, 5, 7], 5, all, 10)).toEqual([5, 7]);
  });
});
