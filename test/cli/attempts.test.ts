// A job's attempts as `sluice jobs show` reads them from its events: each claim opens one, on the
// build it names; the next transition out of processing with that attempt number closes it.
import { describe, expect, it } from 'vitest';
import { attemptsOf } from '../../src/cli/attempts.js';
import type { JobEvent } from '../../src/client/schemas.js';

function event(at: number, name: string, from: JobEvent['from'], to: JobEvent['to'], attempt: number, fields: Partial<JobEvent> = {}): JobEvent {
  return { at: new Date(at * 1000).toISOString(), event: name, from, to, attempt, activationId: null, codeVersion: null, detail: null, ...fields };
}

describe('attemptsOf', () => {
  it('pairs each claim with the transition that ended it, and leaves a running one open', () => {
    const events = [
      event(0, 'created', null, 'awaiting_upload', 0),
      event(1, 'uploaded', 'awaiting_upload', 'queued', 0),
      event(2, 'dispatched', 'queued', 'queued', 0, { detail: { invokedActivationId: 'a1' } }),
      event(3, 'claimed', 'queued', 'processing', 1, { activationId: 'a1', codeVersion: 'build-1' }),
      event(5, 'retry_scheduled', 'processing', 'queued', 1, { activationId: 'a1', detail: { code: 'ANALYZER_CRASHED', message: 'boom', retryDelaySeconds: 10 } }),
      event(20, 'claimed', 'queued', 'processing', 2, { activationId: 'a2', codeVersion: 'build-1' }),
      event(90, 'lease_expired', 'processing', 'queued', 2, { activationId: 'sweep-1' }),
      event(91, 'claimed', 'queued', 'processing', 3, { activationId: 'a3', codeVersion: 'build-2' }),
    ];
    expect(attemptsOf(events)).toEqual([
      { attempt: 1, build: 'build-1', activationId: 'a1', startedAt: events[3]?.at, endedAt: events[4]?.at, outcome: 'retry_scheduled', error: 'ANALYZER_CRASHED: boom' },
      { attempt: 2, build: 'build-1', activationId: 'a2', startedAt: events[5]?.at, endedAt: events[6]?.at, outcome: 'lease_expired', error: null },
      { attempt: 3, build: 'build-2', activationId: 'a3', startedAt: events[7]?.at, endedAt: null, outcome: 'running', error: null },
    ]);
  });

  it('ignores an ending whose attempt was never claimed (a zombie fenced out)', () => {
    expect(attemptsOf([event(0, 'failed', 'processing', 'failed', 4)])).toEqual([]);
  });
});
