// A job's attempts, read back from its history (job_events): each claim starts one, on the build
// and in the activation it names, and the next transition out of `processing` with the same
// attempt number ends it. Pure, so it is unit-tested on event lists.
import type { JobEvent } from '../client/schemas.js';

export interface AttemptView {
  attempt: number;
  /** The code version the attempt ran on (the claim's codeVersion). */
  build: string | null;
  activationId: string | null;
  startedAt: string;
  /** Null while it runs. */
  endedAt: string | null;
  /** The event that ended it ('succeeded', 'retry_scheduled', 'failed', 'rejected', 'lease_expired'), or 'running'. */
  outcome: string;
  /** What the ending event recorded about the failure, if anything. */
  error: string | null;
}

export function attemptsOf(events: readonly Pick<JobEvent, 'at' | 'event' | 'from' | 'to' | 'attempt' | 'activationId' | 'codeVersion' | 'detail'>[]): AttemptView[] {
  const attempts: AttemptView[] = [];
  for (const event of events) {
    if (event.event === 'claimed') {
      attempts.push({
        attempt: event.attempt,
        build: event.codeVersion,
        activationId: event.activationId,
        startedAt: event.at,
        endedAt: null,
        outcome: 'running',
        error: null,
      });
      continue;
    }
    if (event.from !== 'processing' || event.to === 'processing') continue;
    const open = attempts.findLast((attempt) => attempt.attempt === event.attempt && attempt.endedAt === null);
    if (open === undefined) continue;
    open.endedAt = event.at;
    open.outcome = event.event;
    open.error = errorOf(event.detail);
  }
  return attempts;
}

function errorOf(detail: Record<string, unknown> | null): string | null {
  if (detail === null) return null;
  const code = typeof detail.code === 'string' ? detail.code : undefined;
  const message = typeof detail.message === 'string' ? detail.message : undefined;
  if (code === undefined && message === undefined) return null;
  return [code, message].filter((part) => part !== undefined).join(': ');
}
