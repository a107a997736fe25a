// Sweeps started by activity (docs/processing.md "The sweep"): scheduled triggers are a limited preview on
// DigitalOcean (docs/platform-facts.md "Functions limits"), so an API call that finds the last sweep older
// than sweepIntervalSeconds starts one. claimSweepStart lets exactly one caller per interval
// through; the sweep's own row lease keeps two from ever overlapping.
//
// Awaited, not fire-and-forget: after an activation returns, its container is frozen, and a
// pending invoke would only go out on the next thaw. It costs one indexed UPDATE per call, and
// one non-blocking invoke a minute.
import { activationContext, sweepIntervalSeconds } from '../config.js';
import { sql, type Db } from '../db/client.js';
import { claimSweepStart } from '../db/sweeps.js';
import { describeError, log } from '../log.js';
import { invokeAsync, processSweepAction, type InvokeContext } from './dispatch.js';

/** Never throws: a missed start only means the next call (or the scheduled trigger) starts it. */
export async function startSweepIfDue(db: Db, activation: InvokeContext): Promise<boolean> {
  try {
    if (!(await claimSweepStart(db, sweepIntervalSeconds))) return false;
    const outcome = await invokeAsync(activation, processSweepAction, {});
    if (!outcome.ok) log.warn('could not start a sweep; the next call will try again in a minute', { ...outcome });
    return outcome.ok;
  } catch (error) {
    log.warn('could not check whether a sweep is due', describeError(error));
    return false;
  }
}

/** For the presign handlers (`afterReply`): this container's database client and activation. */
export function nudgeSweep(): Promise<boolean> {
  return startSweepIfDue(sql(), activationContext());
}
