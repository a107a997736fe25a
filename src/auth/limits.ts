// Per-client limits on `create`: uploads per hour and bytes per UTC day, counted in Postgres so
// every container sees the same numbers (src/db/rate-limits.ts). Both counters move in one
// transaction: if either limit refuses, neither is consumed.
import type { UploadConfig } from '../config.js';
import type { Sql } from '../db/client.js';
import { consumeQuota } from '../db/rate-limits.js';
import { ApiError } from '../errors.js';

export async function consumeUploadAllowance(db: Sql, client: string, sizeBytes: number, config: UploadConfig): Promise<void> {
  if (sizeBytes > config.bytesPerDay) {
    // Could never succeed in any window: not a rate limit but a size limit for this client.
    throw new ApiError('SIZE_LIMIT_EXCEEDED', `The file is larger than the daily allowance of ${config.bytesPerDay} bytes.`, {
      details: { maxBytes: config.bytesPerDay },
    });
  }
  await db.begin(async (tx) => {
    const uploads = await consumeQuota(tx, client, 'uploads_per_hour', 1, config.uploadsPerHour);
    if (!uploads.allowed) throw rateLimited('uploadsPerHour', config.uploadsPerHour, uploads.retryAfterSeconds);
    const bytes = await consumeQuota(tx, client, 'bytes_per_day', sizeBytes, config.bytesPerDay);
    if (!bytes.allowed) throw rateLimited('bytesPerDay', config.bytesPerDay, bytes.retryAfterSeconds);
  });
}

function rateLimited(limit: 'uploadsPerHour' | 'bytesPerDay', value: number, retryAfterSeconds: number): ApiError {
  const message =
    limit === 'uploadsPerHour'
      ? `Too many uploads: at most ${value} an hour. Try again in ${retryAfterSeconds} s.`
      : `Daily upload volume reached: at most ${value} bytes a day. Try again in ${retryAfterSeconds} s.`;
  return new ApiError('RATE_LIMITED', message, { details: { limit, value, retryAfterSeconds }, headers: { 'Retry-After': String(retryAfterSeconds) } });
}
