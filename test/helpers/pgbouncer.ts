// A real PgBouncer in transaction mode in front of the local Postgres, the way DigitalOcean's
// connection pools sit in front of Managed PostgreSQL: clients speak TLS to it, it speaks verified
// TLS to the server, and a client's transactions may each run on another server connection.
// Debian's package provides it (`apt-get install -y pgbouncer`; CI installs it).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { LocalPostgres } from '../../src/local/postgres.js';

export interface PgBouncer {
  /**
   * A client URL for `database` through the pool: TLS verified against the local Postgres's CA
   * (PgBouncer presents the server's own certificate), and `pgbouncer=true` so createSql turns
   * prepared statements off as it does on DigitalOcean's pool port.
   */
  url(database: string): string;
  port: number;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /**
   * Server connections per database and user. Small by default, so the tests' clients share
   * server connections and transaction pooling actually happens.
   */
  poolSize?: number;
}

const defaultPoolSize = 2;
const startTimeoutMs = 10_000;
const stopGraceMs = 5_000;
const pollIntervalMs = 20;
const logTailLines = 40;

/** The installed binary, or undefined: Debian puts it in /usr/sbin, which a normal user's PATH lacks. */
export const pgBouncerBinary: string | undefined = findExecutable('pgbouncer', ['/usr/sbin', '/usr/local/sbin']);

export const pgBouncerMissing = 'pgbouncer is not installed, so the transaction-mode pool tests are skipped; install it with apt-get install -y pgbouncer';

export async function startPgBouncer(server: LocalPostgres, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  if (pgBouncerBinary === undefined) throw new Error(pgBouncerMissing);
  const binary = pgBouncerBinary;
  const serverUrl = new URL(server.url);
  const user = decodeURIComponent(serverUrl.username);
  const password = decodeURIComponent(serverUrl.password);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-pgbouncer-'));
  // PgBouncer refuses to run as root: as root it runs as the OS user that owns the server's key
  // (the one Postgres runs as), which must also read the key to offer it to clients.
  const owner = process.getuid?.() === 0 ? await fs.stat(server.tlsFiles.serverKey) : undefined;
  const runAs = owner ? { uid: owner.uid, gid: owner.gid } : {};

  const files = { config: path.join(dir, 'pgbouncer.ini'), users: path.join(dir, 'userlist.txt'), ca: path.join(dir, 'ca.crt') };
  await fs.writeFile(files.ca, server.caCert, { mode: 0o644 });
  // A plain password in the auth file lets PgBouncer answer the client's SCRAM exchange and run
  // its own against the server.
  await fs.writeFile(files.users, `"${user}" "${password}"\n`, { mode: 0o600 });

  const stopAll = async (stopRunning: () => Promise<void>): Promise<void> => {
    await stopRunning();
    await fs.rm(dir, { recursive: true, force: true });
  };

  for (let attempt = 1; ; attempt += 1) {
    const port = await findFreePort();
    const config = [
      '[databases]',
      // Any database name goes to the same server, so each test can use a database of its own.
      `* = host=${serverUrl.hostname} port=${serverUrl.port}`,
      '[pgbouncer]',
      `listen_addr = 127.0.0.1`,
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'pool_mode = transaction',
      'auth_type = scram-sha-256',
      `auth_file = ${files.users}`,
      `default_pool_size = ${options.poolSize ?? defaultPoolSize}`,
      'max_client_conn = 100',
      // To the server: verified TLS (CA and host name), as DigitalOcean's pool reaches its cluster.
      'server_tls_sslmode = verify-full',
      `server_tls_ca_file = ${files.ca}`,
      // From clients: TLS only, like the pool on port 25061.
      'client_tls_sslmode = require',
      `client_tls_cert_file = ${server.tlsFiles.serverCert}`,
      `client_tls_key_file = ${server.tlsFiles.serverKey}`,
      '',
    ].join('\n');
    await fs.writeFile(files.config, config, { mode: 0o600 });
    if (owner) {
      for (const file of [dir, files.config, files.users, files.ca]) await fs.chown(file, owner.uid, owner.gid);
    }

    const child = spawn(binary, [files.config], { stdio: ['ignore', 'pipe', 'pipe'], ...runAs });
    const tail: string[] = [];
    const collect = (chunk: Buffer): void => {
      tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - logTailLines));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (error) => {
        tail.push(String(error));
        resolve();
      });
    });
    const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
    const stopChild = async (): Promise<void> => {
      if (hasExited()) return;
      // SIGTERM is PgBouncer's immediate shutdown; SIGINT would wait for clients to finish.
      child.kill('SIGTERM');
      if (await settlesWithin(exited, stopGraceMs)) return;
      child.kill('SIGKILL');
      await exited;
    };

    const deadline = Date.now() + startTimeoutMs;
    while (!hasExited() && !(await accepts(port)) && Date.now() < deadline) await delay(pollIntervalMs);
    if (!hasExited() && (await accepts(port))) {
      let stopping: Promise<void> | undefined;
      return {
        port,
        url: (database) => {
          const url = new URL(server.url);
          url.port = String(port);
          url.pathname = `/${database}`;
          url.searchParams.set('pgbouncer', 'true');
          return url.toString();
        },
        stop: () => {
          stopping ??= stopAll(stopChild);
          return stopping;
        },
      };
    }
    await stopChild();
    const output = tail.join('\n');
    // A free port picked by us can be taken before PgBouncer binds it; try another.
    if (/Address already in use|bind\(\) failed/i.test(output) && attempt < 3) continue;
    await fs.rm(dir, { recursive: true, force: true });
    throw new Error(`PgBouncer did not start on 127.0.0.1:${port}: ${output || `no output within ${startTimeoutMs} ms`}`);
  }
}

function findExecutable(name: string, extraDirs: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this one.
    }
  }
  return undefined;
}

async function findFreePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Could not pick a free port');
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function settlesWithin(promise: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
