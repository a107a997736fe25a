// A newcomer's first run: `npm run dev` (on whatever ports it gets), then `sluice upload` from a
// subdirectory with a relative path and no flag. The CLI finds the platform through the state file
// dev writes at start (and removes at stop), and says what to do once dev is gone.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedContentTypesDefault } from '../../src/config.js';
import { devStateFileName, findDevState } from '../../src/local/dev-state.js';
import { rootDir } from '../helpers/paths.js';
import { eventually, sluice } from './support.js';

// Up to the banner: a page build, the function bundles, Postgres (initdb on a new data dir) and S3.
const startTimeoutMs = 60_000;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-dev-'));
const work = mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-work-'));
let output = '';
let exited: Promise<number | null>;
let pid = 0;

beforeAll(async () => {
  // Every port 0 (free ones), as a newcomer whose 3001 is taken would get with FUNCTIONS_PORT.
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
    cwd: rootDir,
    env: { ...process.env, PORT: '0', FUNCTIONS_PORT: '0', SPACES_PORT: '0', POSTGRES_PORT: '0', SLUICE_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  pid = child.pid ?? 0;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitCode: number | null | undefined;
  exited = new Promise((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
  await eventually('npm run dev to start', () => (exitCode !== undefined || output.includes('Ctrl-C stops everything') ? true : undefined), startTimeoutMs, 100);
  expect(exitCode, output).toBeUndefined();
}, startTimeoutMs + 10_000);

afterAll(async () => {
  if (pid > 0) {
    try {
      process.kill(-pid, 'SIGINT');
    } catch {
      // Already stopped by the last test.
    }
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}, 30_000);

describe('sluice and npm run dev', () => {
  it('dev announces itself in a private state file, and says which types it accepts', () => {
    const found = findDevState(dataDir);
    expect(found.kind).toBe('running');
    if (found.kind !== 'running') return;
    // dev runs in the process started (tsx is a loader in it, not a parent process): the state file names it.
    expect(found.state.pid).toBe(pid);
    expect(output).toContain(`${found.state.apiBase}/presign/create`);
    expect(statSync(path.join(dataDir, devStateFileName)).mode & 0o777).toBe(0o600);
    expect(output).toContain(`types       ${allowedContentTypesDefault.join(', ')} (the deployment default; ALLOWED_CONTENT_TYPES=*/* in .env allows everything)`);
  });

  it('upload finds it with no flag, from a subdirectory, with a relative path', async () => {
    mkdirSync(path.join(work, 'notes'), { recursive: true });
    writeFileSync(path.join(work, 'notes', 'todo.txt'), 'buy milk\nwrite docs\n');
    const run = await sluice(['upload', 'notes/todo.txt'], { cwd: work, env: { SLUICE_DATA_DIR: dataDir } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^✓ todo\.txt {2}Text · 2 lines/);
    expect(run.stderr).toContain(`(from npm run dev (${path.join(dataDir, devStateFileName)}))`);
  }, 60_000);

  it('once dev has stopped, says so and what to do (exit 2)', async () => {
    process.kill(-pid, 'SIGINT');
    expect(await exited).toBe(0);
    expect(findDevState(dataDir).kind).toBe('missing');
    const run = await sluice(['upload', 'notes/todo.txt'], { cwd: work, env: { SLUICE_DATA_DIR: dataDir } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('sluice: no Sluice API to talk to (npm run dev is not running): start `npm run dev`, or pass --api <url> or set SLUICE_API_BASE');
  }, 30_000);
});
