// What `sluice` talks to, found without flags where it can be: a running `npm run dev` announces
// itself in <data dir>/dev.json (src/local/dev-state.ts), a deployment is named by the shell or
// the repository's .env. Explicit beats discovered beats configured:
//
//   the upload API:  --api, then SLUICE_API_BASE from the shell, then a running `npm run dev`,
//                    then SLUICE_API_BASE from .env
//   the database:    DATABASE_URL from the shell, then a running `npm run dev`, then .env
//
// A running dev platform wins over .env because .env usually describes the deployment while dev
// runs on its own services (or on .env's database, in which case both answers agree). Every
// command says on stderr which one it uses, so nobody works on production thinking it is local.
import path from 'node:path';
import { ConfigError, loadDatabaseConfig, loadDispatchConfig, loadProcessingConfig, loadSpacesConfig, type DatabaseConfig, type SpacesConfig } from '../config.js';
import type { InvokeContext } from '../jobs/dispatch.js';
import { devDataDir, findDevState, type DevStateLookup } from '../local/dev-state.js';
import { readEnvFile } from '../local/project.js';
import { usageError } from './errors.js';

type Env = Record<string, string | undefined>;

export interface Sources {
  /** The repository: where .env and .data/ are. */
  rootDir: string;
  shell: Env;
  dotenv: Record<string, string>;
  dev: DevStateLookup;
}

export function loadSources(rootDir: string, shell: Env): Sources {
  return { rootDir, shell, dotenv: readEnvFile(path.join(rootDir, '.env')), dev: findDevState(devDataDir(rootDir, shell)) };
}

/**
 * The directory relative paths are meant from. `npm run sluice` runs in the repository root and
 * passes the directory it was started from as INIT_CWD; only then is INIT_CWD the user's. A
 * global `sluice` inside some other npm script inherits that script's INIT_CWD, which may not be
 * where the script has since `cd`-ed, so there the working directory is the truth.
 */
export function userDirectory(shell: Env, cwd: string = process.cwd()): string {
  const viaOurScript = shell.npm_lifecycle_event === 'sluice' && shell.npm_package_name === 'sluice';
  return viaOurScript && shell.INIT_CWD ? shell.INIT_CWD : cwd;
}

const apiBaseHint = 'pass --api <url> or set SLUICE_API_BASE (the web functions base, https://<host>/api/v1/web/<namespace>)';

export interface ApiTarget {
  apiBase: string;
  apiKey: string | undefined;
  /** Where the base came from, for the line that says so. */
  from: string;
  /** The local platform of `npm run dev`: refusals can name the .env setting that widens them. */
  local: boolean;
}

export function resolveApi(sources: Sources, flags: { api?: string | undefined; key?: string | undefined }): ApiTarget {
  const apiKey = flags.key ?? nonEmpty(sources.shell.SLUICE_API_KEY) ?? nonEmpty(sources.dotenv.SLUICE_API_KEY);
  const explicit = flags.api !== undefined ? { value: flags.api, from: '--api' } : shellValue(sources, 'SLUICE_API_BASE');
  if (explicit !== undefined) return { apiBase: checkedUrl(explicit.value, explicit.from), apiKey, from: explicit.from, local: isDevApi(sources, explicit.value) };
  if (sources.dev.kind === 'running') return { apiBase: sources.dev.state.apiBase, apiKey, from: `npm run dev (${sources.dev.file})`, local: true };
  const configured = nonEmpty(sources.dotenv.SLUICE_API_BASE);
  if (configured !== undefined) return { apiBase: checkedUrl(configured, 'SLUICE_API_BASE in .env'), apiKey, from: 'SLUICE_API_BASE in .env', local: false };
  throw usageError(`no Sluice API to talk to (${whyNoDev(sources)}): start \`npm run dev\`, or ${apiBaseHint}`, 'NO_API');
}

/** Settings for the commands that work on the database and the functions directly. */
export interface OperatorTarget {
  env: Env;
  /** Where the settings came from, e.g. "npm run dev (.data/dev.json)" or "DATABASE_URL from .env". */
  from: string;
  /** The OpenWhisk REST API host that invokes go to, when known. */
  apiHost: string | undefined;
}

export function resolveOperator(sources: Sources, flags: { api?: string | undefined }): OperatorTarget {
  // Like a deploy: the shell wins over .env for every single setting.
  const deployment: Env = { ...sources.dotenv, ...definedOnly(sources.shell) };
  const deploymentHost = (): string | undefined => {
    const base = flags.api ?? nonEmpty(deployment.SLUICE_API_BASE);
    return base === undefined ? undefined : new URL(checkedUrl(base, flags.api !== undefined ? '--api' : 'SLUICE_API_BASE')).origin;
  };
  if (nonEmpty(sources.shell.DATABASE_URL) !== undefined) return { env: deployment, from: 'DATABASE_URL from the shell', apiHost: deploymentHost() };
  if (sources.dev.kind === 'running' && flags.api === undefined) {
    return { env: sources.dev.state.env, from: `npm run dev (${sources.dev.file})`, apiHost: sources.dev.state.apiHost };
  }
  if (nonEmpty(sources.dotenv.DATABASE_URL) !== undefined) return { env: deployment, from: 'DATABASE_URL from .env', apiHost: deploymentHost() };
  const setIt = `set DATABASE_URL (and DATABASE_CA_CERT) in the shell or in ${path.join(sources.rootDir, '.env')}`;
  if (sources.dev.kind === 'running') throw usageError(`no database for the platform --api names: ${setIt}`, 'NO_DATABASE');
  throw usageError(`no database to work on (${whyNoDev(sources)}): start \`npm run dev\`, or ${setIt}`, 'NO_DATABASE');
}

export function databaseOf(target: OperatorTarget): DatabaseConfig {
  return configured(() => loadDatabaseConfig(target.env), target);
}

/** Spaces settings, or why there are none (a cancel still cancels without them). */
export function storageOf(target: OperatorTarget): SpacesConfig | { missing: string } {
  try {
    return loadSpacesConfig(target.env);
  } catch (error) {
    if (error instanceof ConfigError) return { missing: error.message };
    throw error;
  }
}

export function maxConcurrentJobsOf(target: OperatorTarget): number {
  return configured(() => loadProcessingConfig(target.env), target).maxConcurrentJobs;
}

/** Where and with which key to invoke functions, or what is missing for it. */
export function invokeContextOf(target: OperatorTarget): { context: InvokeContext } | { missing: string } {
  const accessKey = configured(() => loadDispatchConfig(target.env), target).accessKey;
  if (target.apiHost === undefined) return { missing: `the functions' API host is unknown: ${apiBaseHint}` };
  if (accessKey === undefined) return { missing: 'FUNCTIONS_ACCESS_KEY is not set (npm run deploy writes it into .env)' };
  return { context: { apiHost: target.apiHost, accessKey, apiKey: undefined } };
}

/** "host:port/database", for saying which database without showing the password. */
export function describeDatabase(config: DatabaseConfig): string {
  const url = new URL(config.url);
  return `${url.host}${url.pathname}`;
}

function configured<T>(load: () => T, target: OperatorTarget): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) throw usageError(`${error.message} (settings from ${target.from})`, 'CONFIG');
    throw error;
  }
}

function whyNoDev(sources: Sources): string {
  const dev = sources.dev;
  if (dev.kind === 'stale') return `npm run dev is not running (${dev.file} names process ${dev.state.pid}, which has exited)`;
  if (dev.kind === 'invalid') return `${dev.file} is unreadable (${dev.reason})`;
  return 'npm run dev is not running';
}

function isDevApi(sources: Sources, apiBase: string): boolean {
  return sources.dev.kind === 'running' && sources.dev.state.apiBase.replace(/\/+$/, '') === apiBase.replace(/\/+$/, '');
}

function checkedUrl(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`${from} is not a URL: "${value}"; ${apiBaseHint}`, 'USAGE');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`${from} must be an http(s) URL, got "${value}"`, 'USAGE');
  return value;
}

function shellValue(sources: Sources, name: string): { value: string; from: string } | undefined {
  const value = nonEmpty(sources.shell[name]);
  return value === undefined ? undefined : { value, from: name };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function definedOnly(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
