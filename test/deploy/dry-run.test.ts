// `npm run deploy -- --dry-run` on a fresh clone whose .env has the example values filled in, run
// as a person types it (npm, tsx, the real script) with the doctl stand-in on PATH: it checks
// everything it can, prints the plan step by step, exits 0, and changes nothing (no key created,
// no build, no page, .env untouched, only read-only doctl commands). Also: a .env with problems
// names each of them; a usage error exits 2.
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseDeployArguments } from '../../src/deploy/cli.js';
import { setEnvFileValue } from '../../src/deploy/env-file.js';
import { loadProject } from '../../src/local/project.js';
import { copyRepository, createStandin, deployOutputs, exampleNamespace, exampleSettings, npmRun, readOnlyCommands, rootDir } from './support.js';

/** npm, tsx and the first TypeScript compile of the script: seconds, more on a busy machine. */
const commandTimeoutMs = 60_000;

let copy: string;
let envFile: string;

function writeEnv(settings: Record<string, string>): string {
  copyFileSync(path.join(copy, '.env.example'), envFile);
  for (const [name, value] of Object.entries(settings)) setEnvFileValue(envFile, name, value);
  return readFileSync(envFile, 'utf8');
}

beforeAll(() => {
  copy = copyRepository();
  envFile = path.join(copy, '.env');
});
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});
beforeEach(() => {
  rmSync(path.join(copy, 'doctl-calls.jsonl'), { force: true });
});

describe('npm run deploy -- --dry-run on a fresh clone', () => {
  it('validates, prints the plan step by step, exits 0 and changes nothing', async () => {
    const envText = writeEnv(exampleSettings);
    const standin = createStandin(copy);
    const { code, stdout, stderr } = await npmRun(copy, 'deploy', ['--dry-run'], standin.environment);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });

    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Deploying ${copy} (dry run: nothing will be changed)`);
    expect(lines.slice(1, 9).map((line) => line.slice(0, 14).trimEnd())).toEqual([
      '✓ settings',
      '✓ doctl',
      '✓ access key',
      '✓ migrations',
      '✓ bucket',
      '✓ functions',
      '✓ page',
      '✓ smoke',
    ]);
    expect(stdout).toContain(`connected to namespace ${exampleNamespace}`);
    expect(stdout).toContain('would create key "sluice-dispatch" (FUNCTIONS_ACCESS_KEY is not set)');
    expect(stdout).toContain('db-postgresql-nyc3-00000-do-user-0000000-0.k.db.ondigitalocean.com:25061/sluice-pool');
    expect(stdout).toContain('would make sluice-uploads-example at https://nyc3.digitaloceanspaces.com private, allow PUT/GET/HEAD from https://sluice.example.com');
    const functionCount = loadProject(rootDir, { unresolved: 'placeholder' }).functions.length;
    expect(stdout).toContain(`would build ${functionCount} functions and run \`doctl serverless deploy .\``);
    expect(lines.at(-1)).toBe('Dry run: nothing was changed. Run the same command without --dry-run to do the steps above.');

    expect(standin.commands()).toEqual(['account get --output json', 'serverless status', 'serverless key list --output json']);
    expect(standin.state().keys).toEqual([]);
    expect(deployOutputs(copy)).toEqual({ bundles: false, page: false, envFile: envText });
  }, commandTimeoutMs);

  it('reuses a key the namespace lists, and says so', async () => {
    const envText = writeEnv({ ...exampleSettings, FUNCTIONS_ACCESS_KEY: 'dof_v1_1111222233334444:s3cret' });
    const standin = createStandin(copy, { keys: [{ id: 'dof_v1_1111222233334444', name: 'sluice-dispatch', created_at: '2026-07-01T00:00:00Z' }] });
    const { code, stdout } = await npmRun(copy, 'deploy', ['--dry-run'], standin.environment);
    expect(code).toBe(0);
    expect(stdout).toMatch(/✓ access key +reusing dof_v1_1111222233334444 \(from \.env\)/);
    expect(deployOutputs(copy).envFile).toBe(envText);
  }, commandTimeoutMs);

  it('names every missing or wrong setting, refuses empty ones, and exits 1 after checking doctl too', async () => {
    const { DATABASE_URL: _url, ...rest } = exampleSettings;
    const envText = writeEnv({ ...rest, SPACES_ENDPOINT: 'nyc3.digitaloceanspaces.com', ALLOWED_ORIGINS: '', ALLOW_ANONYMOUS_UPLOADS: 'maybe' });
    const standin = createStandin(copy);
    const { code, stdout } = await npmRun(copy, 'deploy', ['--dry-run'], standin.environment);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^✗ settings +\d+ settings to fix \(below\) → fix them in \.env/m);
    for (const variable of ['DATABASE_URL', 'SPACES_ENDPOINT', 'ALLOWED_ORIGINS', 'ALLOW_ANONYMOUS_UPLOADS']) {
      expect(stdout).toMatch(new RegExp(`^ {4}${variable}\\b`, 'm'));
    }
    // The other preflight still ran, so a second problem would show in the same run; nothing after it did.
    expect(stdout).toMatch(/^✓ doctl /m);
    expect(stdout).not.toMatch(/access key|migrations/);
    expect(stdout).toContain('Stopped at "settings"');
    expect(standin.commands().every((command) => readOnlyCommands.includes(command))).toBe(true);
    expect(deployOutputs(copy).envFile).toBe(envText);
  }, commandTimeoutMs);

  it('explains a missing .env', async () => {
    rmSync(envFile, { force: true });
    const standin = createStandin(copy);
    const { code, stdout } = await npmRun(copy, 'deploy', ['--dry-run'], standin.environment);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^✗ settings +.*\.env does not exist → cp \.env\.example \.env and fill in the required lines/m);
  }, commandTimeoutMs);

  it('exits 2 with the usage on a wrong command line', async () => {
    const standin = createStandin(copy);
    const { code, stderr } = await npmRun(copy, 'deploy', ['--dryrun'], standin.environment);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^deploy: Unknown option '--dryrun'/);
    expect(stderr).toContain('Usage:');
    expect(standin.commands()).toEqual([]);
  }, commandTimeoutMs);
});

describe('the deploy command line', () => {
  it('takes one step, --dry-run and --app-spec', () => {
    expect(parseDeployArguments([])).toEqual({ kind: 'run', target: 'all', dryRun: false, appSpec: false });
    expect(parseDeployArguments(['bucket', '--dry-run'])).toEqual({ kind: 'run', target: 'bucket', dryRun: true, appSpec: false });
    expect(parseDeployArguments(['page', '--app-spec'])).toEqual({ kind: 'run', target: 'page', dryRun: false, appSpec: true });
    expect(parseDeployArguments(['--help'])).toEqual({ kind: 'help' });
  });

  it('refuses what it does not know', () => {
    expect(parseDeployArguments(['everything'])).toMatchObject({ kind: 'usage-error', message: expect.stringContaining('unknown step "everything"') });
    expect(parseDeployArguments(['page', 'smoke'])).toMatchObject({ kind: 'usage-error' });
    expect(parseDeployArguments(['smoke', '--app-spec'])).toMatchObject({ kind: 'usage-error', message: '--app-spec goes with deploy or deploy:page' });
    expect(parseDeployArguments(['--verbose'])).toMatchObject({ kind: 'usage-error' });
  });
});
