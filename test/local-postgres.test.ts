// The local Postgres stand-in: a real PostgreSQL 17 server that starts on a free port, serves
// verified TLS only (as Managed PostgreSQL does), keeps dev data and its certificates across runs,
// recovers from a run that was killed, and leaves no process behind.
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabaseConfig } from '../src/config.js';
import { createSql } from '../src/db/client.js';
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

/** A client that verifies the server against the CA it was started with. */
function connect(server: Pick<LocalPostgres, 'url' | 'caCert'>): postgres.Sql {
  return postgres(server.url, { max: 1, ssl: { ca: server.caCert, rejectUnauthorized: true }, onnotice: () => undefined });
}

/** The error a first query on `sql` fails with (and the client ended). */
async function connectionError(sql: postgres.Sql): Promise<Error & { code?: string }> {
  try {
    await sql`select 1`;
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  } finally {
    await sql.end();
  }
  throw new Error('the connection was accepted');
}

/** Another CA than the server's, made the way the server's is: a client trusting it must be refused. */
async function otherCaCert(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(workDir, 'other-ca-'));
  const config = path.join(dir, 'openssl.cnf');
  await fs.writeFile(config, '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n[ca]\nbasicConstraints = critical, CA:true\n');
  const certFile = path.join(dir, 'ca.crt');
  const args = ['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-config', config, '-extensions', 'ca'];
  await promisify(execFile)('openssl', [...args, '-days', '1', '-subj', '/CN=Some other CA', '-keyout', path.join(dir, 'ca.key'), '-out', certFile]);
  return fs.readFile(certFile, 'utf8');
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

    const listener = connect(server);
    const notifier = connect(server);
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
    const sql1 = connect(first);
    await sql1`create table notes (body text)`;
    await sql1`insert into notes values ('kept')`;
    await sql1.end();
    await first.stop();
    expect(firstLog.some((line) => line.includes('initialised a new cluster'))).toBe(true);
    const serverCert = await fs.readFile(first.tlsFiles.serverCert, 'utf8');

    const secondLog: string[] = [];
    const second = await start({ dataDir, persistent: true, log: (line) => secondLog.push(line) });
    try {
      expect(secondLog.some((line) => line.includes('initialised'))).toBe(false);
      // The same CA and certificate: a client given the CA once keeps working.
      expect(secondLog.some((line) => line.includes('TLS certificate'))).toBe(false);
      expect(second.caCert).toBe(first.caCert);
      expect(await fs.readFile(second.tlsFiles.serverCert, 'utf8')).toBe(serverCert);
      const sql2 = connect(second);
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
        `console.log(JSON.stringify({ url: server.url, caCert: server.caCert }));`,
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
    const staleSql = connect(JSON.parse(firstLine) as { url: string; caCert: string });
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
      const sql = connect(server);
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
      const sql = connect(server);
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
      await sql.end();
    } finally {
      await server.stop();
    }
  });
});

describe('TLS', () => {
  it('serves TLS verified against its own CA, for 127.0.0.1 and localhost, with a key only the server can read', async () => {
    const dataDir = path.join(workDir, 'tls');
    const server = await start({ dataDir, persistent: false });
    try {
      expect(new URL(server.url).searchParams.get('sslmode')).toBe('verify-full');
      // How Sluice's code connects: DATABASE_URL and DATABASE_CA_CERT through the configuration.
      const sql = createSql(loadDatabaseConfig({ DATABASE_URL: server.url, DATABASE_CA_CERT: server.caCert }));
      try {
        const [row] = await sql`select ssl, version from pg_stat_ssl where pid = pg_backend_pid()`;
        expect(row).toEqual({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) });
      } finally {
        await sql.end();
      }

      const cert = new X509Certificate(await fs.readFile(server.tlsFiles.serverCert));
      expect(cert.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
      expect(cert.checkIssued(new X509Certificate(server.caCert))).toBe(true);
      const key = await fs.stat(server.tlsFiles.serverKey);
      expect(key.mode & 0o777).toBe(0o600);
      // The server's OS user owns the data dir (initdb ran as it), and its key.
      expect(key.uid).toBe((await fs.stat(dataDir)).uid);
      if (process.getuid?.() === 0) expect(key.uid).not.toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('refuses a client that trusts another CA, expects another host name, brings no CA, or speaks no TLS', async () => {
    const server = await start({ dataDir: path.join(workDir, 'tls-refusals'), persistent: false });
    try {
      const otherCa = await otherCaCert();
      expect(await connectionError(postgres(server.url, { max: 1, ssl: { ca: otherCa, rejectUnauthorized: true } }))).toMatchObject({
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      });
      // The right CA, but a name the certificate does not carry: the host name is checked too.
      const wrongName = { ca: server.caCert, rejectUnauthorized: true, servername: 'db.example.com' };
      expect(await connectionError(postgres(server.url, { max: 1, ssl: wrongName }))).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      // The URL alone asks for verify-full against the system's roots, which lack the private CA.
      expect(await connectionError(postgres(server.url, { max: 1 }))).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      // No TLS at all: the server's pg_hba.conf has hostssl lines only.
      expect((await connectionError(postgres(server.url, { max: 1, ssl: false }))).message).toMatch(/no pg_hba\.conf entry .*no encryption/);
    } finally {
      await server.stop();
    }
  });

  it('makes certificates for a data dir that has none, and replaces a set that no longer fits together', async () => {
    const dataDir = persistentDataDir();
    // Initialises the cluster when this test runs alone.
    const first = await start({ dataDir, persistent: true });
    await first.stop();
    const tlsDir = path.dirname(first.tlsFiles.caCert);

    // A data dir from before the server spoke TLS.
    await fs.rm(tlsDir, { recursive: true });
    const madeLog: string[] = [];
    const second = await start({ dataDir, persistent: true, log: (line) => madeLog.push(line) });
    await second.stop();
    expect(madeLog.join('\n')).toContain('made a private CA and a TLS certificate for 127.0.0.1 and localhost');
    expect(second.caCert).not.toBe(first.caCert);

    // A CA file that did not sign the server's certificate.
    await fs.writeFile(second.tlsFiles.caCert, await otherCaCert());
    const replacedLog: string[] = [];
    const third = await start({ dataDir, persistent: true, log: (line) => replacedLog.push(line) });
    try {
      expect(replacedLog.join('\n')).toContain('replaced unusable TLS certificates');
      expect(third.caCert).not.toBe(second.caCert);
      const sql = connect(third);
      expect(await sql`select ssl from pg_stat_ssl where pid = pg_backend_pid()`).toEqual([{ ssl: true }]);
      await sql.end();
    } finally {
      await third.stop();
    }
    expect(readdirSync(dataDir).filter((entry) => entry.startsWith('sluice-tls'))).toEqual([path.basename(tlsDir)]);
  });

  it('names the fix when openssl is missing', async () => {
    const dataDir = persistentDataDir();
    // Initialises the cluster when this test runs alone; without certificates they must be made.
    const first = await start({ dataDir, persistent: true });
    await first.stop();
    await fs.rm(path.dirname(first.tlsFiles.caCert), { recursive: true });

    // A PATH with `id` (the OS user lookup) and no openssl.
    const binDir = await fs.mkdtemp(path.join(workDir, 'bin-'));
    await fs.symlink((await promisify(execFile)('sh', ['-c', 'command -v id'])).stdout.trim(), path.join(binDir, 'id'));
    const script = path.join(workDir, 'start-without-openssl.mts');
    await fs.writeFile(
      script,
      [
        `import { startLocalPostgres } from ${JSON.stringify(pathToFileURL(path.join(rootDir, 'src/local/postgres.ts')).href)};`,
        `await startLocalPostgres({ dataDir: ${JSON.stringify(dataDir)}, persistent: true }).then(`,
        `  async (server) => { await server.stop(); console.log('started'); },`,
        '  (error) => console.log(error.message),',
        ');',
      ].join('\n'),
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: rootDir, env: { ...process.env, PATH: binDir } });
    expect(stdout).toMatch(/^The openssl command is not installed\..*apt-get install -y openssl/);
  });
});
