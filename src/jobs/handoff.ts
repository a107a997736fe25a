// Work-conserving dispatch without a long-running process (docs/architecture.md "Dispatch"). When
// a process/file attempt ends, whatever its outcome, the activation hands its slot on:
//
//   1. requeue jobs whose lease lapsed (their activation died), so they run again now, in their
//      old place in the queue, instead of at the next sweep;
//   2. start due queued jobs, retries included, most overdue first, within MAX_CONCURRENT_JOBS
//      (src/db/dispatch.ts reserves them, so two activations ending at once never start the same
//      job or more jobs than there are slots);
//   3. stand by, if nothing else will: when a slot is free and a retry becomes due within the
//      standby time, or the namespace answered 429, one activation (a row lease) stays on and
//      starts it then, instead of leaving it to the sweep a minute later.
//
// Heartbeats run steps 1 and 2 as well (heartbeatRound), so while any job is running, a killed
// activation's job is picked up within a lease and a heartbeat, and a slot freed without a handoff
// (an invoke lost, an activation that died) is filled within a heartbeat.
//
// Why 429s are backed off rather than budgeted in Postgres: the platform's 600 a minute count every
// invocation of the namespace (web functions, the sweep, anything else deployed there), which a
// budget of our own dispatches cannot see, and the platform does not document how it counts the
// minute. A budget would still meet 429s and have to guess; the 429 itself is exact and free.
//
// Be careful here: all of this runs after the attempt's result is stored, and none of it may turn
// that attempt into anything else. Every function below catches its own errors (logged), is bounded
// in time, and reports what it did; the attempt's outcome is decided before it starts.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  handoffSlackMs,
  leaseRescueBatchSize,
  redispatchAfterSeconds,
  standbyMaxSeconds,
  standbyPollMs,
  throttledRetryDelaysMs,
  type ActivationContext,
  type ProcessingConfig,
} from '../config.js';
import type { Actor, Sql } from '../db/client.js';
import { dispatchOutlook } from '../db/dispatch.js';
import { acquireStandby, releaseStandby } from '../db/standby.js';
import { findExpiredLeases } from '../db/sweep-candidates.js';
import { describeError, log } from '../log.js';
import { canInvoke, dispatchDueJobs, type DispatchRound } from './dispatch.js';
import { requeueExpiredLease } from './transitions.js';

export interface HandoffServices {
  db: Sql;
  config: ProcessingConfig;
  activation: ActivationContext;
}

export interface HandoffReport {
  leasesRequeued: number;
  leasesFailed: number;
  dispatched: number;
  /** Invokes the namespace refused with 429 (the standby tried again after a delay). */
  throttled: number;
  /** How long this activation stood by after its attempt; 0 when it did not. */
  standbyMs: number;
  /** Why it stopped short of what it would have done: a refused or failed invoke, a database error, its time bound. */
  stoppedBy?: 'unauthorized' | 'invoke_failed' | 'error' | 'timed_out' | 'not_configured';
}

export interface HandoffOptions {
  actor: Actor;
  /** Epoch ms: the attempt's own stop time (src/jobs/deadline.ts); no standby reaches past it. */
  stopAt: number;
  /** Epoch ms the runtime kills the activation at; undefined outside the runtime. */
  deadlineMs: number | undefined;
}

/** Nothing new is started this close to the deadline: an invoke cut short there leaves a reservation to lapse. */
const lastDispatchMarginMs = 1_000;

/** Requeues lapsed leases (or fails them when attempts are spent), oldest first; the counts. */
export async function requeueExpiredLeases(db: Sql, actor: Actor, limit: number, timeLeft: () => boolean = () => true) {
  const counts = { requeued: 0, failed: 0 };
  for (const jobId of await findExpiredLeases(db, limit)) {
    if (!timeLeft()) break;
    const job = await requeueExpiredLease(db, jobId, actor);
    if (job?.status === 'queued') counts.requeued += 1;
    else if (job?.status === 'failed') counts.failed += 1;
  }
  return counts;
}

function emptyReport(): HandoffReport {
  return { leasesRequeued: 0, leasesFailed: 0, dispatched: 0, throttled: 0, standbyMs: 0 };
}

interface RoundBounds {
  /** Epoch ms after which nothing new is started. */
  lastDispatchAt: number;
  signal: AbortSignal;
}

/** Steps 1 and 2 once. Throws when the database does. */
async function round(services: HandoffServices, actor: Actor, report: HandoffReport, bounds: RoundBounds): Promise<DispatchRound> {
  const { db, config, activation } = services;
  const timeLeft = () => Date.now() < bounds.lastDispatchAt && !bounds.signal.aborted;
  const leases = await requeueExpiredLeases(db, actor, leaseRescueBatchSize, timeLeft);
  report.leasesRequeued += leases.requeued;
  report.leasesFailed += leases.failed;
  const dispatch = await dispatchDueJobs({
    db,
    context: activation,
    actor,
    maxConcurrentJobs: config.maxConcurrentJobs,
    limit: config.maxConcurrentJobs,
    stopAt: bounds.lastDispatchAt,
    signal: bounds.signal,
  });
  report.dispatched += dispatch.dispatched;
  if (dispatch.stoppedBy === 'throttled') report.throttled += 1;
  return dispatch;
}

/**
 * Hands the slot of an attempt that has ended on (steps 1–3 above). Never throws; returns within
 * its standby time plus handoffSlackMs, and never past the activation's deadline.
 */
export async function handOff(services: HandoffServices, o: HandoffOptions): Promise<HandoffReport> {
  const report = emptyReport();
  if (!canInvoke(services.activation)) return { ...report, stoppedBy: 'not_configured' };
  const deadline = o.deadlineMs ?? Number.POSITIVE_INFINITY;
  const standbyEnd = Math.min(Date.now() + standbyMaxSeconds * 1000, o.stopAt);
  const boundMs = Math.min(Math.max(0, standbyEnd - Date.now()) + handoffSlackMs, deadline - lastDispatchMarginMs - Date.now());
  if (boundMs <= 0) return report;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed_out'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timed_out');
    }, boundMs);
  });
  const work = handOffWithin(services, o, report, { standbyEnd, lastDispatchAt: deadline - lastDispatchMarginMs, signal: controller.signal }).catch(
    (error: unknown) => {
      log.error('process/file: handing the slot on failed; the next handoff or sweep starts the queued jobs', describeError(error));
      report.stoppedBy = 'error';
    },
  );
  const ended = await Promise.race([work.then(() => 'done' as const), timedOut]);
  clearTimeout(timer);
  if (ended === 'timed_out') {
    log.warn('process/file: handing the slot on took too long (database or Functions API not answering); left to the next handoff or sweep', { boundMs });
    report.stoppedBy = 'timed_out';
  }
  return { ...report };
}

async function handOffWithin(
  services: HandoffServices,
  o: HandoffOptions,
  report: HandoffReport,
  bounds: { standbyEnd: number; lastDispatchAt: number; signal: AbortSignal },
): Promise<void> {
  const { db, config, activation } = services;
  const holder = activation.activationId ?? `process-file-${randomUUID()}`;
  let standing = false;
  let throttledInARow = 0;
  try {
    while (!bounds.signal.aborted) {
      const dispatch = await round(services, o.actor, report, bounds);
      if (dispatch.stoppedBy === 'unauthorized' || dispatch.stoppedBy === 'invoke_failed') {
        // Every invoke would fail the same way; the sweep keeps trying (and says so loudly for a key).
        report.stoppedBy = dispatch.stoppedBy;
        return;
      }
      let waitMs: number;
      if (dispatch.stoppedBy === 'throttled') {
        // Back to the shortest delay whenever some got through: the window is reopening.
        if (dispatch.dispatched > 0) throttledInARow = 0;
        waitMs = throttledRetryDelaysMs[Math.min(throttledInARow, throttledRetryDelaysMs.length - 1)] ?? standbyPollMs;
        throttledInARow += 1;
      } else {
        throttledInARow = 0;
        // Whatever is due has been started or waits for a slot; stand by only if a slot is free
        // and something becomes due in time. A full cap needs nobody: the next attempt to end hands on.
        const outlook = await dispatchOutlook(db, { maxConcurrentJobs: config.maxConcurrentJobs, redispatchAfterSeconds });
        if (outlook.free === 0 || outlook.nextDueInMs === null) return;
        waitMs = outlook.nextDueInMs;
      }
      if (Date.now() + waitMs > bounds.standbyEnd) return;
      // One standby for the whole namespace: the others end, and that one starts what becomes due.
      if (!standing) {
        standing = await acquireStandby(db, holder, bounds.standbyEnd - Date.now() + handoffSlackMs);
        if (!standing) return;
      }
      const sleptFrom = Date.now();
      // Never less than a few ms (no busy loop), never more than a poll: meanwhile another activation
      // may have scheduled an earlier retry, or a slot may have been taken.
      await sleep(Math.min(Math.max(waitMs, 20), standbyPollMs), undefined, { signal: bounds.signal }).catch(() => undefined);
      report.standbyMs += Date.now() - sleptFrom;
    }
  } finally {
    if (standing) {
      await releaseStandby(db, holder).catch((error: unknown) => {
        // It lapses by itself at its end.
        log.warn('process/file: could not release the dispatch standby', describeError(error));
      });
    }
  }
}

export interface HeartbeatRounds {
  /** After a lease renewal: one round (requeue lapsed leases, fill free slots), unless one is still running. */
  afterRenewal(): void;
  /** Stops rounds and waits for one in flight, so none runs beside the attempt's final write or the handoff. */
  stop(): Promise<void>;
}

/**
 * Steps 1 and 2 from a running attempt's heartbeats. Runs at most one round at a time, never
 * throws (a failed round is logged and the next heartbeat tries again), and never touches the
 * attempt it runs beside: its lease and its fence are the lease keeper's alone.
 */
export function heartbeatRounds(services: HandoffServices, o: HandoffOptions): HeartbeatRounds {
  let inFlight: Promise<void> | undefined;
  const enabled = canInvoke(services.activation);
  const controller = new AbortController();
  const bounds: RoundBounds = { lastDispatchAt: Math.min(o.stopAt, (o.deadlineMs ?? Number.POSITIVE_INFINITY) - lastDispatchMarginMs), signal: controller.signal };
  return {
    afterRenewal() {
      if (!enabled || inFlight !== undefined || Date.now() >= bounds.lastDispatchAt || controller.signal.aborted) return;
      inFlight = round(services, o.actor, emptyReport(), bounds)
        .then(() => undefined)
        .catch((error: unknown) => {
          log.warn('process/file: heartbeat dispatch round failed; the next heartbeat tries again', describeError(error));
        })
        .finally(() => {
          inFlight = undefined;
        });
    },
    async stop() {
      // The round stops before its next step; a statement or an invoke under way is bounded on its own.
      controller.abort();
      await inFlight;
    },
  };
}
