// `sluice sweep`: one sweep now. It invokes process/sweep and waits for its answer, rather than
// running the sweep in this process: it then runs on the deployed code, with the deployed settings
// and the functions' own dispatch credential, under the same sweep lease as the scheduled ones,
// and the CLI needs no Spaces keys. Blocking REST invoke (OpenWhisk docs/rest_api.md:
// `?blocking=true&result=true` answers the action's result; 202 with an activation id when it
// runs longer than the API waits).
import { processSweepAction, type InvokeContext } from '../jobs/dispatch.js';
import type { SweepReply } from '../jobs/sweep-handler.js';
import { printJson, say, tell, type CliContext } from './context.js';
import { CliError, exitCodes, usageError, type ExitCode } from './errors.js';
import { invokeContextOf, resolveOperator } from './target.js';

/** A blocking invoke answers within 60 s (OpenWhisk's wait); a little more than that. */
const invokeTimeoutMs = 65_000;

export async function sweepCommand(flags: { json: boolean; api?: string }, context: CliContext): Promise<ExitCode> {
  const target = resolveOperator(context.sources, { api: flags.api });
  const invoke = invokeContextOf(target);
  if ('missing' in invoke) throw usageError(`cannot start process/sweep: ${invoke.missing} (settings from ${target.from})`, 'NO_FUNCTIONS_API');
  say(context, `sluice: functions ${invoke.context.apiHost ?? ''} (from ${target.from})`);
  const reply = await invokeSweep(invoke.context, context.signal);
  if (flags.json) printJson(context, { sweep: reply });
  if ('error' in reply) {
    if (!flags.json) tell(context, `✗ sweep failed: ${reply.error.code}: ${reply.error.message}`);
    return exitCodes.failed;
  }
  if (!('skipped' in reply)) throw new CliError(`process/sweep answered something unexpected: ${JSON.stringify(reply).slice(0, 200)}`);
  if (reply.skipped) {
    if (!flags.json) tell(context, `sweep skipped: ${reply.reason} (it finishes within 90 s)`);
    return exitCodes.ok;
  }
  if (!flags.json) tell(context, `${reply.errors > 0 ? '✗' : '✓'} sweep ${describeCounts(reply)} (${reply.durationMs} ms)`);
  return reply.errors > 0 ? exitCodes.failed : exitCodes.ok;
}

type SweepCounts = Exclude<SweepReply, { error: unknown } | { dryRun: true } | { skipped: true }>;

function describeCounts(counts: SweepCounts): string {
  const parts = [
    [counts.leasesRequeued, 'expired lease requeued', 'expired leases requeued'],
    [counts.leasesFailed, 'job failed on an expired lease', 'jobs failed on expired leases'],
    [counts.uploadsQueued, 'finished upload queued', 'finished uploads queued'],
    [counts.uploadsRejected, 'upload rejected', 'uploads rejected'],
    [counts.uploadsExpired, 'abandoned upload expired', 'abandoned uploads expired'],
    [counts.uploadsWaiting, 'upload still waiting for its bytes', 'uploads still waiting for their bytes'],
    [counts.dispatched, 'job dispatched', 'jobs dispatched'],
    [counts.dispatchFailed, 'dispatch failed', 'dispatches failed'],
    [counts.dispatchUnauthorized, 'dispatch refused for its key', 'dispatches refused for their key'],
    [counts.dispatchCapped, 'job left for a free slot', 'jobs left for a free slot'],
    [counts.errors, 'error (see the function logs)', 'errors (see the function logs)'],
  ] as const;
  const said = parts.filter(([count]) => count > 0).map(([count, one, many]) => `${count} ${count === 1 ? one : many}`);
  return said.length === 0 ? 'found nothing to do' : said.join(', ');
}

async function invokeSweep(context: InvokeContext, signal: AbortSignal): Promise<SweepReply> {
  const host = (context.apiHost ?? '').replace(/\/+$/, '');
  const url = `${host}/api/v1/namespaces/_/actions/${processSweepAction}?blocking=true&result=true`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(context.accessKey ?? '').toString('base64')}`, 'Content-Type': 'application/json' },
      body: '{}',
      signal: AbortSignal.any([signal, AbortSignal.timeout(invokeTimeoutMs)]),
    });
    text = await response.text();
  } catch (error) {
    if (signal.aborted) throw error;
    throw new CliError(`cannot reach the functions API at ${host} (${error instanceof Error ? error.message : String(error)}): is it running?`, exitCodes.failed, 'FUNCTIONS_UNREACHABLE');
  }
  if (response.status === 401 || response.status === 403) {
    throw new CliError(`the functions API at ${host} refused FUNCTIONS_ACCESS_KEY (${response.status}): npm run deploy makes a namespace access key`, exitCodes.failed, 'UNAUTHORIZED');
  }
  if (response.status === 202) {
    throw new CliError(`process/sweep is still running after ${invokeTimeoutMs / 1000} s; its result is in the function logs`, exitCodes.failed, 'SWEEP_STILL_RUNNING');
  }
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    throw new CliError(`process/sweep answered ${response.status} with no JSON: ${text.slice(0, 200)}`, exitCodes.failed, 'INVALID_RESPONSE');
  }
  // A 502 is an application error: the action's result holds `error`, which the caller reports;
  // a crash (developer error) holds a string there instead of the handler's {code, message}.
  if (typeof reply === 'object' && reply !== null && 'error' in reply && typeof reply.error === 'string') {
    throw new CliError(`process/sweep failed: ${reply.error}`, exitCodes.failed, 'SWEEP_FAILED');
  }
  if (!response.ok && (typeof reply !== 'object' || reply === null || !('error' in reply))) {
    throw new CliError(`process/sweep answered ${response.status}: ${text.slice(0, 200)}`, exitCodes.failed, 'INVALID_RESPONSE');
  }
  return reply as SweepReply;
}
