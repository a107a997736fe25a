// Retry policy as data, after Uppy's @uppy/aws-s3: a list of delays (one retry per entry) and one
// function that says which statuses are worth retrying. Two cases are mechanisms rather than
// policy: a 403 on a part URL means the signature expired, so the part is re-signed (`parts`) and
// sent again; a 429 or a 503 pauses the whole upload for its `Retry-After`, not just the one request.
import type { SluiceApiError } from './errors.js';

/** Uppy's default: retry at once, then after 1 s, 3 s and 5 s. */
export const defaultRetryDelaysMs: readonly number[] = [0, 1_000, 3_000, 5_000];

/**
 * For 503: the server says its database or store is down for now and when to come back
 * (`Retry-After`, which is waited when longer). A restart or failover takes tens of seconds, so
 * this list waits about two minutes in all before the error reaches the caller.
 */
export const defaultUnavailableRetryDelaysMs: readonly number[] = [1_000, 2_000, 5_000, 10_000, 15_000, 20_000, 30_000, 30_000];

/**
 * A `Retry-After` longer than this is not waited out: the error reaches the caller, who can show
 * it (an hourly upload quota says "come back in an hour", which no upload should sit through).
 */
export const defaultMaxRetryAfterMs = 60_000;

/** Network errors (status 0), 5xx (incl. Spaces' 503 SlowDown) and 429 are transient; other 4xx never are. */
export function defaultShouldRetry(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}

export interface RetryPolicy {
  retryDelaysMs: readonly number[];
  /** Used instead of `retryDelaysMs` for 503 Service Unavailable. */
  unavailableRetryDelaysMs: readonly number[];
  shouldRetry: (status: number) => boolean;
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  retryDelaysMs: defaultRetryDelaysMs,
  unavailableRetryDelaysMs: defaultUnavailableRetryDelaysMs,
  shouldRetry: defaultShouldRetry,
  maxRetryAfterMs: defaultMaxRetryAfterMs,
};

/** What a caller may show while a request waits to be retried ("The server is busy; retrying in 5 s"). */
export interface RetryNotice {
  /** The failure being retried (its status, code and message). */
  error: SluiceApiError;
  /** Failures of this request so far (1 on the first retry). */
  failures: number;
  delayMs: number;
}

export type RetryDecision =
  | { action: 'fail' }
  /** Wait `delayMs`, re-sign the URL first when `resign`, and, when `pauseAll`, hold every other request too. */
  | { action: 'retry'; delayMs: number; resign: boolean; pauseAll: boolean };

/**
 * What to do after the `failures`-th failure (1-based) of one request. `resignable` is true for
 * requests to a presigned part URL, whose 403 means "signature expired or refused": a fresh one
 * from `parts` may succeed where a plain retry cannot.
 */
export function decideRetry(
  policy: RetryPolicy,
  error: Pick<SluiceApiError, 'status' | 'retryAfterSeconds'>,
  failures: number,
  resignable: boolean,
): RetryDecision {
  const unavailable = error.status === 503;
  const baseDelayMs = (unavailable ? policy.unavailableRetryDelaysMs : policy.retryDelaysMs)[failures - 1];
  if (baseDelayMs === undefined) return { action: 'fail' };
  const resign = resignable && error.status === 403;
  if (!resign && !policy.shouldRetry(error.status)) return { action: 'fail' };
  const retryAfterMs = (error.retryAfterSeconds ?? 0) * 1_000;
  if (retryAfterMs > policy.maxRetryAfterMs) return { action: 'fail' };
  // Both say "not now" for the whole server (or store), not for this one request.
  return { action: 'retry', delayMs: Math.max(baseDelayMs, retryAfterMs), resign, pauseAll: error.status === 429 || unavailable };
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Shared by every request of one upload: a 429 pauses them all until its `Retry-After` has passed
 * (Uppy's rate-limit pause), instead of each request discovering the limit on its own.
 */
export class PauseGate {
  private resumeAtMs = 0;

  pauseFor(ms: number, nowMs: number = Date.now()): void {
    this.resumeAtMs = Math.max(this.resumeAtMs, nowMs + ms);
  }

  /** Milliseconds left in the current pause (0 when not paused). */
  remainingMs(nowMs: number = Date.now()): number {
    return Math.max(0, this.resumeAtMs - nowMs);
  }

  async wait(signal?: AbortSignal): Promise<void> {
    for (let left = this.remainingMs(); left > 0; left = this.remainingMs()) await sleep(left, signal);
  }
}
