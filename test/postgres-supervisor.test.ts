// npm run dev's Postgres is brought back when it dies: the death is said loudly, the server is
// started again on the same data dir and port, and a client keeps working on the same URL. A
// server that keeps dying is given up on with a line that says what to do; a stop is no death.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../src/local/postgres.js';
import { superviseLocalPostgres, type SupervisedPostgres } from '../src/local/postgres-supervisor.js';

const workDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-supervisor-test-'));
const supervised: SupervisedPostgres[] = [];
const clients: postgres.Sql[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((sql) => sql.end({ timeout: 1 })));
  await Promise.all(supervised.splice(0).map((server) => server.stop()));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

// A restart takes a fraction of a second here (crash recovery of a small cluster); generous for a loaded machine.
const restartTimeoutMs = 20_000;

async function start(name: string, restartDelaysMs?: readonly number[]): Promise<{ server: SupervisedPostgres; dataDir: string; lines: string[] }> {
  const dataDir = path.join(workDir, name);
  const lines: string[] = [];
  const server = await superviseLocalPostgres({ dataDir, persistent: true, log: (line) => lines.push(line), restartDelaysMs });
  supervised.push(server);
  return { server, dataDir, lines };
}

function connect(server: SupervisedPostgres): postgres.Sql {
  const sql = postgres(server.url, { max: 1, ssl: { ca: server.caCert, rejectUnauthorized: true }, onnotice: () => undefined });
  clients.push(sql);
  return sql;
}

/** The postmaster serving the data dir now, from its postmaster.pid (line 1 the pid, line 4 the port). */
function postmaster(dataDir: string): { pid: number; port: number } {
  const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

/** Kills the running postmaster and returns its pid. */
function killPostmaster(dataDir: string): number {
  const { pid } = postmaster(dataDir);
  process.kill(pid, 'SIGKILL');
  return pid;
}

const matching = (lines: string[], pattern: RegExp) => lines.filter((line) => pattern.test(line));

/** The process group of a process, from /proc/<pid>/stat ("pid (comm) state ppid pgrp …"; comm may hold spaces). */
function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

describe('superviseLocalPostgres', () => {
  it('says loudly that a killed server died, restarts it on the same port, and queries work again on the same URL', async () => {
    const { server, dataDir, lines } = await start('killed');
    const sql = connect(server);
    await sql`create table survives (n int)`;
    await sql`insert into survives values (1)`;
    const before = postmaster(dataDir);

    expect(killPostmaster(dataDir)).toBe(before.pid);
    await expect.poll(() => matching(lines, /exited unexpectedly/), { timeout: restartTimeoutMs }).toEqual([
      `postgres exited unexpectedly (pid ${before.pid}, signal SIGKILL); restarting it on port ${before.port} (restart 1 of at most 4)`,
    ]);
    // The same client, which still holds the URL it was given: its next connection reaches the new server.
    await expect.poll(() => sql`select n from survives`.then((rows) => rows.map((row) => Number(row.n)), (error: unknown) => String(error)), { timeout: restartTimeoutMs }).toEqual([1]);
    const after = postmaster(dataDir);
    expect(after.pid).not.toBe(before.pid);
    expect(after.port).toBe(before.port);
    expect(new URL(server.url).port).toBe(String(before.port));
    // The server answers from when it listens, a moment before the supervisor has seen it through its start.
    await expect.poll(() => matching(lines, /restarted on the same URL/), { timeout: restartTimeoutMs }).toHaveLength(1);
  });

  it('a stop is no death: the server stops and nothing is restarted', async () => {
    const { server, dataDir, lines } = await start('stopped');
    const { pid } = postmaster(dataDir);
    await server.stop();
    // stop() settles once the supervisor is done: a restart, had one been started, would be in the log by now.
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(matching(lines, /unexpectedly|restart/)).toEqual([]);
  });

  it('keeps the server out of reach of a Ctrl-C in the terminal, which would be taken for a death during the shutdown', async () => {
    // A terminal signals its whole foreground process group; the platform stops the server in its turn.
    const { dataDir } = await start('own-group');
    const { pid } = postmaster(dataDir);
    expect(processGroup(pid)).toBe(pid);
    expect(processGroup(pid)).not.toBe(processGroup(process.pid));
  });

  it('restarts a server that keeps dying with growing waits, then gives up and says what to do', async () => {
    const { dataDir, lines } = await start('keeps-dying', [0, 50]);
    const restarted = () => matching(lines, /restarted on the same URL/).length;

    killPostmaster(dataDir);
    await expect.poll(restarted, { timeout: restartTimeoutMs }).toBe(1);
    killPostmaster(dataDir);
    await expect.poll(restarted, { timeout: restartTimeoutMs }).toBe(2);
    const last = killPostmaster(dataDir);
    await expect.poll(() => matching(lines, /giving up/), { timeout: restartTimeoutMs }).toHaveLength(1);

    expect(matching(lines, /exited unexpectedly/).map((line) => line.replace(/pid \d+/, 'pid N'))).toEqual([
      'postgres exited unexpectedly (pid N, signal SIGKILL); restarting it on port ' + String(postmasterPort(lines)) + ' (restart 1 of at most 2)',
      'postgres exited unexpectedly (pid N, signal SIGKILL); restarting it on port ' + String(postmasterPort(lines)) + ' in 0.05 s (restart 2 of at most 2)',
      expect.stringMatching(/^postgres exited unexpectedly \(pid N, signal SIGKILL\); giving up after 2 restarts in a row\. .*stop npm run dev \(Ctrl-C\) and start it again/),
    ]);
    expect(isAlive(last)).toBe(false);
    expect(restarted()).toBe(2);
  });

  it('tries again when a restart fails, and says why', async () => {
    const { dataDir, lines } = await start('cannot-restart', [0, 10]);
    // Without its password file the cluster cannot be opened again: every restart fails the same way.
    rmSync(path.join(dataDir, 'sluice-local-password'));
    killPostmaster(dataDir);
    await expect.poll(() => matching(lines, /giving up/), { timeout: restartTimeoutMs }).toHaveLength(1);
    const failures = matching(lines, /could not be restarted/);
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(/^postgres could not be restarted \(.*did not create \(no sluice-local-password\).*\); restarting it on port \d+ in 0\.01 s \(restart 2 of at most 2\)$/s);
    expect(failures[1]).toMatch(/^postgres could not be restarted \(.*\); giving up after 2 restarts in a row/s);
  });
});

/** The port named by the first "listening on" line. */
function postmasterPort(lines: string[]): number {
  const port = lines.map((line) => /listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1]).find((found) => found !== undefined);
  return Number(port);
}
