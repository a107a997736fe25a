// Memory is the container's: a worker whose resident memory (Buffers and native memory included,
// not only the V8 heap) passes its function's limits.memory is killed, the activation is recorded
// as memory exhausted, and the next one gets a fresh worker.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ActivationRecord } from '../../src/local/functions/activations.js';
import { annotation, isRunning, startFixtureRuntime, type FixtureRuntime } from './helpers.js';

const memoryExhausted = {
  status: 'action developer error',
  statusCode: 2,
  success: false,
  result: { error: 'The action exhausted its memory and was aborted.' },
};

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

function hogPid(record: ActivationRecord): number {
  return Number(/hog pid (\d+)/.exec(record.logs.join('\n'))?.[1]);
}

it('lets a worker use memory within its 256 MB limit and keeps it warm', async () => {
  const first = await fixture.runtime.invoke('jobs/hog', { megabytes: 64 });
  expect(first.response).toMatchObject({ success: true, result: { heldMegabytes: 64 } });
  const second = await fixture.runtime.invoke('jobs/hog', { megabytes: 16 });
  expect(second.response.result).toMatchObject({ pid: first.response.result.pid, heldMegabytes: 80 });
});

it('kills a worker holding 400 MB of Buffers under a 256 MB limit and records memory exhausted', async () => {
  const record = await fixture.runtime.invoke('jobs/hog', { megabytes: 400 });
  expect(record.response).toEqual(memoryExhausted);
  expect(annotation(record, 'timeout')).toBe(false);
  const pid = hogPid(record);
  expect(annotation(record, 'workerPid')).toBe(pid);
  expect(isRunning(pid)).toBe(false);

  const next = await fixture.runtime.invoke('jobs/hog', { megabytes: 1 });
  expect(next.response.success).toBe(true);
  expect(next.response.result.pid).not.toBe(pid);
});

it('records a worker whose V8 heap outgrows the limit as memory exhausted too', async () => {
  const record = await fixture.runtime.invoke('jobs/hog', { megabytes: 400, heap: true });
  expect(record.response).toEqual(memoryExhausted);
  expect(isRunning(hogPid(record))).toBe(false);
});
