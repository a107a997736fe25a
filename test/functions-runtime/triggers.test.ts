// Scheduled triggers from project.yml run on their cron (the fixture's fires every second).
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startFixtureRuntime, waitForActivation, type FixtureRuntime } from './helpers.js';

const lines: string[] = [];
let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime({ triggers: true, log: (line) => lines.push(line) });
});
afterAll(async () => {
  await fixture?.cleanup();
});

it('fires the trigger, invoking the function with the trigger body as params', async () => {
  const activationId = await vi.waitFor(
    () => {
      const fired = lines.map((line) => /trigger every-second fired jobs\/tick \(([0-9a-f]{32})\)/.exec(line)?.[1]).find(Boolean);
      if (!fired) throw new Error('not fired yet');
      return fired;
    },
    { timeout: 5_000, interval: 50 },
  );
  const record = await waitForActivation(fixture.runtime, activationId);
  expect(record.name).toBe('tick');
  expect(record.response.result).toEqual({ fired: true, params: { source: 'cron' } });
});
