// The local stand-in for everything Sluice uses on DigitalOcean, started by one call: Postgres
// (embedded), Spaces (a SigV4-verifying S3 server), the Functions runtime reading project.yml, and
// the static page. `npm run dev` and every integration test start it this way.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDatabaseConfig } from '../config.js';
import { migrate } from '../db/migrate.js';
import { startFunctionsRuntime, type FunctionsRuntime } from './functions/runtime.js';
import { startLocalPostgres, type LocalPostgres } from './postgres.js';
import { loadProject, readEnvFile } from './project.js';
import { startLocalSpaces, type LocalSpaces, type LocalSpacesRequest } from './spaces.js';
import { devPorts, localDefaults, localNamespace } from './local-env.js';
import { startWebServer, type WebServer } from './web-server.js';

export { devPorts, localDefaults, localNamespace };

export interface PlatformOptions {
  rootDir: string;
  /** Where Postgres and S3 keep their files. Absent: a temporary folder removed at stop. */
  dataDir?: string;
  ports?: Partial<Record<keyof typeof devPorts, number>>;
  /** Read the root .env and the process environment (npm run dev); tests leave both out. */
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
}

export interface Platform {
  webUrl: string;
  /** Base URL of the web functions: `${apiBase}/presign/create`. */
  apiBase: string;
  runtime: FunctionsRuntime;
  databaseUrl: string;
  spaces: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  /** The variables project.yml was resolved with. */
  env: Record<string, string>;
  /** Re-reads project.yml and the bundles: new activations run the new code. */
  redeploy(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? (() => {});
  const ports = { ...devPorts, ...options.ports };
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  mkdirSync(dataDir, { recursive: true });

  const inherited = options.inheritEnvironment ? { ...readEnvFile(path.join(options.rootDir, '.env')), ...definedOnly(process.env) } : {};
  const given = { ...inherited, ...options.env };
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
    stops.length = 0;
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const web = await startWebServer({ directory: webDirectory(options.rootDir), port: ports.web });
    stops.push(() => web.stop());

    const databaseUrl = given.DATABASE_URL ?? (await startPostgres(dataDir, ports.postgres, !temporary, log, stops)).url;
    const applied = await migrate(databaseUrl, { caCert: loadDatabaseConfig({ ...given, DATABASE_URL: databaseUrl }).caCert });
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

    const env: Record<string, string> = {
      ...localDefaults,
      ...given,
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
      triggers: options.triggers ?? true,
      log,
      ...options.runtimeLimits,
    });
    stops.push(() => runtime.stop());
    web.setConfig({ apiBase: runtime.webBase });

    return {
      webUrl: web.url,
      apiBase: runtime.webBase,
      runtime,
      databaseUrl,
      spaces,
      env,
      redeploy: () => runtime.deploy(readProject()),
      stop: stopAll,
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
  log: (line: string) => void,
  stops: Array<() => Promise<void>>,
): Promise<LocalPostgres> {
  const postgres = await startLocalPostgres({ dataDir: path.join(dataDir, 'postgres'), port, persistent, log });
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

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
