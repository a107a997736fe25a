// `npm run dev` as a person runs it: it builds, starts every service, prints where they are,
// redeploys on every save, brings its Postgres back when that dies, and Ctrl-C leaves no process
// behind.
import { spawn, execFileSync, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { rootDir } from './helpers/paths.js';
import { descendants, isRunning } from './helpers/processes.js';

// One data dir per run of dev, each a folder of its own: Postgres's OS user must be able to enter
// the data dir's parent, which the platform opens up only one level above its postgres/ folder.
const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

// Up to the banner: a page build, the function bundles, Postgres (initdb on a new data dir) and S3.
const startTimeoutMs = 45_000;
// A rebuild of every bundle takes a second or two, several on a loaded machine, and waits for one
// under way (edits by others to src/ while the tests run start some too).
const rebuildTimeoutMs = 60_000;
// Postgres is back within a second here; a function's next query then reconnects.
const postgresBackTimeoutMs = 30_000;

/** Every process whose command line mentions the given text (the data dir names our servers). */
function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(text) && !line.includes('ps -eo'));
}

interface Dev {
  child: ChildProcessByStdio<null, Readable, Readable>;
  dataDir: string;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  exited: Promise<number | null>;
  /** Ctrl-C in its terminal: SIGINT to its whole process group. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `npm run dev` on free ports with its own data dir and waits for the banner. */
async function startDev(): Promise<Dev> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-dev-test-'));
  dataDirs.push(dataDir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
    cwd: rootDir,
    env: { ...process.env, PORT: '0', FUNCTIONS_PORT: '0', SPACES_PORT: '0', POSTGRES_PORT: '0', SLUICE_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, as a shell gives a command: Ctrl-C signals the whole group.
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
  const dev: Dev = {
    child,
    dataDir,
    output: () => output,
    exited,
    stop: () => {
      if (exitCode === undefined && child.pid !== undefined) process.kill(-child.pid, 'SIGINT');
      return exited;
    },
  };
  try {
    // Until the banner, or until the process dies (then its output says why).
    await expect.poll(() => exitCode !== undefined || output.includes('Ctrl-C stops everything'), { timeout: startTimeoutMs, interval: 100 }).toBe(true);
    expect(exitCode, output).toBeUndefined();
  } catch (error) {
    await dev.stop();
    throw error;
  }
  return dev;
}

function bannerUrl(dev: Dev, label: 'page' | 'functions'): string {
  const url = new RegExp(`^\\s*${label}\\s+(\\S+)`, 'm').exec(dev.output())?.[1];
  if (url === undefined) throw new Error(`no ${label} URL in the banner: ${dev.output()}`);
  return url;
}

/** Pid and port of the running postmaster, from its postmaster.pid (lines 1 and 4). */
function postmaster(dev: Dev): { pid: number; port: number } {
  const lines = readFileSync(path.join(dev.dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

describe('npm run dev', () => {
  it('starts everything, prints the URLs and stops cleanly on SIGINT', async () => {
    const dev = await startDev();
    const pageUrl = bannerUrl(dev, 'page');
    const createUrl = bannerUrl(dev, 'functions');
    expect(pageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(createUrl).toMatch(/\/api\/v1\/web\/[\w-]+\/presign\/create$/);

    const page = await fetch(pageUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Sluice</title>');
    const config = (await (await fetch(new URL('config.json', pageUrl))).json()) as { apiBase: string };
    expect(`${config.apiBase}/presign/create`).toBe(createUrl);
    // A malformed path is refused, not thrown out of the handler (which would end dev).
    expect((await fetch(`${pageUrl}%E0%A4%A`)).status).toBe(400);
    expect((await fetch(pageUrl)).status).toBe(200);
    const preflight = await fetch(createUrl, { method: 'OPTIONS', headers: { origin: new URL(pageUrl).origin, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBeLessThan(300);

    expect(processesMentioning(dev.dataDir).length).toBeGreaterThan(0);
    const started = descendants(dev.child.pid ?? -1);
    expect(started.length).toBeGreaterThan(1);
    expect(await dev.stop()).toBe(0);
    expect(dev.output()).toContain('stopped');
    expect(processesMentioning(dev.dataDir)).toEqual([]);
    // Postgres, S3 and the function workers are gone when dev exits (above); tsx's own esbuild
    // service notices its closed stdin a moment later.
    await expect.poll(() => started.filter(isRunning), { timeout: 5_000, interval: 100 }).toEqual([]);
  }, 90_000);

  it('redeploys after every rename-save of a source file, not only the first', async () => {
    // A file of its own under src/, removed whatever happens: the repository's sources are never touched.
    const probe = path.join(rootDir, 'src', 'local', `.dev-test-probe-${process.pid}.ts`);
    // Rebuilds for the probe: dev names the files a rebuild was for, and others may be editing src/ meanwhile.
    const rebuilds = (dev: Dev) => dev.output().split('\n').filter((line) => line.includes(path.relative(rootDir, probe)) && line.includes('changed; rebuilt:')).length;
    let dev: Dev | undefined;
    try {
      dev = await startDev();
      const running = dev;
      const savedRebuilds = async (save: () => void) => {
        const before = rebuilds(running);
        save();
        await expect
          .poll(() => rebuilds(running), { timeout: rebuildTimeoutMs, interval: 100 })
          .toBeGreaterThan(before)
          .catch((error: unknown) => {
            throw new Error(`no rebuild for the save; dev printed:\n${running.output().split('\n').slice(-20).join('\n')}`, { cause: error });
          });
      };
      await savedRebuilds(() => writeFileSync(probe, 'export const probe = 0;\n'));
      // An editor's save: write a temporary file beside it, rename it over the original.
      await savedRebuilds(() => {
        writeFileSync(`${probe}.tmp`, 'export const probe = 1;\n');
        renameSync(`${probe}.tmp`, probe);
      });
      // sed -i saves the same way, with a temporary file of its own.
      await savedRebuilds(() => execFileSync('sed', ['-i', 's/probe = 1/probe = 2/', probe]));
      await savedRebuilds(() => execFileSync('sed', ['-i', 's/probe = 2/probe = 3/', probe]));
    } finally {
      rmSync(probe, { force: true });
      rmSync(`${probe}.tmp`, { force: true });
      await dev?.stop();
    }
  }, 360_000);

  it('says loudly that its Postgres died, restarts it on the same port, and the functions reach it again', async () => {
    const dev = await startDev();
    try {
      const createUrl = bannerUrl(dev, 'functions');
      const create = () =>
        fetch(createUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filename: 'a.txt', size: 3, contentType: 'text/plain' }) }).then(
          async (response) => {
            await response.arrayBuffer();
            return response.status;
          },
          (error: unknown) => String(error),
        );
      expect(await create()).toBe(201);

      const before = postmaster(dev);
      process.kill(before.pid, 'SIGKILL');
      await expect.poll(() => dev.output(), { timeout: postgresBackTimeoutMs, interval: 100 }).toMatch(/postgres exited unexpectedly \(.*signal SIGKILL.*\); restarting/);
      await expect.poll(() => create(), { timeout: postgresBackTimeoutMs, interval: 200 }).toBe(201);
      const after = postmaster(dev);
      expect(after.pid).not.toBe(before.pid);
      expect(after.port).toBe(before.port);
      expect(isRunning(after.pid)).toBe(true);

      // A deliberate stop is no death: nothing is restarted, nothing is left behind.
      expect(await dev.stop()).toBe(0);
      expect(dev.output().match(/exited unexpectedly/g)).toHaveLength(1);
      expect(processesMentioning(dev.dataDir)).toEqual([]);
    } finally {
      await dev.stop();
    }
  }, 120_000);
});
