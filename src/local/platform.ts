// The local stand-in for everything Sluice uses on DigitalOcean, started by one call: Postgres
// (embedded), Spaces (a SigV4-verifying S3 server), the Functions runtime reading project.yml, and
// the static page. `npm run dev` and every integration test start it this way.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDatabaseConfig, optionalSettings, requiredSettings } from '../config.js';
import { migrate } from '../db/migrate.js';
import { newAccessKey, startFunctionsRuntime, type FunctionsRuntime, type StopOptions } from './functions/runtime.js';
import { startLocalPostgres } from './postgres.js';
import { superviseLocalPostgres, type SupervisedPostgres } from './postgres-supervisor.js';
import { loadProject, readEnvFile } from './project.js';
import { startLocalSpaces, type LocalSpaces, type LocalSpacesRequest } from './spaces.js';
import { devPorts, localDefaults, localNamespace } from './local-env.js';
import { startWebServer, type WebServer } from './web-server.js';

export { devPorts, localDefaults, localNamespace };

/** Settings the platform fills from the services it starts, unless given. */
const providedByPlatform = ['DATABASE_URL', 'ALLOWED_ORIGINS', 'SPACES_ENDPOINT', 'SPACES_REGION', 'SPACES_KEY', 'SPACES_SECRET', 'FUNCTIONS_ACCESS_KEY'];

export interface PlatformOptions {
  rootDir: string;
  /** Where Postgres and S3 keep their files. Absent: a temporary folder removed at stop. */
  dataDir?: string;
  ports?: Partial<Record<keyof typeof devPorts, number>>;
  /** Read the root .env and Sluice's settings from the process environment (npm run dev); tests leave both out. */
  inheritEnvironment?: boolean;
  /** Last word on every variable (tests use it for small limits, keys, thresholds). */
  env?: Record<string, string>;
  /** Run project.yml's scheduled triggers (default true). */
  triggers?: boolean;
  log?: (line: string) => void;
  /** Namespace limits of the local runtime (defaults: DigitalOcean's 120 concurrent, 600 a minute). */
  runtimeLimits?: { maxConcurrentActivations?: number; maxInvocationsPerMinute?: number };
  /** Every request the local S3 server answered (the browser tests count part PUTs with it). */
  onSpacesRequest?: (request: LocalSpacesRequest) => void;
  /**
   * Start the local Postgres again, on the same port, when it dies (npm run dev). Off by default:
   * a test that stops or kills Postgres sees it stay down.
   */
  restartPostgres?: boolean;
}

export interface Platform {
  webUrl: string;
  /** Base URL of the web functions: `${apiBase}/presign/create`. */
  apiBase: string;
  runtime: FunctionsRuntime;
  databaseUrl: string;
  spaces: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  /** The settings the functions are deployed with: what a deploy's `.env` would hold. */
  env: Record<string, string>;
  /** Re-reads project.yml and the bundles: new activations run the new code. */
  redeploy(): Promise<void>;
  /**
   * Stops everything. With `graceMs`, the functions runtime first refuses new work and lets running
   * activations finish for up to that long, while Postgres and Spaces still serve them.
   */
  stop(options?: StopOptions): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? (() => {});
  const ports = { ...devPorts, ...options.ports };
  const inherited = options.inheritEnvironment ? inheritedSettings(options.rootDir) : {};
  const given = { ...inherited, ...options.env };
  // Refuse what a deploy would refuse before starting anything; what the services will decide
  // (database, Spaces, origins, the access key) stands in as a placeholder for this check.
  loadProject(options.rootDir, { variables: { ...localDefaults, ...Object.fromEntries(providedByPlatform.map((name) => [name, 'local'])), ...given } });
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  mkdirSync(dataDir, { recursive: true });

  const stops: Array<() => Promise<void>> = [];
  // Set by a graceful stop(); the runtime stops first (stops run in reverse), with the other services up.
  let stopGraceMs = 0;
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
    stops.length = 0;
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const web = await startWebServer({ directory: webDirectory(options.rootDir), port: ports.web });
    stops.push(() => web.stop());

    const localPostgres = given.DATABASE_URL === undefined ? await startPostgres(dataDir, ports.postgres, !temporary, options.restartPostgres ?? false, log, stops) : undefined;
    // The local Postgres takes verified TLS only, like Managed PostgreSQL: its CA is the functions' DATABASE_CA_CERT.
    const databaseSettings: Record<string, string> = localPostgres ? { DATABASE_URL: localPostgres.url, DATABASE_CA_CERT: localPostgres.caCert } : {};
    const database = loadDatabaseConfig({ ...given, ...databaseSettings });
    const databaseUrl = database.url;
    const applied = await migrate(databaseUrl, { caCert: database.caCert });
    if (applied.length > 0) log(`migrations applied: ${applied.join(', ')}`);

    const allowedOrigins = given.ALLOWED_ORIGINS ?? originsOf(web);
    const spaces = given.SPACES_ENDPOINT
      ? {
          endpoint: given.SPACES_ENDPOINT,
          region: given.SPACES_REGION ?? '',
          bucket: given.SPACES_BUCKET ?? localDefaults.SPACES_BUCKET ?? '',
          accessKeyId: given.SPACES_KEY ?? '',
          secretAccessKey: given.SPACES_SECRET ?? '',
        }
      : await startSpaces(dataDir, ports.spaces, given.SPACES_BUCKET ?? localDefaults.SPACES_BUCKET ?? 'sluice-local', allowedOrigins, options, stops);

    // The local runtime accepts only the key it issues: a deployed key in .env means nothing here,
    // and a test that sets another one sees dispatch refused, as a deployment with a bad key would.
    const accessKey = newAccessKey();
    const env: Record<string, string> = {
      ...localDefaults,
      ...given,
      ...databaseSettings,
      FUNCTIONS_ACCESS_KEY: options.env?.FUNCTIONS_ACCESS_KEY ?? accessKey,
      DATABASE_URL: databaseUrl,
      ALLOWED_ORIGINS: allowedOrigins,
      SPACES_ENDPOINT: spaces.endpoint,
      SPACES_REGION: spaces.region,
      SPACES_BUCKET: spaces.bucket,
      SPACES_KEY: spaces.accessKeyId,
      SPACES_SECRET: spaces.secretAccessKey,
    };
    const readProject = () => loadProject(options.rootDir, { variables: env });
    const runtime = await startFunctionsRuntime({
      project: readProject(),
      port: ports.functions,
      namespace: localNamespace,
      accessKeys: [accessKey],
      triggers: options.triggers ?? true,
      log,
      ...options.runtimeLimits,
    });
    stops.push(() => runtime.stop({ graceMs: stopGraceMs }));
    web.setConfig({ apiBase: runtime.webBase });

    return {
      webUrl: web.url,
      apiBase: runtime.webBase,
      runtime,
      databaseUrl,
      spaces,
      env,
      redeploy: () => runtime.deploy(readProject()),
      stop: (stopOptions: StopOptions = {}) => {
        stopGraceMs = stopOptions.graceMs ?? 0;
        return stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function startPostgres(
  dataDir: string,
  port: number,
  persistent: boolean,
  restart: boolean,
  log: (line: string) => void,
  stops: Array<() => Promise<void>>,
): Promise<SupervisedPostgres> {
  const start = restart ? superviseLocalPostgres : startLocalPostgres;
  const postgres = await start({ dataDir: path.join(dataDir, 'postgres'), port, persistent, log });
  stops.push(() => postgres.stop());
  return postgres;
}

async function startSpaces(
  dataDir: string,
  port: number,
  bucket: string,
  allowedOrigins: string,
  options: Pick<PlatformOptions, 'log' | 'onSpacesRequest'>,
  stops: Array<() => Promise<void>>,
): Promise<LocalSpaces> {
  const spaces = await startLocalSpaces({
    directory: path.join(dataDir, 'spaces'),
    port,
    bucket,
    allowedOrigins: allowedOrigins.split(',').map((origin) => origin.trim()).filter(Boolean),
    log: options.log,
    onRequest: options.onSpacesRequest,
  });
  stops.push(() => spaces.stop());
  return spaces;
}

/**
 * The page as built by Vite (`vite build`, which `npm run dev` and the e2e setup run): the sources
 * in web/ are TypeScript a browser cannot load.
 */
function webDirectory(rootDir: string): string {
  return path.join(rootDir, 'web', 'dist');
}

/** Both spellings of the page's origin, since a person may open either. */
function originsOf(web: WebServer): string {
  const url = new URL(web.url);
  return [url.origin, `http://localhost:${url.port}`].join(',');
}

/**
 * What `npm run dev` takes from the developer: every line of the root .env (a deploy would pass
 * them all to the functions too), then Sluice's own settings from the shell — not the rest of the
 * shell's environment, which a deploy never passes on.
 */
function inheritedSettings(rootDir: string): Record<string, string> {
  const names = new Set<string>([...requiredSettings, ...optionalSettings]);
  const fromShell = Object.entries(process.env).filter((entry): entry is [string, string] => names.has(entry[0]) && entry[1] !== undefined);
  // A key made for the deployed namespace (npm run deploy writes it to .env) is no key here.
  const { FUNCTIONS_ACCESS_KEY: _deployed, ...fromFile } = readEnvFile(path.join(rootDir, '.env'));
  return { ...fromFile, ...Object.fromEntries(fromShell) };
}
