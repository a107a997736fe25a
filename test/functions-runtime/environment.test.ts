// The __OW_* environment of an activation; __OW_API_KEY only with `provide-api-key: true`.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { restInvoke, startFixtureRuntime, type FixtureRuntime } from './helpers.js';

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

it('sets the __OW_* variables of the activation, and the API key with the annotation', async () => {
  const before = Date.now();
  const response = await fetch(`${fixture.runtime.webBase}/web/keyed`);
  const env = (await response.json()) as Record<string, string>;
  expect(env).toMatchObject({
    __OW_API_HOST: fixture.runtime.apiHost,
    __OW_API_KEY: fixture.runtime.apiKey,
    __OW_NAMESPACE: fixture.runtime.namespace,
    __OW_ACTION_NAME: `/${fixture.runtime.namespace}/web/keyed`,
    __OW_ACTIVATION_ID: response.headers.get('x-openwhisk-activation-id'),
    __OW_TRANSACTION_ID: expect.stringMatching(/^[0-9a-f]{32}$/),
  });
  const record = fixture.runtime.activation(env.__OW_ACTIVATION_ID ?? '');
  expect(env.__OW_ACTION_VERSION).toBe(record?.version);
  // Deadline: activation start + the function's 5000 ms timeout.
  expect(Number(env.__OW_DEADLINE)).toBe((record?.start ?? 0) + 5000);
  expect(Number(env.__OW_DEADLINE)).toBeGreaterThanOrEqual(before + 5000);

  // The key it was given is refused by the invoke API: DigitalOcean's REST API takes namespace
  // access keys since 2026 and whether it still takes this one is not documented (runtime.ts).
  const call = await restInvoke(fixture.runtime, 'jobs/plain', {}, 'blocking=true', env.__OW_API_KEY);
  expect(call.status).toBe(401);
});

it('gives no API key to a function without the annotation', async () => {
  const record = await fixture.runtime.invoke('jobs/plain', {});
  const env = record.response.result.env as Record<string, string>;
  expect(env.__OW_API_KEY).toBeUndefined();
  expect(env.__OW_ACTIVATION_ID).toBe(record.activationId);
  expect(env.__OW_API_HOST).toBe(fixture.runtime.apiHost);
  // Only the platform's variables: nothing leaks from the machine running the runtime.
  expect(env.__OW_NAMESPACE).toBe(fixture.runtime.namespace);
  expect(record.response.result.env).not.toHaveProperty('HOME');
});
