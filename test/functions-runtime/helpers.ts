// Shared setup for the runtime tests: a private copy of the fixture project, built with the
// project's own build, and a runtime on a free port. Each test file gets its own copy so files
// running in parallel never read a bundle another one is rewriting (the redeploy test rewrites
// sources).
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { buildProject } from '../../src/local/build.js';
import { loadProject, type Project } from '../../src/local/project.js';
import { startFunctionsRuntime, type FunctionsRuntime, type FunctionsRuntimeOptions } from '../../src/local/functions/runtime.js';
import type { ActivationRecord } from '../../src/local/functions/activations.js';

export { isRunning, workerPids } from '../helpers/processes.js';

const fixtureDir = fileURLToPath(new URL('../fixtures/runtime-project/', import.meta.url));

export interface FixtureRuntime {
  runtime: FunctionsRuntime;
  rootDir: string;
  project(): Project;
  /** Stops the runtime and removes the copy. */
  cleanup(): Promise<void>;
}

export async function startFixtureRuntime(options: Omit<FunctionsRuntimeOptions, 'project'> = {}): Promise<FixtureRuntime> {
  const rootDir = await mkdtemp(path.join(tmpdir(), 'sluice-runtime-fixture-'));
  await cp(fixtureDir, rootDir, { recursive: true, filter: (source) => !source.endsWith(`${path.sep}index.js`) });
  await buildProject(rootDir);
  const project = (): Project => loadProject(rootDir, { variables: {} });
  const runtime = await startFunctionsRuntime({ triggers: false, ...options, project: project() });
  return {
    runtime,
    rootDir,
    project,
    async cleanup() {
      await runtime.stop();
      await rm(rootDir, { recursive: true, force: true });
    },
  };
}

export function basicAuth(apiKey: string): string {
  return `Basic ${Buffer.from(apiKey).toString('base64')}`;
}

/** The REST invoke API, as another function (or the API) calls it. */
export async function restInvoke(
  runtime: FunctionsRuntime,
  name: string,
  params: Record<string, unknown>,
  query: string,
  apiKey = runtime.accessKey,
): Promise<Response> {
  return fetch(`${runtime.apiHost}/api/v1/namespaces/_/actions/${name}?${query}`, {
    method: 'POST',
    headers: { authorization: basicAuth(apiKey), 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
}

/** Polls the REST API until the activation's record exists (it appears when the activation ends). */
export async function waitForActivation(runtime: FunctionsRuntime, activationId: string, timeout = 10_000): Promise<ActivationRecord> {
  return vi.waitFor(
    async () => {
      const response = await fetch(`${runtime.apiHost}/api/v1/namespaces/_/activations/${activationId}`, {
        headers: { authorization: basicAuth(runtime.accessKey) },
      });
      if (response.status !== 200) throw new Error(`activation ${activationId}: ${response.status}`);
      return (await response.json()) as ActivationRecord;
    },
    { timeout, interval: 50 },
  );
}

export function annotation(record: ActivationRecord, key: string): unknown {
  return record.annotations.find((entry) => entry.key === key)?.value;
}

