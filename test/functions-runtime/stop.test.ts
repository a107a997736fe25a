// stop() leaves nothing behind: every worker process is gone and the port is closed.
import { expect, it } from 'vitest';
import { isRunning, startFixtureRuntime, workerPids } from './helpers.js';

it('kills every worker, idle or busy, and closes the server', async () => {
  const lines: string[] = [];
  const fixture = await startFixtureRuntime({ log: (line) => lines.push(line) });
  const { runtime } = fixture;
  const before = workerPids();
  await Promise.all([runtime.invoke('jobs/plain', { delayMs: 100 }), runtime.invoke('jobs/plain', { delayMs: 100 })]);
  const { activationId: busy } = await runtime.invoke('jobs/slow', {}, { blocking: false });
  // The slow activation is running once its worker is up and handed the activation.
  await expect.poll(() => lines.some((line) => line.includes('for jobs/slow')), { timeout: 5_000, interval: 20 }).toBe(true);
  expect(workerPids().length - before.length).toBe(3);
  const pids = workerPids().filter((pid) => !before.includes(pid));

  await runtime.stop();
  // A rebuild that lands after the stop (npm run dev's watcher) is refused, so no trigger is re-armed.
  await expect(runtime.deploy(fixture.project())).rejects.toMatchObject({ status: 503 });
  await fixture.cleanup();

  expect(pids.filter(isRunning)).toEqual([]);
  expect(workerPids().filter((pid) => pids.includes(pid))).toEqual([]);
  await expect(fetch(`${runtime.apiHost}/api/v1/web/${runtime.namespace}/web/echo`)).rejects.toThrow();
  // The activation cut short by the stop is recorded as one that ended without a result.
  expect(runtime.activation(busy)?.response.status).toBe('action developer error');
  await expect(runtime.invoke('jobs/plain', {})).rejects.toMatchObject({ status: 503 });
});
