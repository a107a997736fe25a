// An activation past its function's limits.timeout: the worker is killed and the record says so.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { annotation, isRunning, startFixtureRuntime, type FixtureRuntime } from './helpers.js';

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

it('kills the worker at the timeout and records a developer error with the timeout annotation', async () => {
  const record = await fixture.runtime.invoke('jobs/slow', {});
  expect(record.response).toEqual({
    status: 'action developer error',
    statusCode: 2,
    success: false,
    result: { error: 'The action exceeded its time limits of 1500 milliseconds.' },
  });
  expect(annotation(record, 'timeout')).toBe(true);
  expect(record.duration).toBeGreaterThanOrEqual(1500);
  expect(record.duration).toBeLessThan(5000);

  const pid = Number(/slow pid (\d+)/.exec(record.logs.join('\n'))?.[1]);
  expect(pid).toBeGreaterThan(0);
  expect(annotation(record, 'workerPid')).toBe(pid);
  expect(isRunning(pid)).toBe(false);

  // The next activation gets a fresh worker.
  const next = await fixture.runtime.invoke('jobs/slow', {});
  expect(annotation(next, 'workerPid')).not.toBe(pid);
});
