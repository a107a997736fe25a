// The client's retry policy as data (Uppy's shape): which failures are retried, how long to wait,
// when a part URL is re-signed, when everything pauses. Pure functions, no services.
import { describe, expect, it } from 'vitest';
import { decideRetry, defaultRetryPolicy, defaultShouldRetry, PauseGate, sleep, type RetryPolicy } from '../../src/client/retry.js';
import { parseRetryAfterSeconds } from '../../src/client/errors.js';

const policy: RetryPolicy = {
  retryDelaysMs: [0, 1_000, 3_000],
  unavailableRetryDelaysMs: [1_000, 10_000],
  shouldRetry: defaultShouldRetry,
  maxRetryAfterMs: 60_000,
};

describe('defaultShouldRetry', () => {
  it('retries network errors, 429 and 5xx', () => {
    for (const status of [0, 429, 500, 502, 503, 504]) expect(defaultShouldRetry(status), String(status)).toBe(true);
  });
  it('never retries other 4xx', () => {
    for (const status of [400, 401, 403, 404, 409, 413, 415, 422]) expect(defaultShouldRetry(status), String(status)).toBe(false);
  });
  it("is Uppy's list by default", () => {
    expect(defaultRetryPolicy.retryDelaysMs).toEqual([0, 1_000, 3_000, 5_000]);
  });
});

describe('decideRetry', () => {
  it('walks the delay list, one retry per entry, then fails', () => {
    const error = { status: 500 };
    expect(decideRetry(policy, error, 1, false)).toEqual({ action: 'retry', delayMs: 0, resign: false, pauseAll: false });
    expect(decideRetry(policy, error, 2, false)).toMatchObject({ action: 'retry', delayMs: 1_000 });
    expect(decideRetry(policy, error, 3, false)).toMatchObject({ action: 'retry', delayMs: 3_000 });
    expect(decideRetry(policy, error, 4, false)).toEqual({ action: 'fail' });
  });

  it('fails at once on a 4xx the policy does not retry', () => {
    expect(decideRetry(policy, { status: 422 }, 1, false)).toEqual({ action: 'fail' });
    expect(decideRetry(policy, { status: 403 }, 1, false)).toEqual({ action: 'fail' });
  });

  it('re-signs a 403 on a presigned part URL', () => {
    expect(decideRetry(policy, { status: 403 }, 1, true)).toEqual({ action: 'retry', delayMs: 0, resign: true, pauseAll: false });
    // …but only as many times as there are delays.
    expect(decideRetry(policy, { status: 403 }, 4, true)).toEqual({ action: 'fail' });
  });

  it('waits out Retry-After on 429 and pauses the whole upload', () => {
    expect(decideRetry(policy, { status: 429, retryAfterSeconds: 2 }, 1, false)).toEqual({
      action: 'retry',
      delayMs: 2_000,
      resign: false,
      pauseAll: true,
    });
    // The list's delay wins when it is longer than Retry-After.
    expect(decideRetry(policy, { status: 429, retryAfterSeconds: 1 }, 3, false)).toMatchObject({ delayMs: 3_000 });
  });

  it('retries 503 on its own, longer list, waits out Retry-After and pauses the whole upload', () => {
    expect(decideRetry(policy, { status: 503, retryAfterSeconds: 5 }, 1, false)).toEqual({ action: 'retry', delayMs: 5_000, resign: false, pauseAll: true });
    expect(decideRetry(policy, { status: 503, retryAfterSeconds: 5 }, 2, false)).toMatchObject({ action: 'retry', delayMs: 10_000 });
    expect(decideRetry(policy, { status: 503 }, 3, false)).toEqual({ action: 'fail' });
    // By default about two minutes in all: a database restart or failover is waited out.
    const waitedMs = defaultRetryPolicy.unavailableRetryDelaysMs.reduce((sum, delay) => sum + delay, 0);
    expect(waitedMs).toBeGreaterThanOrEqual(90_000);
    expect(waitedMs).toBeLessThanOrEqual(180_000);
  });

  it('does not sit through a Retry-After longer than the cap', () => {
    expect(decideRetry(policy, { status: 429, retryAfterSeconds: 3_600 }, 1, false)).toEqual({ action: 'fail' });
  });

  it('lets the caller replace shouldRetry', () => {
    const never: RetryPolicy = { ...policy, shouldRetry: () => false };
    expect(decideRetry(never, { status: 503 }, 1, false)).toEqual({ action: 'fail' });
    const conflicts: RetryPolicy = { ...policy, shouldRetry: (status) => status === 409 };
    expect(decideRetry(conflicts, { status: 409 }, 1, false)).toMatchObject({ action: 'retry' });
  });
});

describe('parseRetryAfterSeconds', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfterSeconds('120')).toBe(120);
    expect(parseRetryAfterSeconds(' 0 ')).toBe(0);
    const nowMs = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfterSeconds('Wed, 01 Jan 2025 00:00:30 GMT', nowMs)).toBe(30);
    expect(parseRetryAfterSeconds('Tue, 31 Dec 2024 23:00:00 GMT', nowMs)).toBe(0);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfterSeconds(null)).toBeUndefined();
    expect(parseRetryAfterSeconds('soon')).toBeUndefined();
    expect(parseRetryAfterSeconds('-5')).toBeUndefined();
  });
});

describe('PauseGate and sleep', () => {
  it('keeps the longest pause', () => {
    const gate = new PauseGate();
    gate.pauseFor(5_000, 1_000);
    gate.pauseFor(1_000, 1_000);
    expect(gate.remainingMs(1_000)).toBe(5_000);
    expect(gate.remainingMs(7_000)).toBe(0);
  });

  it('sleep rejects with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    const pending = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('a paused gate is left early by an abort', async () => {
    const gate = new PauseGate();
    gate.pauseFor(60_000);
    const controller = new AbortController();
    const waiting = gate.wait(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});
