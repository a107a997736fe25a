// Starting process/file for a queued job: an asynchronous invoke through the OpenWhisk REST API
// (OpenWhisk docs/rest_api.md): POST {__OW_API_HOST}/api/v1/namespaces/_/actions/process/file
// ?blocking=false with Basic auth → 202 {activationId}. The credential is the namespace access key
// FUNCTIONS_ACCESS_KEY (`<key id>:<secret>`, DigitalOcean Functions release notes, 13 March 2026:
// namespace access keys replace the legacy namespace token); `__OW_API_KEY` (present only with
// the `provide-api-key: true` annotation) is the fallback when no access key is configured.
//
// Who dispatches: `complete` (the job it has just queued), every process/file activation when its
// attempt ends (it hands its slot on: src/jobs/handoff.ts), heartbeats, and the sweep as the safety
// net. All of them reserve jobs through one Postgres pick (src/db/dispatch.ts), so MAX_CONCURRENT_JOBS
// holds and no job is started twice by two dispatchers.
//
// A failed, refused (401) or throttled (429) invoke never throws: the job stays queued, its
// reservation given back, and the next dispatch takes it (docs/architecture.md "Dispatch").
// Duplicate invokes are harmless anyway: the claim lets exactly one activation have the job.
import { dispatchBatchSize, invokeTimeoutMs, redispatchAfterSeconds, type ActivationContext } from '../config.js';
import type { Actor, Sql } from '../db/client.js';
import { pickDispatchable, releaseReservation, type PickedJob } from '../db/dispatch.js';
import { appendJobEvent } from '../db/jobs.js';
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

/**
 * `not_queued`: no job is due, nor waiting for a dispatch (an activation already has the job, it
 * is finished, or another dispatcher has just reserved it): nothing to start. `throttled`: the namespace answered 429 (a limit of 120 concurrent
 * activations or 600 invocations a minute, docs/platform-facts.md "Functions limits").
 */
export type DispatchOutcome = 'dispatched' | 'not_queued' | 'capped' | 'throttled' | 'invoke_failed' | 'unauthorized' | 'error';

export interface DispatchOptions {
  db: Sql;
  context: InvokeContext;
  actor: Actor;
  maxConcurrentJobs: number;
}

/** Whether this activation can invoke anything at all (an API host and a credential). */
export function canInvoke(context: InvokeContext): boolean {
  return context.apiHost !== undefined && credentialOf(context) !== undefined;
}

/**
 * Invokes process/file for the job `complete` has just queued — or, when older due jobs wait (a
 * backlog, retries, a job taken back from a dead activation), for the oldest of them, which is next
 * in line: a new upload never jumps the queue, and the slot is used either way. The job is reserved
 * by pickDispatchable first ('dispatched' event), within MAX_CONCURRENT_JOBS counted in Postgres, so
 * no other dispatcher starts it or takes its slot; a failed invoke adds 'dispatch_failed'.
 */
export async function dispatchJob(jobId: string, o: DispatchOptions): Promise<DispatchOutcome> {
  try {
    if (!canInvoke(o.context)) {
      // No API host or key: nothing can be invoked from here. Say so on the job, and reserve nothing.
      log.warn('dispatch not configured (__OW_API_HOST, FUNCTIONS_ACCESS_KEY); the job stays queued for the sweep', { jobId });
      await appendJobEvent(o.db, jobId, 'dispatch_failed', o.actor, { reason: 'not_configured' });
      return 'invoke_failed';
    }
    const { picked, free } = await pickDispatchable(o.db, { actor: o.actor, maxConcurrentJobs: o.maxConcurrentJobs, limit: 1, redispatchAfterSeconds });
    const job = picked[0];
    if (job !== undefined) return await start(job, o);
    if (free > 0) return 'not_queued';
    log.info('dispatch deferred: concurrency cap reached', { jobId, maxConcurrentJobs: o.maxConcurrentJobs });
    return 'capped';
  } catch (error) {
    log.error('dispatch bookkeeping failed; the sweep will retry', { jobId, ...describeError(error) });
    return 'error';
  }
}

export interface DispatchRound {
  dispatched: number;
  /** The last pick found fewer free slots than it asked for: due jobs may be waiting for the cap. */
  capped: boolean;
  /** Why the round stopped before the due jobs or the free slots ran out (the rest would fare the same). */
  stoppedBy?: 'throttled' | 'unauthorized' | 'invoke_failed';
}

/**
 * Starts due queued jobs, most overdue first, until the free slots or the due jobs run out, `limit`
 * jobs are started or `stopAt` (epoch ms) passes. A failed invoke stops the round: the next one
 * would fail the same way. Throws only when the database does (callers log and carry on).
 */
export async function dispatchDueJobs(o: DispatchOptions & { limit: number; stopAt?: number; signal?: AbortSignal }): Promise<DispatchRound> {
  const round: DispatchRound = { dispatched: 0, capped: false };
  if (!canInvoke(o.context)) return { ...round, stoppedBy: 'invoke_failed' };
  const timeLeft = () => Date.now() < (o.stopAt ?? Number.POSITIVE_INFINITY) && o.signal?.aborted !== true;
  while (round.dispatched < o.limit && timeLeft()) {
    const wanted = Math.min(dispatchBatchSize, o.limit - round.dispatched);
    const { picked, free } = await pickDispatchable(o.db, { actor: o.actor, maxConcurrentJobs: o.maxConcurrentJobs, limit: wanted, redispatchAfterSeconds });
    round.capped = free < wanted;
    for (const [index, job] of picked.entries()) {
      // Stopped (deadline, or the caller gave up): what is reserved and not yet invoked goes back.
      const outcome = timeLeft() ? await start(job, o) : 'not_started';
      if (outcome === 'dispatched') {
        round.dispatched += 1;
        continue;
      }
      // Reserved but never invoked: free them at once rather than after the redispatch window.
      for (const rest of picked.slice(outcome === 'not_started' ? index : index + 1)) await releaseReservation(o.db, rest);
      if (outcome !== 'not_started') round.stoppedBy = outcome === 'throttled' || outcome === 'unauthorized' ? outcome : 'invoke_failed';
      return round;
    }
    if (picked.length < wanted) break;
  }
  return round;
}

/** Invokes process/file for a job this dispatcher has reserved; a failed invoke gives the reservation back. */
async function start(job: PickedJob, o: DispatchOptions): Promise<DispatchOutcome> {
  const outcome = await invokeAsync(o.context, processFileAction, { jobId: job.id });
  if (outcome.ok) {
    // The reservation is the record; the invoked activation's id is in its claim, and here in case it never claims.
    log.info('dispatched', { jobId: job.id, invokedActivationId: outcome.activationId });
    return 'dispatched';
  }
  await releaseReservation(o.db, job);
  if (outcome.reason === 'unauthorized') {
    // Every dispatch fails the same way until the key is fixed: say what to do, loudly.
    log.error(`dispatch refused: the Functions API did not accept ${outcome.credential ?? 'the key'}; jobs stay queued until it does (npm run deploy creates a namespace access key)`, { jobId: job.id, ...outcome });
  } else {
    log.warn('dispatch failed; the job stays queued for the next dispatch', { jobId: job.id, ...outcome });
  }
  await appendJobEvent(o.db, job.id, 'dispatch_failed', o.actor, {
    reason: outcome.reason,
    ...(outcome.status === undefined ? {} : { status: outcome.status }),
    ...(outcome.credential === undefined ? {} : { credential: outcome.credential }),
  });
  if (outcome.reason === 'unauthorized') return 'unauthorized';
  return outcome.reason === 'throttled' ? 'throttled' : 'invoke_failed';
}
