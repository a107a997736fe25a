// `npm run dev` as a person runs it: it builds, starts every service, prints where they are, and
// Ctrl-C leaves no process behind.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rootDir } from './helpers/paths.js';
import { descendants, isRunning } from './helpers/processes.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-dev-test-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Every process whose command line mentions the given text (the data dir names our servers). */
function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(text) && !line.includes('ps -eo'));
}

describe('npm run dev', () => {
  it('starts everything, prints the URLs and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, [path.join(rootDir, 'node_modules/tsx/dist/cli.mjs'), 'scripts/dev.ts'], {
      cwd: rootDir,
      env: { ...process.env, PORT: '0', FUNCTIONS_PORT: '0', SPACES_PORT: '0', POSTGRES_PORT: '0', SLUICE_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))));

    // Until the banner, or until the process dies (then its output says why).
    await expect.poll(() => (exitCode === undefined ? output : `exited ${exitCode}: ${output}`), { timeout: 45_000, interval: 100 }).toMatch(/Ctrl-C stops everything/);
    expect(exitCode).toBeUndefined();
    const pageUrl = /^\s*page\s+(\S+)/m.exec(output)?.[1];
    const createUrl = /^\s*functions\s+(\S+)/m.exec(output)?.[1];
    expect(pageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(createUrl).toMatch(/\/api\/v1\/web\/[\w-]+\/presign\/create$/);

    const page = await fetch(pageUrl ?? '');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Sluice</title>');
    const config = (await (await fetch(new URL('config.json', pageUrl))).json()) as { apiBase: string };
    expect(`${config.apiBase}/presign/create`).toBe(createUrl);
    // A malformed path is refused, not thrown out of the handler (which would end dev).
    expect((await fetch(`${pageUrl ?? ''}%E0%A4%A`)).status).toBe(400);
    expect((await fetch(pageUrl ?? '')).status).toBe(200);
    const preflight = await fetch(createUrl ?? '', { method: 'OPTIONS', headers: { origin: new URL(pageUrl ?? '').origin, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBeLessThan(300);

    expect(processesMentioning(dataDir).length).toBeGreaterThan(0);
    const started = descendants(child.pid ?? -1);
    expect(started.length).toBeGreaterThan(1);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
    expect(processesMentioning(dataDir)).toEqual([]);
    // Postgres, S3 and the function workers are gone when dev exits (above); tsx's own esbuild
    // service notices its closed stdin a moment later.
    await expect.poll(() => started.filter(isRunning), { timeout: 5_000, interval: 100 }).toEqual([]);
  }, 90_000);
});
