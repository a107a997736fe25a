// Worker reuse: warm workers serve the next activation; one activation at a time per worker.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFixtureRuntime, type FixtureRuntime } from './helpers.js';

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

function pidOf(result: Record<string, unknown>): number {
  return result.pid as number;
}

it('reuses the warm worker for the next activation (no second init)', async () => {
  const first = await fixture.runtime.invoke('jobs/plain', {});
  const second = await fixture.runtime.invoke('jobs/plain', {});
  expect(pidOf(second.response.result)).toBe(pidOf(first.response.result));
  expect(first.annotations.some((entry) => entry.key === 'initTime')).toBe(true);
  expect(second.annotations.some((entry) => entry.key === 'initTime')).toBe(false);
});

it('runs concurrent activations in different workers, then both stay warm', async () => {
  const [a, b] = await Promise.all([
    fixture.runtime.invoke('jobs/plain', { delayMs: 300 }),
    fixture.runtime.invoke('jobs/plain', { delayMs: 300 }),
  ]);
  expect(pidOf(a.response.result)).not.toBe(pidOf(b.response.result));
  // Overlapping in time, so neither waited for the other.
  expect(Math.max(a.start, b.start)).toBeLessThan(Math.min(a.end, b.end));

  const [c, d] = await Promise.all([fixture.runtime.invoke('jobs/plain', {}), fixture.runtime.invoke('jobs/plain', {})]);
  expect(new Set([pidOf(c.response.result), pidOf(d.response.result)])).toEqual(new Set([pidOf(a.response.result), pidOf(b.response.result)]));
});

it('gives each function its own workers', async () => {
  const plain = await fixture.runtime.invoke('jobs/plain', {});
  const version = await fixture.runtime.invoke('jobs/version', {});
  expect(pidOf(version.response.result)).not.toBe(pidOf(plain.response.result));
});
