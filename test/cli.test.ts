// `npm run sluice`: a person uploads from a terminal and reads the result; a bad call says why.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../src/local/platform.js';
import { startTestPlatform } from './helpers/platform.js';
import { rootDir } from './helpers/paths.js';

const run = promisify(execFile);
const tsx = path.join(rootDir, 'node_modules/tsx/dist/cli.mjs');
let platform: Platform;
const directory = mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-'));

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
  rmSync(directory, { recursive: true, force: true });
});

function sluice(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return run(process.execPath, [tsx, 'scripts/sluice.ts', ...args, '--api', platform.apiBase], { cwd: rootDir }).then(
    ({ stdout, stderr }) => ({ stdout, stderr, code: 0 }),
    (error: { stdout: string; stderr: string; code: number }) => ({ stdout: error.stdout, stderr: error.stderr, code: error.code }),
  );
}

describe('npm run sluice', () => {
  it('uploads a file, waits for processing and prints the result', async () => {
    const file = path.join(directory, 'people.csv');
    writeFileSync(file, 'name,age\nada,36\ngrace,45\n');
    const { stdout, stderr, code } = await sluice('upload', file);
    expect(stderr).toContain('100%');
    expect(stdout).toMatch(/people\.csv: uploaded, job [0-9a-f-]{36}/);
    expect(stdout).toContain('people.csv: succeeded');
    expect(stdout).toMatch(/"rows": 2/);
    expect(code).toBe(0);

    const [, jobId, token] = /status (\S+) (\S+)/.exec(stdout) ?? [];
    const status = await sluice('status', jobId ?? '', token ?? '');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('people.csv: succeeded');
  }, 60_000);

  it('says why a call failed and exits non-zero', async () => {
    const { stderr, code } = await sluice('status', '00000000-0000-4000-8000-000000000000', 'x'.repeat(43));
    expect(stderr).toContain('JOB_NOT_FOUND (404)');
    expect(code).toBe(1);
  }, 30_000);

  it('prints its usage for a malformed command', async () => {
    const { stderr, code } = await sluice('upload');
    expect(stderr).toContain('usage:');
    expect(code).toBe(2);
  }, 30_000);
});
