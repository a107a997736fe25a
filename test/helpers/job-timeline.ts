// What the job_events records say about concurrency, measured from the database's own timestamps
// rather than from the test's clock: how many attempts ran at once, how many slots were busy, and
// how long a slot stayed free while a job was waiting for one. Shared by the dispatch tests (test/processing/) and the chaos
// suite (test/chaos/).
import type { Sql } from '../../src/db/client.js';

export interface TimelineEvent {
  jobId: string;
  event: string;
  attempt: number;
  at: Date;
  /** Who wrote it: the activation, and the build it ran (a process/file build, presign/complete's, the sweep's). */
  activationId: string | null;
  codeVersion: string | null;
  detail: Record<string, unknown> | null;
}

/** Every event of these jobs, in the order they happened. */
export async function loadEvents(db: Sql, jobIds: readonly string[]): Promise<TimelineEvent[]> {
  return db<TimelineEvent[]>`
    SELECT job_id, event, attempt, at, activation_id, code_version, detail FROM job_events
    WHERE job_id = ANY(${db.array([...jobIds])}::uuid[])
    ORDER BY at, id`;
}

/** One attempt, from its claim to the event that ended it (undefined: still running, or its activation died unnoticed). */
export interface AttemptSpan {
  jobId: string;
  attempt: number;
  claimedAt: number;
  endedAt: number | undefined;
  endedBy: string | undefined;
}

/** What ends an attempt: the fenced final writes, and a lapsed lease taken back. */
const attemptEnds = new Set(['succeeded', 'failed', 'rejected', 'retry_scheduled', 'lease_expired']);

export function attemptSpans(events: readonly TimelineEvent[]): AttemptSpan[] {
  const open = new Map<string, AttemptSpan>();
  const spans: AttemptSpan[] = [];
  for (const event of events) {
    const key = `${event.jobId}/${event.attempt}`;
    if (event.event === 'claimed') {
      const span: AttemptSpan = { jobId: event.jobId, attempt: event.attempt, claimedAt: event.at.getTime(), endedAt: undefined, endedBy: undefined };
      open.set(key, span);
      spans.push(span);
    } else if (attemptEnds.has(event.event)) {
      const span = open.get(key);
      if (span !== undefined && span.endedAt === undefined) {
        span.endedAt = event.at.getTime();
        span.endedBy = event.event;
      }
    }
  }
  return spans;
}

/** The most attempts running at one instant (an end and a claim at the same millisecond count as a handover, not an overlap). */
export function maxConcurrent(spans: readonly AttemptSpan[]): number {
  const points = spans.flatMap((span) => [
    { at: span.claimedAt, delta: 1 },
    { at: span.endedAt ?? Number.POSITIVE_INFINITY, delta: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let most = 0;
  for (const point of points) {
    running += point.delta;
    most = Math.max(most, running);
  }
  return most;
}

export interface SlotUse {
  /** Longest stretch during which a slot was free while a due job waited (ms). */
  longestIdleMs: number;
  /** Sum over time of free slots that had a due job to take them (slot-milliseconds). */
  idleSlotMs: number;
  /** Share of slot-time used while due jobs waited (1 = never a free slot with work waiting). */
  utilization: number;
  /** Most jobs busy at once: reserved by a dispatcher or running (what MAX_CONCURRENT_JOBS caps). */
  maxBusy: number;
}

type JobState = 'idle' | 'waiting' | 'reserved' | 'running';

/**
 * How well dispatch kept `cap` slots busy while work waited, as the cap counts them: a job is busy
 * from its reservation ('dispatched') or claim until its attempt ends, and waits from when it is
 * due — queued by `uploaded`, a lapsed lease (`lease_expired`), a retry once its backoff has passed,
 * a reservation given back (`dispatch_failed`) — until it is reserved or claimed. Free slots count
 * only while a job waits, and at most as many as wait. The time a started activation takes to
 * claim (a cold start) is the platform's, not dispatch's: see claimLatencies.
 */
export function slotUse(events: readonly TimelineEvent[], cap: number): SlotUse {
  const points: { at: number; order: number; jobId: string; event: string }[] = events.map((event, order) => ({
    at: event.at.getTime(),
    order,
    jobId: event.jobId,
    event: event.event,
  }));
  for (const [order, event] of events.entries()) {
    if (event.event === 'retry_scheduled') {
      points.push({ at: event.at.getTime() + Number(event.detail?.retryDelaySeconds ?? 0) * 1000, order, jobId: event.jobId, event: 'retry_due' });
    }
  }
  points.sort((a, b) => a.at - b.at || a.order - b.order);
  const states = new Map<string, JobState>();
  const count: Record<JobState, number> = { idle: 0, waiting: 0, reserved: 0, running: 0 };
  const move = (jobId: string, to: JobState, from?: readonly JobState[]) => {
    const current = states.get(jobId) ?? 'idle';
    if (from !== undefined && !from.includes(current)) return;
    count[current] -= states.has(jobId) ? 1 : 0;
    states.set(jobId, to);
    count[to] += 1;
  };
  let idleSince: number | undefined;
  let longestIdleMs = 0;
  let idleSlotMs = 0;
  let demandSlotMs = 0;
  let maxBusy = 0;
  for (const [index, point] of points.entries()) {
    switch (point.event) {
      case 'uploaded':
      case 'lease_expired':
        move(point.jobId, 'waiting');
        break;
      case 'retry_due':
        move(point.jobId, 'waiting', ['idle']);
        break;
      case 'dispatched':
        move(point.jobId, 'reserved', ['waiting']);
        break;
      case 'dispatch_failed':
        move(point.jobId, 'waiting', ['reserved']);
        break;
      case 'claimed':
        move(point.jobId, 'running');
        break;
      default:
        if (attemptEnds.has(point.event)) move(point.jobId, 'idle');
    }
    const busy = count.reserved + count.running;
    maxBusy = Math.max(maxBusy, busy);
    const next = points[index + 1]?.at ?? point.at;
    const wanted = Math.min(cap, busy + count.waiting);
    const idle = Math.max(0, wanted - busy);
    idleSlotMs += idle * (next - point.at);
    demandSlotMs += wanted * (next - point.at);
    if (idle > 0) idleSince ??= point.at;
    else if (idleSince !== undefined) {
      longestIdleMs = Math.max(longestIdleMs, point.at - idleSince);
      idleSince = undefined;
    }
  }
  return { longestIdleMs, idleSlotMs, utilization: demandSlotMs === 0 ? 1 : 1 - idleSlotMs / demandSlotMs, maxBusy };
}

/** From each reservation to the claim it led to (ms): how long the platform took to start the activation. */
export function claimLatencies(events: readonly TimelineEvent[]): number[] {
  const reservedAt = new Map<string, number>();
  const latencies: number[] = [];
  for (const event of events) {
    if (event.event === 'dispatched') reservedAt.set(event.jobId, event.at.getTime());
    if (event.event === 'dispatch_failed') reservedAt.delete(event.jobId);
    if (event.event === 'claimed') {
      const at = reservedAt.get(event.jobId);
      if (at !== undefined) latencies.push(event.at.getTime() - at);
      reservedAt.delete(event.jobId);
    }
  }
  return latencies;
}

/** Median, min and max of a list of numbers (for the figures the tests print). */
export function summary(values: readonly number[]): { median: number; min: number; max: number; count: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN, count: sorted.length };
}
