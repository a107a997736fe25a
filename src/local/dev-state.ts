// Where a running `npm run dev` can be found: it writes its URLs and the settings its functions
// run with into <data dir>/dev.json at start and removes the file at stop, so `sluice` reaches the
// platform on whatever ports it got (FUNCTIONS_PORT and the rest) with no flag. The file holds the
// local database password and keys, so it is written 0600, and it names the writer's pid so a file
// left by a killed dev is recognised as stale.
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { isAlive } from './postgres.js';

export const devStateFileName = 'dev.json';

/** `npm run dev`'s data dir: SLUICE_DATA_DIR, else `.data/` in the repository. */
export function devDataDir(rootDir: string, env: Record<string, string | undefined> = process.env): string {
  return env.SLUICE_DATA_DIR || path.join(rootDir, '.data');
}

const devStateSchema = z.object({
  version: z.literal(1),
  pid: z.int().positive(),
  startedAt: z.string(),
  webUrl: z.string(),
  /** The web functions' base, `${apiHost}/api/v1/web/<namespace>`. */
  apiBase: z.string(),
  /** The OpenWhisk REST API (invokes). */
  apiHost: z.string(),
  /** What the functions are deployed with: the database, Spaces and the access key of this platform. */
  env: z.record(z.string(), z.string()),
});
export type DevState = z.infer<typeof devStateSchema>;

export interface RunningPlatform {
  webUrl: string;
  apiBase: string;
  runtime: { apiHost: string };
  env: Record<string, string>;
}

/** Writes the state file (atomically: a reader never sees half of it); returns its path. */
export function writeDevState(dataDir: string, platform: RunningPlatform, pid: number = process.pid): string {
  const state: DevState = {
    version: 1,
    pid,
    startedAt: new Date().toISOString(),
    webUrl: platform.webUrl,
    apiBase: platform.apiBase,
    apiHost: platform.runtime.apiHost,
    env: platform.env,
  };
  const file = path.join(dataDir, devStateFileName);
  const temporary = `${file}.${pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  // An existing temporary file keeps its old mode whatever `mode` says.
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
  return file;
}

/** Removes the state file if it is still this process's (another dev may have started since). */
export function removeDevState(file: string, pid: number = process.pid): void {
  const found = readStateFile(file);
  if (found.kind === 'missing' || (found.kind !== 'invalid' && found.state.pid !== pid)) return;
  rmSync(file, { force: true });
}

export type DevStateLookup =
  | { kind: 'running'; file: string; state: DevState }
  /** The file names a process that has exited: dev was killed before it could remove it. */
  | { kind: 'stale'; file: string; state: DevState }
  | { kind: 'missing'; file: string }
  | { kind: 'invalid'; file: string; reason: string };

export function findDevState(dataDir: string): DevStateLookup {
  const found = readStateFile(path.join(dataDir, devStateFileName));
  if (found.kind !== 'running') return found;
  return isAlive(found.state.pid) ? found : { ...found, kind: 'stale' };
}

function readStateFile(file: string): DevStateLookup {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', file };
    return { kind: 'invalid', file, reason: error instanceof Error ? error.message : String(error) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', file, reason: 'not JSON' };
  }
  const parsed = devStateSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', file, reason: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') };
  return { kind: 'running', file, state: parsed.data };
}
