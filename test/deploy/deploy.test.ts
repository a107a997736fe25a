// `npm run deploy` end to end, against everything but DigitalOcean itself: a fresh copy of the
// repository, real Postgres and the S3 server of the local platform, a real functions runtime
// serving the bundles, and the doctl stand-in (test/fixtures/doctl) for doctl. Proves the order
// of the doctl calls, the access key written into .env (in place, 0600, nothing else touched),
// the migrations applied, the bucket configured, the page built with the deployed URL, the smoke
// checks passing; and that a second run reuses the key and changes nothing.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDeploymentSettings, loadDatabaseConfig } from '../../src/config.js';
import { createSql } from '../../src/db/client.js';
import { defaultMigrationsDirectory } from '../../src/db/migrate.js';
import { runDeploy, type DeployOptions } from '../../src/deploy/deploy.js';
import { setEnvFileValue } from '../../src/deploy/env-file.js';
import { startFunctionsRuntime, type FunctionsRuntime } from '../../src/local/functions/runtime.js';
import { localDefaults } from '../../src/local/local-env.js';
import { startLocalPostgres, type LocalPostgres } from '../../src/local/postgres.js';
import { loadProject } from '../../src/local/project.js';
import { startLocalSpaces, type LocalSpaces } from '../../src/local/spaces.js';
import { abortIncompleteUploadsRuleId, createBucketStorage, readBucketState } from '../../src/storage/bucket-setup.js';
import { copyRepository, createStandin, rootDir, type Standin } from './support.js';

/** A deploy builds eight bundles and the page; on two shared cores that takes a while. */
const deployTimeoutMs = 180_000;
const pageOrigin = 'http://127.0.0.1:5173';
const key = { id: 'dof_v1_9c4e2b7a1d3f5e60', secret: 'Xr8vN2kQ7mZ4pW1tB6yH3jL9cF5dS0aG' };
const accessKey = `${key.id}:${key.secret}`;
/** A key the namespace no longer lists: the deploy must replace it, on its own line. */
const staleAccessKey = 'dof_v1_0000000000000000:stale-secret';

let work: string;
let copy: string;
let postgres: LocalPostgres;
let spaces: LocalSpaces;
let runtime: FunctionsRuntime;
let standin: Standin;
let envBefore: string;
let appSpecBefore: string;

/** What a person fills into .env, pointing at the local services. */
function deploymentEnv(): Record<string, string> {
  return {
    DATABASE_URL: postgres.url,
    // One line, as .env holds it: base64 of the PEM (src/config.ts decodes either form).
    DATABASE_CA_CERT: Buffer.from(postgres.caCert).toString('base64'),
    SPACES_ENDPOINT: spaces.endpoint,
    SPACES_BUCKET: spaces.bucket,
    SPACES_KEY: spaces.accessKeyId,
    SPACES_SECRET: spaces.secretAccessKey,
    ALLOWED_ORIGINS: pageOrigin,
    ALLOW_ANONYMOUS_UPLOADS: 'true',
  };
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'sluice-deploy-services-'));
  copy = copyRepository();
  postgres = await startLocalPostgres({ dataDir: path.join(work, 'postgres'), persistent: false });
  spaces = await startLocalSpaces({ directory: path.join(work, 'spaces'), bucket: 'sluice-deploy-test', allowedOrigins: [] });
  // The "namespace": the bundles global setup built, run with the settings the deploy ships and
  // accepting the key the stand-in will hand out.
  const settings = { ...localDefaults, ...deploymentEnv(), FUNCTIONS_ACCESS_KEY: accessKey };
  runtime = await startFunctionsRuntime({ project: loadProject(rootDir, { variables: settings }), accessKeys: [accessKey], triggers: false });
  standin = createStandin(work, { nextKey: key, functionUrl: `${runtime.webBase}/presign/create`, functions: ['presign/create', 'process/sweep'] });

  const envFile = path.join(copy, '.env');
  copyFileSync(path.join(copy, '.env.example'), envFile);
  for (const [name, value] of Object.entries(deploymentEnv())) setEnvFileValue(envFile, name, value);
  setEnvFileValue(envFile, 'FUNCTIONS_ACCESS_KEY', staleAccessKey);
  envBefore = readFileSync(envFile, 'utf8');
  appSpecBefore = readFileSync(path.join(copy, '.do', 'app.yaml'), 'utf8');
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  await spaces?.stop();
  await postgres?.stop();
  if (copy) rmSync(copy, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

async function deploy(): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  const options: DeployOptions = {
    rootDir: copy,
    target: 'all',
    dryRun: false,
    appSpec: true,
    environment: standin.environment,
    write: (line) => lines.push(line),
    // The local S3 server speaks plain http, which a deployment must not; everything else is
    // judged as for a real deployment (the local Postgres verifies TLS against its own CA).
    checkSettings: (env, options) => checkDeploymentSettings(env, options).filter((problem) => !problem.startsWith('SPACES_ENDPOINT')),
  };
  const ok = await runDeploy(options);
  if (process.env.SLUICE_TEST_LOG) console.log(lines.join('\n'));
  return { ok, lines };
}

describe('npm run deploy onto the local services', () => {
  it('checks, creates the access key, migrates, configures the bucket, deploys, builds the page and smoke-checks, in that order', async () => {
    const { ok, lines } = await deploy();
    expect(ok, lines.join('\n')).toBe(true);

    expect(standin.commands()).toEqual([
      'account get --output json',
      'serverless status',
      'serverless key list --output json',
      'serverless key create --name sluice-dispatch --expiration never --output json',
      'serverless deploy .',
      'serverless functions get presign/create --url',
    ]);
    expect(standin.calls().every((call) => call.cwd === copy)).toBe(true);
    const steps = lines.filter((line) => /^[✓✗] /.test(line)).map((line) => line.slice(2, 14).trim());
    expect(steps).toEqual(['settings', 'doctl', 'access key', 'migrations', 'bucket', 'functions', 'page', 'smoke']);
    expect(lines.filter((line) => line.startsWith('✗'))).toEqual([]);

    // The stale key's line now holds the new key; every other byte of .env is as the person left it.
    const envFile = path.join(copy, '.env');
    const envAfter = readFileSync(envFile, 'utf8');
    expect(envAfter).toBe(envBefore.replace(`FUNCTIONS_ACCESS_KEY=${staleAccessKey}`, `FUNCTIONS_ACCESS_KEY=${accessKey}`));
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).toContain(`created ${key.id}`);

    // Every migration is recorded in the database the deploy was pointed at.
    const database = loadDatabaseConfig(deploymentEnv());
    const sql = createSql(database, { max: 1 });
    try {
      const applied = await sql<{ name: string }[]>`select name from schema_migrations order by name`;
      const shipped = readdirSync(defaultMigrationsDirectory).filter((file) => file.endsWith('.sql')).map((file) => file.replace(/\.sql$/, '')).sort();
      expect(shipped.length).toBeGreaterThanOrEqual(7);
      expect(applied.map((row) => row.name)).toEqual(shipped);
    } finally {
      await sql.end();
    }

    // The bucket, read back through the S3 API.
    const storage = createBucketStorage({ endpoint: spaces.endpoint, region: spaces.region, bucket: spaces.bucket, accessKeyId: spaces.accessKeyId, secretAccessKey: spaces.secretAccessKey, forcePathStyle: true });
    const bucket = await readBucketState(storage);
    storage.client.destroy();
    expect(bucket.private).toBe(true);
    expect(bucket.cors).toEqual([expect.objectContaining({ AllowedOrigins: [pageOrigin], ExposeHeaders: ['ETag'] })]);
    expect(bucket.lifecycle.map((rule) => rule.ID)).toEqual([abortIncompleteUploadsRuleId]);

    // Bundles built in the copy, the page built with the URL doctl reported, the App Platform spec given it too.
    expect(statSync(path.join(copy, 'packages', 'process', 'sweep', 'index.js')).size).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(path.join(copy, 'web', 'dist', 'config.json'), 'utf8'))).toEqual({ apiBase: runtime.webBase });
    // Only the value line of SLUICE_API_BASE changed; the spec's comments and layout stayed.
    const appSpec = readFileSync(path.join(copy, '.do', 'app.yaml'), 'utf8');
    expect(appSpec).toBe(appSpecBefore.replace(/^( {8}value: ).*$/m, `$1${runtime.webBase}`));
    expect(appSpec).not.toBe(appSpecBefore);

    expect(lines.find((line) => line.startsWith('✓ smoke'))).toContain('accepted the key');
    expect(lines).toContain(`  API base (SLUICE_API_BASE): ${runtime.webBase}`);
  }, deployTimeoutMs);

  it('run again, reuses the key from .env and finds nothing to change', async () => {
    const before = standin.commands().length;
    const envBeforeSecondRun = readFileSync(path.join(copy, '.env'), 'utf8');
    const { ok, lines } = await deploy();
    expect(ok, lines.join('\n')).toBe(true);

    expect(standin.commands().slice(before)).toEqual([
      'account get --output json',
      'serverless status',
      'serverless key list --output json',
      'serverless deploy .',
      'serverless functions get presign/create --url',
    ]);
    expect(readFileSync(path.join(copy, '.env'), 'utf8')).toBe(envBeforeSecondRun);
    const text = lines.join('\n');
    expect(text).toContain(`reusing ${key.id} (from .env)`);
    expect(text).toMatch(/✓ migrations +.* is up to date/);
    expect(text).toMatch(/private \(unchanged\), CORS for .* \(unchanged\), abort after 1 day \(unchanged\)/);
  }, deployTimeoutMs);
});
