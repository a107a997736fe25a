// `npm run dev`: the whole system on this machine — Postgres, Spaces, the functions, the page —
// with the sources watched: a change rebuilds the bundles and new activations run the new code
// while running ones finish on the old, as a `doctl serverless deploy` would.
import { watch } from 'node:fs';
import path from 'node:path';
import { buildProject, formatBytes } from '../src/local/build.js';
import { startPlatform, devPorts } from '../src/local/platform.js';

const rootDir = path.resolve(import.meta.dirname, '..');
const rebuildDelayMs = 150;

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

const built = await buildProject(rootDir);
log(`built ${built.length} functions (${built.map((fn) => `${fn.qualifiedName} ${formatBytes(fn.bytes)}`).join(', ')})`);

const platform = await startPlatform({
  rootDir,
  dataDir: process.env.SLUICE_DATA_DIR || path.join(rootDir, '.data'),
  inheritEnvironment: true,
  ports: {
    web: portFromEnv('PORT', devPorts.web),
    functions: portFromEnv('FUNCTIONS_PORT', devPorts.functions),
    spaces: portFromEnv('SPACES_PORT', devPorts.spaces),
    postgres: portFromEnv('POSTGRES_PORT', devPorts.postgres),
  },
  log,
});

console.log(`
  Sluice is running locally.

  page        ${platform.webUrl}/
  functions   ${platform.apiBase}/presign/create  (OpenWhisk API: ${platform.runtime.apiHost})
  spaces      ${platform.spaces.endpoint}/${platform.spaces.bucket}
  postgres    ${redactPassword(platform.databaseUrl)}

  Watching src/ and packages/ for changes. Ctrl-C stops everything.
`);

let pending: NodeJS.Timeout | undefined;
let rebuilding = Promise.resolve();
const watchers = ['src', 'packages'].map((dir) =>
  watch(path.join(rootDir, dir), { recursive: true }, (_event, filename) => {
    if (!filename || !filename.endsWith('.ts') || filename.includes('node_modules')) return;
    clearTimeout(pending);
    pending = setTimeout(() => {
      rebuilding = rebuilding.then(rebuild);
    }, rebuildDelayMs);
  }),
);

async function rebuild(): Promise<void> {
  try {
    const next = await buildProject(rootDir);
    await platform.redeploy();
    log(`rebuilt: ${next.map((fn) => `${fn.qualifiedName}@${fn.buildId}`).join(', ')}`);
  } catch (error) {
    log(`rebuild failed, still running the previous build: ${error instanceof Error ? error.message : String(error)}`);
  }
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  for (const watcher of watchers) watcher.close();
  clearTimeout(pending);
  await platform.stop();
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
