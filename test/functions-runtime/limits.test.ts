// Namespace limits: past the concurrent or per-minute cap, invocations are refused with 429.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvokeError } from '../../src/local/functions/runtime.js';
import { restInvoke, startFixtureRuntime, type FixtureRuntime } from './helpers.js';

const maxConcurrentActivations = 2;
const maxInvocationsPerMinute = 5;

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime({ maxConcurrentActivations, maxInvocationsPerMinute });
});
afterAll(async () => {
  await fixture?.cleanup();
});

it('refuses activations past the concurrent limit, then past the per-minute limit', async () => {
  const running = [fixture.runtime.invoke('jobs/plain', { delayMs: 400 }), fixture.runtime.invoke('jobs/plain', { delayMs: 400 })];

  const overConcurrent = await restInvoke(fixture.runtime, 'jobs/plain', {}, 'blocking=false');
  expect(overConcurrent.status).toBe(429);
  expect(await overConcurrent.json()).toEqual({
    error: 'Too many concurrent requests in flight (count: 3, allowed: 2).',
    code: expect.stringMatching(/^[0-9a-f]{32}$/),
  });
  const web = await fetch(`${fixture.runtime.webBase}/web/final`);
  expect(web.status).toBe(429);
  await expect(fixture.runtime.invoke('jobs/plain', {})).rejects.toMatchObject({ status: 429 });

  const done = await Promise.all(running);
  expect(done.map((record) => record.response.success)).toEqual([true, true]);

  // Two admitted so far; three more fit in the minute, the sixth does not.
  for (let call = 0; call < 3; call += 1) expect((await fixture.runtime.invoke('jobs/plain', {})).response.success).toBe(true);
  const overRate = await restInvoke(fixture.runtime, 'jobs/plain', {}, 'blocking=true');
  expect(overRate.status).toBe(429);
  expect(await overRate.json()).toMatchObject({ error: 'Too many requests in the last minute (count: 6, allowed: 5).' });
  await expect(fixture.runtime.invoke('jobs/plain', {})).rejects.toBeInstanceOf(InvokeError);
});
