// Single PUT or multipart, and the part layout. Below MULTIPART_THRESHOLD_BYTES one presigned PUT;
// from there on, parts of at least 8 MiB, grown in whole MiB so the file fits in 10,000 parts.
import { maxPartCount, minPartSizeBytes } from '../config.js';

const mebibyte = 1024 * 1024;

export type UploadPlan = { kind: 'single' } | { kind: 'multipart'; partSize: number; partCount: number };

export function planUpload(sizeBytes: number, multipartThresholdBytes: number): UploadPlan {
  if (sizeBytes < multipartThresholdBytes) return { kind: 'single' };
  const smallestFitting = Math.ceil(sizeBytes / maxPartCount);
  const partSize = Math.max(minPartSizeBytes, Math.ceil(smallestFitting / mebibyte) * mebibyte);
  return { kind: 'multipart', partSize, partCount: Math.ceil(sizeBytes / partSize) };
}

/** Exact length of part `partNumber` (1-based): all full except possibly the last. */
export function partLength(sizeBytes: number, partSize: number, partNumber: number): number {
  const start = (partNumber - 1) * partSize;
  return Math.max(0, Math.min(partSize, sizeBytes - start));
}
