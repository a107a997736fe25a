// How failures are recorded, and that a failed worker is not reused (the real runtime discards it).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { annotation, isRunning, startFixtureRuntime, type FixtureRuntime } from './helpers.js';

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

it('records a synchronous throw as a developer error and replaces the worker', async () => {
  const healthy = await fixture.runtime.invoke('jobs/crash', {});
  const thrown = await fixture.runtime.invoke('jobs/crash', { mode: 'throw' });
  expect(annotation(thrown, 'workerPid')).toBe(healthy.response.result.pid);
  expect(thrown.response).toEqual({
    status: 'action developer error',
    statusCode: 2,
    success: false,
    result: { error: 'An error has occurred: Error: sync failure' },
  });
  expect(thrown.logs.join('\n')).toContain('sync failure');
  expect(isRunning(healthy.response.result.pid as number)).toBe(false);
  const after = await fixture.runtime.invoke('jobs/crash', {});
  expect(after.response.result.pid).not.toBe(healthy.response.result.pid);
});

it('records a worker that exits mid-activation', async () => {
  const exited = await fixture.runtime.invoke('jobs/crash', { mode: 'exit' });
  expect(exited.response).toMatchObject({
    status: 'action developer error',
    result: { error: 'The action did not produce a valid response and exited unexpectedly.' },
  });
  expect((await fixture.runtime.invoke('jobs/crash', {})).response.success).toBe(true);
});

it('answers a web call whose promise rejected with its error value (204 when it is no HTTP response)', async () => {
  const record = await fixture.runtime.invoke('web/echo', { reply: 'throw' });
  // A rejected promise is an application error: its `error` value (here no HTTP shape) answers 204.
  expect(record.response.status).toBe('application error');
  const response = await fetch(`${fixture.runtime.webBase}/web/echo?reply=throw`);
  expect(response.status).toBe(204);
});
