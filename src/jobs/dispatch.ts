// Starting process/file for a queued job: an asynchronous invoke through the OpenWhisk REST API
// (OpenWhisk docs/rest_api.md): POST {__OW_API_HOST}/api/v1/namespaces/_/actions/process/file
// ?blocking=false with Basic auth → 202 {activationId}. The credential is the namespace access key
// FUNCTIONS_ACCESS_KEY (`<key id>:<secret>`, DigitalOcean Functions release notes, 13 March 2026:
// namespace access keys replace the legacy namespace token); `__OW_API_KEY` (present only with
// the `provide-api-key: true` annotation) is the fallback when no access key is configured.
//
// Nothing here throws: a failed, refused (401) or throttled (429) invoke, or a full concurrency
// cap, leaves the job queued, and the sweep dispatches it again (docs/architecture.md "Dispatch").
// Duplicate invokes are harmless: the claim lets exactly one activation have the job.
import { invokeTimeoutMs, type ActivationContext } from '../config.js';
import type { Actor, Db } from '../db/client.js';
import { appendJobEvent, countProcessingJobs, markDispatched, queuedJobAttempts } from '../db/jobs.js';
import { describeError, log } from '../log.js';

export const processFileAction = 'process/file';
export const processSweepAction = 'process/sweep';

export type InvokeOutcome =
  | { ok: true; activationId: string | null }
  | {
      ok: false;
      reason: 'not_configured' | 'unauthorized' | 'throttled' | 'refused' | 'unreachable';
      status?: number;
      /** Which credential was tried, so a refusal says what to fix. */
      credential?: Credential['source'];
      message: string;
    };

export type InvokeContext = Pick<ActivationContext, 'apiHost' | 'apiKey' | 'accessKey'>;

interface Credential {
  key: string;
  source: 'FUNCTIONS_ACCESS_KEY' | '__OW_API_KEY';
}

/** The configured access key first; the key the runtime hands the function only as a fallback. */
function credentialOf(context: InvokeContext): Credential | undefined {
  if (context.accessKey !== undefined) return { key: context.accessKey, source: 'FUNCTIONS_ACCESS_KEY' };
  if (context.apiKey !== undefined) return { key: context.apiKey, source: '__OW_API_KEY' };
  return undefined;
}

/** Asynchronous (non-blocking) invoke of `<package>/<function>`; never throws. */
export async function invokeAsync(context: InvokeContext, action: string, params: Record<string, unknown>): Promise<InvokeOutcome> {
  const credential = credentialOf(context);
  if (context.apiHost === undefined || credential === undefined) {
    return { ok: false, reason: 'not_configured', message: '__OW_API_HOST is not set, or neither FUNCTIONS_ACCESS_KEY nor __OW_API_KEY is' };
  }
  const host = /^https?:\/\//.test(context.apiHost) ? context.apiHost : `https://${context.apiHost}`;
  const url = `${host.replace(/\/+$/, '')}/api/v1/namespaces/_/actions/${action}?blocking=false`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(credential.key).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(invokeTimeoutMs),
    });
    const text = await response.text();
    const failure = { status: response.status, credential: credential.source, message: text.slice(0, 200) };
    if (response.status === 429) return { ok: false, reason: 'throttled', ...failure };
    if (response.status === 401 || response.status === 403) return { ok: false, reason: 'unauthorized', ...failure };
    if (!response.ok) return { ok: false, reason: 'refused', ...failure };
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
export type DispatchOutcome = 'dispatched' | 'not_queued' | 'capped' | 'invoke_failed' | 'unauthorized' | 'error';

export interface DispatchOptions {
  db: Db;
  context: InvokeContext;
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
    if (outcome.reason === 'unauthorized') {
      // Every dispatch fails the same way until the key is fixed: say what to do, loudly.
      log.error(`dispatch refused: the Functions API did not accept ${outcome.credential ?? 'the key'}; jobs stay queued until it does (npm run deploy creates a namespace access key)`, { jobId, ...outcome });
    } else {
      log.warn('dispatch failed; the sweep will retry', { jobId, ...outcome });
    }
    await appendJobEvent(o.db, jobId, 'dispatch_failed', o.actor, {
      reason: outcome.reason,
      ...(outcome.status === undefined ? {} : { status: outcome.status }),
      ...(outcome.credential === undefined ? {} : { credential: outcome.credential }),
    });
    return outcome.reason === 'unauthorized' ? 'unauthorized' : 'invoke_failed';
  } catch (error) {
    log.error('dispatch bookkeeping failed; the sweep will retry', { jobId, ...describeError(error) });
    return 'error';
  }
}
