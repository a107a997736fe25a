// A redeploy while an activation runs: it finishes on the old code, the next one runs the new.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { buildProject } from '../../src/local/build.js';
import { annotation, isRunning, startFixtureRuntime, waitForActivation, type FixtureRuntime } from './helpers.js';

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

it('keeps running activations on the old build and routes new ones to the new build', async () => {
  const warm = await fixture.runtime.invoke('jobs/version', {});
  expect(warm.response.result).toMatchObject({ version: 'v1' });
  const oldPid = annotation(warm, 'workerPid') as number;

  const { activationId: running } = await fixture.runtime.invoke('jobs/version', { holdMs: 1500 }, { blocking: false });

  const source = path.join(fixture.rootDir, 'packages/jobs/version/index.ts');
  await writeFile(source, (await readFile(source, 'utf8')).replace("const VERSION = 'v1'", "const VERSION = 'v2'"));
  await buildProject(fixture.rootDir);
  await fixture.runtime.deploy(fixture.project());

  const next = await fixture.runtime.invoke('jobs/version', {});
  expect(next.response.result).toMatchObject({ version: 'v2' });
  expect(next.version).not.toBe(warm.version);
  expect(annotation(next, 'workerPid')).not.toBe(oldPid);
  // Still running on the old worker while the new code already answers.
  expect(fixture.runtime.activation(running)).toBeUndefined();
  expect(isRunning(oldPid)).toBe(true);

  const old = await waitForActivation(fixture.runtime, running);
  expect(old.response).toMatchObject({ success: true, result: { version: 'v1', pid: oldPid } });
  expect(old.version).toBe(warm.version);
  expect(annotation(old, 'buildId')).toBe(warm.version);
  // The old build's worker is retired once its activation is done.
  await vi.waitFor(() => expect(isRunning(oldPid)).toBe(false), { timeout: 5_000, interval: 50 });
});
