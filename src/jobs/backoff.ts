// How long a failed attempt waits before the next: exponential backoff with "equal jitter" (half of
// the step fixed, half random). The fixed half keeps successive delays from shrinking — attempt n+1
// waits at least as long as attempt n at most — while the random half spreads out jobs that failed
// together (a storage outage), so they do not all come back in the same sweep.
import { retryMaxDelaySeconds } from '../config.js';

export interface BackoffPolicy {
  baseDelaySeconds: number;
  maxDelaySeconds?: number;
  /** [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

/** The delay after attempt `attempt` (1 for the first) failed, in seconds. */
export function retryDelaySeconds(attempt: number, policy: BackoffPolicy): number {
  const cap = policy.maxDelaySeconds ?? retryMaxDelaySeconds;
  const random = policy.random ?? Math.random;
  const step = Math.min(cap, policy.baseDelaySeconds * 2 ** Math.max(0, attempt - 1));
  // Milliseconds are the finest grain worth storing in run_after.
  return Math.round((step / 2 + (step / 2) * random()) * 1000) / 1000;
}
