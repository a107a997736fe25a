// When an activation should stop working: a margin before `__OW_DEADLINE`, because the runtime
// SIGKILLs it at the timeout (docs/platform-facts.md "Functions limits"), mid-write if need be.
import { deadlineMarginFraction, maxDeadlineMarginMs, minDeadlineMarginMs } from '../config.js';

/** Epoch ms to stop at: a share of the time left, within bounds; infinity when there is no deadline (called outside the runtime). */
export function stopTimeMs(deadlineMs: number | undefined, nowMs: number = Date.now()): number {
  if (deadlineMs === undefined) return Number.POSITIVE_INFINITY;
  const marginMs = Math.min(maxDeadlineMarginMs, Math.max(minDeadlineMarginMs, (deadlineMs - nowMs) * deadlineMarginFraction));
  return deadlineMs - marginMs;
}
