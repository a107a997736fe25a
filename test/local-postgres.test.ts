// The local Postgres stand-in: a real PostgreSQL 17 server that starts on a free port, keeps dev
// data across runs, recovers from a run that was killed, and leaves no process behind.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, startLocalPostgres, type LocalPostgres } from '../src/local/postgres.js';
import { rootDir } from './helpers/paths.js';

let workDir: string;
const started: LocalPostgres[] = [];
beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-postgres-test-'));
});
afterAll(async () => {
  // A failed assertion must not leave servers behind: stop ours, then any the killed child left.
  await Promise.all(started.map((server) => server.stop()));
  for (const entry of await fs.readdir(workDir)) {
    const dataDir = path.join(workDir, entry);
    const pid = existsSync(path.join(dataDir, 'postmaster.pid')) ? postmasterPid(dataDir) : 0;
    if (pid > 0 && isAlive(pid)) {
      process.kill(pid, 'SIGINT');
      await expect.poll(() => isAlive(pid), { timeout: 15_000 }).toBe(false);
    }
  }
  await fs.rm(workDir, { recursive: true, force: true });
});

/** One persistent cluster shared by the tests below: each initdb costs a second or more here. */
function persistentDataDir(): string {
  return path.join(workDir, 'persistent');
}

async function start(options: Parameters<typeof startLocalPostgres>[0]): Promise<LocalPostgres> {
  const server = await startLocalPostgres(options);
  started.push(server);
  return server;
}

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** The postmaster and every process it forked (checkpointer, walwriter, backends, ...). */
function serverPids(dataDir: string): number[] {
  const postmaster = postmasterPid(dataDir);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

describe('startLocalPostgres', () => {
  it('serves the sluice database on 127.0.0.1, carries LISTEN/NOTIFY, and stop leaves no process', async () => {
    const dataDir = path.join(workDir, 'fresh');
    const server = await start({ dataDir, port: 0, persistent: false });
    const url = new URL(server.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe('/sluice');
    expect(Number(url.port)).toBeGreaterThan(0);

    const listener = postgres(server.url, { max: 1 });
    const notifier = postgres(server.url, { max: 1 });
    try {
      const [row] = await listener`select current_database() as db, current_setting('server_version_num')::int as version, current_setting('listen_addresses') as listen`;
      expect(row).toEqual({ db: 'sluice', version: expect.any(Number), listen: '127.0.0.1' });
      expect(Math.floor(Number(row?.version) / 10_000)).toBe(17);

      let deliver: (payload: string) => void = () => undefined;
      const received = new Promise<string>((resolve) => (deliver = resolve));
      // listen() resolves once LISTEN has run on the server, so the notification cannot be missed.
      await listener.listen('job_queued', (payload) => deliver(payload));
      await notifier`select pg_notify('job_queued', 'job-42')`;
      expect(await received).toBe('job-42');
    } finally {
      await Promise.all([listener.end(), notifier.end()]);
    }

    // Backends of the connections just ended may still be exiting: keep the living ones.
    const pids = serverPids(dataDir).filter(isAlive);
    expect(pids[0]).toBe(postmasterPid(dataDir));
    expect(pids.length).toBeGreaterThan(1);
    await server.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    await expect(fs.access(dataDir)).rejects.toThrow();
    await server.stop();
  });

  it('keeps a persistent data dir across restarts without initialising it again', async () => {
    const dataDir = persistentDataDir();
    const firstLog: string[] = [];
    const first = await start({ dataDir, persistent: true, log: (line) => firstLog.push(line) });
    const sql1 = postgres(first.url, { max: 1 });
    await sql1`create table notes (body text)`;
    await sql1`insert into notes values ('kept')`;
    await sql1.end();
    await first.stop();
    expect(firstLog.some((line) => line.includes('initialised a new cluster'))).toBe(true);

    const secondLog: string[] = [];
    const second = await start({ dataDir, persistent: true, log: (line) => secondLog.push(line) });
    try {
      expect(secondLog.some((line) => line.includes('initialised'))).toBe(false);
      const sql2 = postgres(second.url, { max: 1 });
      expect(await sql2`select body from notes`).toEqual([{ body: 'kept' }]);
      await sql2.end();
    } finally {
      await second.stop();
    }
    await expect(fs.access(path.join(dataDir, 'PG_VERSION'))).resolves.toBeUndefined();
  });

  it('stops a server left running by a node process that was SIGKILLed', async () => {
    const dataDir = persistentDataDir();
    const script = path.join(workDir, 'start-and-hang.mts');
    await fs.writeFile(
      script,
      [
        `import { startLocalPostgres } from ${JSON.stringify(pathToFileURL(path.join(rootDir, 'src/local/postgres.ts')).href)};`,
        `const server = await startLocalPostgres({ dataDir: ${JSON.stringify(dataDir)}, persistent: true });`,
        `console.log(JSON.stringify({ url: server.url }));`,
        'setInterval(() => undefined, 60_000);',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: rootDir, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const firstLine = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('\n')) resolve(output.split('\n')[0] ?? '');
      });
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before starting Postgres: ${output}`)));
    });
    const staleUrl = (JSON.parse(firstLine) as { url: string }).url;
    const staleSql = postgres(staleUrl, { max: 1 });
    await staleSql`create table survived (n int)`;
    await staleSql`insert into survived values (1)`;
    await staleSql.end();

    child.kill('SIGKILL');
    await exited;
    // The premise: killing node does not take its Postgres down.
    const stalePids = serverPids(dataDir).filter(isAlive);
    expect(stalePids[0]).toBe(postmasterPid(dataDir));
    expect(stalePids.length).toBeGreaterThan(1);

    const log: string[] = [];
    const server = await start({ dataDir, persistent: true, log: (line) => log.push(line) });
    try {
      expect(stalePids.filter(isAlive)).toEqual([]);
      expect(log.join('\n')).toMatch(new RegExp(`stopped the stale server \\(pid ${stalePids[0]}\\)`));
      const sql = postgres(server.url, { max: 1 });
      expect(await sql`select n from survived`).toEqual([{ n: 1 }]);
      await sql.end();
    } finally {
      await server.stop();
    }
  });

  it('removes a postmaster.pid whose process is gone', async () => {
    const dataDir = persistentDataDir();
    // Initialises the cluster when this test runs alone.
    const first = await start({ dataDir, persistent: true });
    await first.stop();

    const finished = spawn(process.execPath, ['-e', '']);
    await new Promise<void>((resolve) => finished.once('exit', () => resolve()));
    const deadPid = finished.pid ?? 0;
    expect(isAlive(deadPid)).toBe(false);
    await fs.writeFile(path.join(dataDir, 'postmaster.pid'), `${deadPid}\n${dataDir}\n0\n5432\n\n127.0.0.1\n0 0\nready   \n`);

    const log: string[] = [];
    const server = await start({ dataDir, persistent: true, log: (line) => log.push(line) });
    try {
      expect(log.join('\n')).toContain(`removed a stale postmaster.pid from ${dataDir} (pid ${deadPid} is not a running server)`);
      const sql = postgres(server.url, { max: 1 });
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
      await sql.end();
    } finally {
      await server.stop();
    }
  });
});
