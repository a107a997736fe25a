// Pure arithmetic over a multipart plan: which bytes a part holds, which parts still have to be
// sent when resuming, and which part numbers to sign together. Kept apart from the I/O so each rule
// is unit-tested on its own.
import type { MultipartUploadPlan, UploadedPart } from './schemas.js';
import { maxPartsPerSignRequest } from './schemas.js';

export interface ByteRange {
  /** Inclusive. */
  start: number;
  /** Exclusive. */
  end: number;
}

/** Part n (1-based) holds bytes [(n-1)·partSize, min(n·partSize, size)); only the last part is shorter. */
export function partByteRange(partNumber: number, partSize: number, totalSize: number): ByteRange {
  const start = (partNumber - 1) * partSize;
  return { start, end: Math.min(start + partSize, totalSize) };
}

/** Whether a plan from the server fits a file of `totalSize` bytes (every part non-empty, none missing). */
export function planFitsSize(plan: Pick<MultipartUploadPlan, 'partSize' | 'partCount'>, totalSize: number): boolean {
  return totalSize > 0 && plan.partCount === Math.ceil(totalSize / plan.partSize);
}

export interface ResumeSelection {
  /** Parts the store already holds with the right size: partNumber → ETag. */
  done: Map<number, string>;
  /** Part numbers still to send, ascending. */
  pending: number[];
  /** Bytes already in the store (sum of the `done` parts). */
  bytesDone: number;
}

/**
 * Splits a plan into parts already uploaded and parts to send. An uploaded part whose size is not
 * what the plan says (a torn or foreign upload) is sent again; S3 replaces a part on re-upload.
 */
export function selectPendingParts(
  plan: Pick<MultipartUploadPlan, 'partSize' | 'partCount'>,
  totalSize: number,
  uploaded: readonly UploadedPart[],
): ResumeSelection {
  const done = new Map<number, string>();
  let bytesDone = 0;
  for (const part of uploaded) {
    if (part.partNumber > plan.partCount || done.has(part.partNumber)) continue;
    const range = partByteRange(part.partNumber, plan.partSize, totalSize);
    if (part.size !== range.end - range.start) continue;
    done.set(part.partNumber, part.etag);
    bytesDone += part.size;
  }
  const pending: number[] = [];
  for (let partNumber = 1; partNumber <= plan.partCount; partNumber++) {
    if (!done.has(partNumber)) pending.push(partNumber);
  }
  return { done, pending, bytesDone };
}

/**
 * The part numbers to sign in one `parts` call when `partNumber` needs a URL: that part, then the
 * next ones in upload order that still need one, up to `batchSize` (never above the server's 100).
 * Signing ahead saves round trips; signing only a few batches ahead keeps URLs from expiring
 * before use (they live minutes).
 */
export function nextSignBatch(
  order: readonly number[],
  partNumber: number,
  needsUrl: (partNumber: number) => boolean,
  batchSize: number,
): number[] {
  const limit = Math.max(1, Math.min(batchSize, maxPartsPerSignRequest));
  const batch = [partNumber];
  const startIndex = order.indexOf(partNumber);
  for (let index = startIndex + 1; index < order.length && batch.length < limit; index++) {
    const candidate = order[index];
    if (candidate !== undefined && candidate !== partNumber && needsUrl(candidate)) batch.push(candidate);
  }
  return batch;
}
