// `npm run dev`: the whole system on this machine — Postgres, Spaces, the functions, the page —
// with the sources watched: a change rebuilds the bundles and new activations run the new code
// while running ones finish on the old, as a `doctl serverless deploy` would.
import path from 'node:path';
import { build as buildPage, type Rolldown } from 'vite';
import { stop as stopEsbuild } from 'esbuild';
import { buildProject, formatBytes } from '../src/local/build.js';
import { startPlatform, devPorts } from '../src/local/platform.js';
import { devDataDir, removeDevState, writeDevState } from '../src/local/dev-state.js';
import { describeAllowedTypes } from '../src/local/local-env.js';
import { watchTree } from '../src/local/watch.js';

const rootDir = path.resolve(import.meta.dirname, '..');
const rebuildDelayMs = 150;
/**
 * On Ctrl-C or SIGTERM nothing new starts, and running activations get this long to finish; one
 * still running after it is killed, and its job is taken back from its lapsed lease when dev next
 * starts on the same data.
 */
const stopGraceMs = 30_000;
// Enough to see what a rebuild was for; a branch switch that touches hundreds says how many.
const changedFilesNamed = 3;

function portFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${name} must be a port number (0-65535), got "${value}"`);
    process.exit(2);
  }
  return port;
}

const time = () => new Date().toISOString().slice(11, 19);
const log = (line: string) => console.log(`${time()} ${line}`);

// The page is built by Vite into web/dist (what the platform serves) and rebuilt by Vite's own
// watcher whenever web/ or the client code it imports changes; reload the browser to see it.
const page = await watchPage();

const built = await buildProject(rootDir);
log(`built ${built.length} functions (${built.map((fn) => `${fn.qualifiedName} ${formatBytes(fn.bytes)}`).join(', ')})`);

const [platform] = await Promise.all([
  startPlatform({
    rootDir,
    dataDir: devDataDir(rootDir),
    inheritEnvironment: true,
    restartPostgres: true,
    ports: {
      web: portFromEnv('PORT', devPorts.web),
      functions: portFromEnv('FUNCTIONS_PORT', devPorts.functions),
      spaces: portFromEnv('SPACES_PORT', devPorts.spaces),
      postgres: portFromEnv('POSTGRES_PORT', devPorts.postgres),
    },
    log,
  }),
  page.firstBuild,
]);

console.log(`
  Sluice is running locally.

  page        ${platform.webUrl}/
  functions   ${platform.apiBase}/presign/create  (OpenWhisk API: ${platform.runtime.apiHost})
  spaces      ${platform.spaces.endpoint}/${platform.spaces.bucket}
  postgres    ${redactPassword(platform.databaseUrl)}
  types       ${describeAllowedTypes(platform.env)}

  Watching src/ and packages/ for changes. Ctrl-C stops everything.
`);
// `sluice` finds this platform through it, whatever ports it got (src/local/dev-state.ts).
const devStateFile = writeDevState(devDataDir(rootDir), platform);

let pending: NodeJS.Timeout | undefined;
let rebuilding = Promise.resolve();
// Sources changed since the last rebuild began; the bundles (packages/*/*/index.js) are not sources.
const changed = new Set<string>();
const watchers = ['src', 'packages'].map((dir) =>
  watchTree(
    path.join(rootDir, dir),
    (file) => {
      if (!file.endsWith('.ts')) return;
      changed.add(path.join(dir, file));
      clearTimeout(pending);
      pending = setTimeout(() => {
        const files = [...changed];
        changed.clear();
        rebuilding = rebuilding.then(() => rebuild(files));
      }, rebuildDelayMs);
    },
    {
      skipDirectory: (name) => name === 'node_modules',
      onError: (error) => log(`${error.message}; edits there are not seen until npm run dev is started again`),
    },
  ),
);

async function rebuild(files: string[]): Promise<void> {
  const what = files.length > changedFilesNamed ? `${files.slice(0, changedFilesNamed).join(', ')} and ${files.length - changedFilesNamed} more` : files.join(', ');
  try {
    const next = await buildProject(rootDir);
    await platform.redeploy();
    log(`${what} changed; rebuilt: ${next.map((fn) => `${fn.qualifiedName}@${fn.buildId}`).join(', ')}`);
  } catch (error) {
    log(`${what} changed; rebuild failed, still running the previous build: ${error instanceof Error ? error.message : String(error)}`);
  }
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  for (const watcher of watchers) watcher.close();
  clearTimeout(pending);
  // A rebuild under way finishes first (rebuild() never rejects): it would redeploy onto a stopped platform.
  await rebuilding;
  await page.watcher.close();
  removeDevState(devStateFile);
  await platform.stop({ graceMs: stopGraceMs });
  // esbuild's service process outlives the last build until told to stop.
  await stopEsbuild();
  log('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

function redactPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

interface PageBuild {
  watcher: Rolldown.RolldownWatcher;
  /** Settles when the first build is written: the banner promises a page that loads. */
  firstBuild: Promise<void>;
}

async function watchPage(): Promise<PageBuild> {
  const started = Date.now();
  const watcher = await buildPage({ configFile: path.join(rootDir, 'vite.config.ts'), logLevel: 'warn', build: { watch: {} } });
  if (Array.isArray(watcher) || 'output' in watcher) throw new Error('vite build was asked to watch but did not');
  let first = true;
  const firstBuild = new Promise<void>((resolve, reject) => {
    watcher.on('event', (event) => {
      if (event.code === 'BUNDLE_END' || event.code === 'ERROR') void event.result?.close();
      if (event.code === 'END') {
        log(first ? `built the page in ${Date.now() - started} ms (web/dist)` : 'rebuilt the page');
        if (first) resolve();
        first = false;
      } else if (event.code === 'ERROR') {
        const message = event.error instanceof Error ? event.error.message : String(event.error);
        if (first) reject(new Error(`the page does not build: ${message}`));
        else log(`page rebuild failed, still serving the previous build: ${message}`);
        first = false;
      }
    });
  });
  return { watcher, firstBuild };
}
