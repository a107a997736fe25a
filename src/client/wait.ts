// Polls `status` until the job reaches one of the awaited statuses: processing happens in another
// function with no push channel to the browser, so polling is the contract (docs/architecture.md data flow).
import type { SluiceClient } from './api.js';
import { clientErrorCodes, SluiceApiError } from './errors.js';
import { decideRetry, defaultRetryPolicy, sleep, type RetryNotice } from './retry.js';
import { terminalJobStatuses, type JobStatus, type JobView } from './schemas.js';

/** Often enough to feel live, rare enough that many open pages stay far below the invocation limits. */
export const defaultPollIntervalMs = 1_000;

export interface WaitOptions {
  /** Statuses to stop at; default: every terminal status (succeeded, failed, rejected, cancelled, expired). */
  until?: readonly JobStatus[];
  signal?: AbortSignal;
  intervalMs?: number;
  /** Give up with WAIT_TIMEOUT after this long; default: wait until `signal` aborts. */
  timeoutMs?: number;
  /** Called with every job view fetched, e.g. to render status changes. */
  onJob?: (job: JobView) => void;
  /** Called before each wait after a transient failure, so the caller can say the server is busy. */
  onRetry?: (notice: RetryNotice) => void;
}

export async function waitForJob(client: SluiceClient, jobId: string, token: string, options: WaitOptions = {}): Promise<JobView> {
  const until = options.until ?? terminalJobStatuses;
  const intervalMs = options.intervalMs ?? defaultPollIntervalMs;
  const deadlineMs = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  let failures = 0;
  for (;;) {
    let waitMs = intervalMs;
    try {
      const { job } = await client.status({ jobId, token }, options.signal === undefined ? {} : { signal: options.signal });
      failures = 0;
      options.onJob?.(job);
      if (until.includes(job.status)) return job;
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      // A transient failure (network, 5xx, 429) is retried on the usual policy; anything else is final.
      if (!(error instanceof SluiceApiError)) throw error;
      failures++;
      const decision = decideRetry(defaultRetryPolicy, error, failures, false);
      if (decision.action === 'fail') throw error;
      waitMs = Math.max(intervalMs, decision.delayMs);
      options.onRetry?.({ error, failures, delayMs: waitMs });
    }
    if (Date.now() + waitMs > deadlineMs) {
      throw new SluiceApiError({
        status: 0,
        code: clientErrorCodes.waitTimeout,
        message: `Job ${jobId} did not reach ${until.join(' or ')} within ${options.timeoutMs} ms.`,
      });
    }
    await sleep(waitMs, options.signal);
  }
}
