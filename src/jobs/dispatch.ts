// Starting process/file for a queued job: an asynchronous invoke through the OpenWhisk REST API
// (PLATFORM-FACTS "Invoking a function from another"): POST
// {__OW_API_HOST}/api/v1/namespaces/_/actions/process/file?blocking=false with Basic auth from
// __OW_API_KEY (present because of the `provide-api-key: true` annotation) → 202 {activationId}.
//
// Nothing here throws: a failed or throttled (429) invoke, or a full concurrency cap, leaves the job
// queued, and the sweep dispatches it again (DESIGN "Job state machine": dispatch). Duplicate
// invokes are harmless: the claim lets exactly one activation have the job.
import { invokeTimeoutMs, type ActivationContext } from '../config.js';
import type { Actor, Db } from '../db/client.js';
import { appendJobEvent, countProcessingJobs, markDispatched, queuedJobAttempts } from '../db/jobs.js';
import { describeError, log } from '../log.js';

export const processFileAction = 'process/file';
export const processSweepAction = 'process/sweep';

export type InvokeOutcome =
  | { ok: true; activationId: string | null }
  | { ok: false; reason: 'not_configured' | 'throttled' | 'refused' | 'unreachable'; status?: number; message: string };

/** Asynchronous (non-blocking) invoke of `<package>/<function>`; never throws. */
export async function invokeAsync(
  context: Pick<ActivationContext, 'apiHost' | 'apiKey'>,
  action: string,
  params: Record<string, unknown>,
): Promise<InvokeOutcome> {
  if (context.apiHost === undefined || context.apiKey === undefined) {
    return { ok: false, reason: 'not_configured', message: '__OW_API_HOST or __OW_API_KEY is not set (annotation provide-api-key: true?)' };
  }
  const host = /^https?:\/\//.test(context.apiHost) ? context.apiHost : `https://${context.apiHost}`;
  const url = `${host.replace(/\/+$/, '')}/api/v1/namespaces/_/actions/${action}?blocking=false`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(context.apiKey).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(invokeTimeoutMs),
    });
    const text = await response.text();
    if (response.status === 429) return { ok: false, reason: 'throttled', status: 429, message: text.slice(0, 200) };
    if (!response.ok) return { ok: false, reason: 'refused', status: response.status, message: text.slice(0, 200) };
    return { ok: true, activationId: activationIdOf(text) };
  } catch (error) {
    return { ok: false, reason: 'unreachable', message: error instanceof Error ? error.message : String(error) };
  }
}

function activationIdOf(text: string): string | null {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && 'activationId' in body && typeof body.activationId === 'string') {
      return body.activationId;
    }
  } catch {
    // A 202 without a JSON body still means accepted; the id is only bookkeeping.
  }
  return null;
}

/** `not_queued`: an activation already has the job (or it is finished): nothing to start. */
export type DispatchOutcome = 'dispatched' | 'not_queued' | 'capped' | 'invoke_failed' | 'error';

export interface DispatchOptions {
  db: Db;
  context: Pick<ActivationContext, 'apiHost' | 'apiKey'>;
  actor: Actor;
  maxConcurrentJobs: number;
}

/**
 * Invokes process/file for a queued job and records the outcome as a job event. Respects the
 * MAX_CONCURRENT_JOBS cap (a count of processing jobs: approximate under races, which is fine —
 * the platform's own 120-activation limit is the hard one, and the cap keeps us well below it).
 */
export async function dispatchJob(jobId: string, o: DispatchOptions): Promise<DispatchOutcome> {
  try {
    if ((await countProcessingJobs(o.db)) >= o.maxConcurrentJobs) {
      log.info('dispatch deferred: concurrency cap reached', { jobId, maxConcurrentJobs: o.maxConcurrentJobs });
      return 'capped';
    }
    const attempts = await queuedJobAttempts(o.db, jobId);
    if (attempts === undefined) return 'not_queued';
    const outcome = await invokeAsync(o.context, processFileAction, { jobId });
    if (outcome.ok) {
      await markDispatched(o.db, jobId, attempts, outcome.activationId, o.actor);
      return 'dispatched';
    }
    log.warn('dispatch failed; the sweep will retry', { jobId, ...outcome });
    await appendJobEvent(o.db, jobId, 'dispatch_failed', o.actor, {
      reason: outcome.reason,
      ...(outcome.status === undefined ? {} : { status: outcome.status }),
    });
    return 'invoke_failed';
  } catch (error) {
    log.error('dispatch bookkeeping failed; the sweep will retry', { jobId, ...describeError(error) });
    return 'error';
  }
}
