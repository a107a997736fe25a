// Shared by the deploy tests: a fresh copy of the repository to deploy from (so a deploy never
// writes into the working tree others test against), the doctl stand-in and its state, and
// example settings as a person would fill them in.
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { rootDir } from '../helpers/paths.js';

export { rootDir };

/** Where test/fixtures/doctl/doctl lives: put first on PATH, it is the `doctl` the deploy runs. */
export const standinDirectory = path.join(rootDir, 'test', 'fixtures', 'doctl');

/**
 * A clone as a person would have it: the repository's files (tracked, and new ones not ignored,
 * as they are in the working tree) in a temporary folder, without .env, build output or local
 * data; node_modules is linked, as `npm install` would have made it.
 */
export function copyRepository(): string {
  const copy = mkdtempSync(path.join(os.tmpdir(), 'sluice-deploy-'));
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: rootDir, encoding: 'utf8' });
  for (const file of listed.split('\0').filter(Boolean)) {
    const source = path.join(rootDir, file);
    if (!existsSync(source)) continue; // deleted in the working tree
    mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    copyFileSync(source, path.join(copy, file));
  }
  symlinkSync(path.join(rootDir, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  return copy;
}

/** A CA certificate as a person pastes it into .env: one line, "\n" for the newlines. The deploy checks its shape only. */
const exampleCaCert = '-----BEGIN CERTIFICATE-----\\nMIIEQTCCAqmgAwIBAgIUExampleExampleExampleExampleExampleMA0GCSqGSIb3DQEBDAUA\\n-----END CERTIFICATE-----';

/** Values a person would write into a fresh clone's .env (the example host names resolve nowhere). */
export const exampleSettings: Record<string, string> = {
  DATABASE_URL: 'postgresql://doadmin:example-password@db-postgresql-nyc3-00000-do-user-0000000-0.k.db.ondigitalocean.com:25061/sluice-pool?sslmode=require',
  DATABASE_CA_CERT: exampleCaCert,
  SPACES_ENDPOINT: 'https://nyc3.digitaloceanspaces.com',
  SPACES_BUCKET: 'sluice-uploads-example',
  SPACES_KEY: 'DO00EXAMPLEKEY0000000',
  SPACES_SECRET: 'example/secret+example0000000000000000000000',
  ALLOWED_ORIGINS: 'https://sluice.example.com',
  ALLOW_ANONYMOUS_UPLOADS: 'true',
};

/** What the stand-in pretends the account and namespace are; see test/fixtures/doctl/doctl.mjs. */
export interface StandinState {
  log: string;
  /** null: not authenticated (every command fails as doctl does without a token). */
  account: { email: string; uuid: string; team: string; teamUuid: string } | null;
  serverless: 'connected' | 'not-installed' | 'needs-upgrade' | 'not-connected';
  namespace: string;
  apiHost: string;
  keys: { id: string; name: string; created_at: string; expires_at?: string }[];
  /** What the next `key create` returns. */
  nextKey: { id: string; secret: string };
  /** What `functions get presign/create --url` prints once deployed. */
  functionUrl: string;
  deployed: boolean;
  functions?: string[];
  deployExitCode?: number;
}

export interface DoctlCall {
  args: string[];
  cwd: string;
}

export interface Standin {
  statePath: string;
  /** The shell environment for a deploy: the stand-in first on PATH and told where its state is. */
  environment: Record<string, string | undefined>;
  state(): StandinState;
  calls(): DoctlCall[];
  /** Each call as the command line it was, e.g. "serverless key list --output json". */
  commands(): string[];
}

export const exampleNamespace = 'fn-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
export const exampleApiHost = 'https://faas-nyc1-2ef2e6cc.doserverless.co';

export function createStandin(directory: string, overrides: Partial<StandinState> = {}): Standin {
  const statePath = path.join(directory, 'doctl-state.json');
  const log = path.join(directory, 'doctl-calls.jsonl');
  appendFileSync(log, '');
  const state: StandinState = {
    log,
    account: { email: 'ops@example.com', uuid: 'b6fc6c6e-0000-4000-8000-000000000001', team: 'Example Team', teamUuid: 'b6fc6c6e-0000-4000-8000-000000000002' },
    serverless: 'connected',
    namespace: exampleNamespace,
    apiHost: exampleApiHost,
    keys: [],
    nextKey: { id: 'dof_v1_5f2a9c1e7b3d4a60', secret: 'q7Zp3xK9mW2vB8nR4tY6uH1jL5cF0dS' },
    functionUrl: `${exampleApiHost}/api/v1/web/${exampleNamespace}/presign/create`,
    deployed: false,
    ...overrides,
  };
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  const calls = () =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as DoctlCall);
  return {
    statePath,
    environment: { ...process.env, PATH: `${standinDirectory}${path.delimiter}${process.env.PATH ?? ''}`, DOCTL_STANDIN_STATE: statePath },
    state: () => JSON.parse(readFileSync(statePath, 'utf8')) as StandinState,
    calls,
    commands: () => calls().map((call) => call.args.join(' ')),
  };
}

/** The doctl commands that change nothing: all a dry run or a failed preflight may call. */
export const readOnlyCommands = [
  'account get --output json',
  'serverless status',
  'serverless key list --output json',
  'serverless functions get presign/create --url',
];

const execFileAsync = promisify(execFile);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run <script> -- <args>` in `directory`, as a person would type it. */
export async function npmRun(directory: string, script: string, args: string[], environment: Record<string, string | undefined>): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync('npm', ['run', '--silent', script, '--', ...args], { cwd: directory, env: environment, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Every file under `directory` that a deploy writes: bundles, web/dist, .env. */
export function deployOutputs(directory: string): { bundles: boolean; page: boolean; envFile: string | undefined } {
  const bundles = existsSync(path.join(directory, 'packages', 'presign', 'create', 'index.js'));
  const page = existsSync(path.join(directory, 'web', 'dist'));
  const envFile = existsSync(path.join(directory, '.env')) ? readFileSync(path.join(directory, '.env'), 'utf8') : undefined;
  return { bundles, page, envFile };
}
