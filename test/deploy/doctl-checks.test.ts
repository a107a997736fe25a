// `npm run deploy` when doctl is not ready: not installed, not authenticated, without its
// serverless support, not connected to a namespace. Each says which command fixes it, exits 1,
// and nothing is changed: no doctl command but the read-only checks, .env as it was, nothing built.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setEnvFileValue } from '../../src/deploy/env-file.js';
import { copyRepository, createStandin, deployOutputs, exampleSettings, npmRun, readOnlyCommands, type StandinState } from './support.js';

const commandTimeoutMs = 60_000;

let copy: string;
let bin: string;
let envText: string;

beforeAll(() => {
  copy = copyRepository();
  const envFile = path.join(copy, '.env');
  copyFileSync(path.join(copy, '.env.example'), envFile);
  for (const [name, value] of Object.entries(exampleSettings)) setEnvFileValue(envFile, name, value);
  envText = readFileSync(envFile, 'utf8');
  // A PATH holding only what npm needs (node, npm, sh): no doctl, whatever this machine has installed.
  bin = mkdtempSync(path.join(os.tmpdir(), 'sluice-no-doctl-'));
  for (const tool of ['npm', 'sh']) symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), path.join(bin, tool));
  symlinkSync(process.execPath, path.join(bin, 'node'));
});
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
  if (bin) rmSync(bin, { recursive: true, force: true });
});

function expectNothingChanged(): void {
  expect(deployOutputs(copy)).toEqual({ bundles: false, page: false, envFile: envText });
}

describe('npm run deploy with doctl not ready', () => {
  it('without doctl, says how to install it', async () => {
    const { code, stdout } = await npmRun(copy, 'deploy', [], { ...process.env, PATH: bin });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^✓ settings /m);
    expect(stdout).toMatch(/^✗ doctl +doctl is not installed \(not found on PATH\) → install doctl \(DigitalOcean docs: "How to Install and Configure doctl", e\.g\. `sudo snap install doctl` or `brew install doctl`\), then run `doctl auth init`$/m);
    expect(stdout).toContain('Stopped at "doctl"; the steps after it did not run.');
    expectNothingChanged();
  }, commandTimeoutMs);

  const cases: { name: string; state: Partial<StandinState>; problem: string; fix: string }[] = [
    {
      name: 'not authenticated',
      state: { account: null },
      problem: "doctl is not authenticated (Unable to initialize DigitalOcean API client: access token is required. (hint: run 'doctl auth init'))",
      fix: 'run `doctl auth init`',
    },
    { name: 'without serverless support', state: { serverless: 'not-installed' }, problem: 'doctl has no serverless support installed', fix: 'run `doctl serverless install`' },
    { name: 'with outdated serverless support', state: { serverless: 'needs-upgrade' }, problem: "doctl's serverless support is older than doctl needs", fix: 'run `doctl serverless upgrade`' },
    { name: 'not connected to a namespace', state: { serverless: 'not-connected' }, problem: 'doctl is not connected to a functions namespace', fix: 'run `doctl serverless connect`' },
  ];
  it.each(cases)('$name, says which command fixes it', async ({ state, problem, fix }) => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'sluice-doctl-state-'));
    try {
      const standin = createStandin(work, state);
      const { code, stdout } = await npmRun(copy, 'deploy', [], standin.environment);
      expect(code).toBe(1);
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('✗ doctl'));
      expect(line).toContain(`${problem} → ${fix}`);
      expect(stdout).toContain('Stopped at "doctl"');
      expect(standin.commands().every((command) => readOnlyCommands.includes(command))).toBe(true);
      expect(standin.state().keys).toEqual([]);
      expect(standin.state().deployed).toBe(false);
      expectNothingChanged();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, commandTimeoutMs);
});
