// The smoke checks (src/deploy/smoke.ts, `npm run smoke`) against the local platform, whose
// functions runtime serves the web functions and the REST API with namespace access keys; and
// process/sweep's dry run, which they invoke: it answers and touches nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabaseConfig } from '../../src/config.js';
import { createSql } from '../../src/db/client.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { setEnvFileValue } from '../../src/deploy/env-file.js';
import { runSmokeChecks } from '../../src/deploy/smoke.js';
import { sweepMain } from '../../src/jobs/sweep-handler.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { createStandin } from './support.js';

const pageOrigin = 'https://sluice.example.com';
let platform: Platform;
let accessKey: string;

beforeAll(async () => {
  platform = await startTestPlatform({ env: { ALLOWED_ORIGINS: `${pageOrigin},https://other.example.com` } });
  accessKey = platform.runtime.accessKey;
});
afterAll(async () => {
  await platform?.stop();
});

async function lastSweepStart(): Promise<string> {
  const sql = createSql(loadDatabaseConfig(platform.env), { max: 1 });
  try {
    const [row] = await sql<{ started: string }[]>`select last_started_at::text as started from sweeps where name = 'main'`;
    return row?.started ?? 'no row';
  } finally {
    await sql.end();
  }
}

describe('runSmokeChecks', () => {
  it('passes on a working deployment, and the sweep it invokes does not run', async () => {
    const before = await lastSweepStart();
    const checks = await runSmokeChecks({ apiBase: platform.apiBase, allowedOrigins: [pageOrigin], accessKey });
    expect(checks).toEqual([
      { name: 'presign/limits', ok: true, detail: 'GET answered 200 with the upload limits' },
      { name: 'CORS', ok: true, detail: `preflight from ${pageOrigin} allowed` },
      { name: 'access key', ok: true, detail: 'process/sweep dry run accepted the key' },
    ]);
    expect(await lastSweepStart()).toBe(before);
  });

  it('says the namespace refused a key it does not know, and what to do', async () => {
    const checks = await runSmokeChecks({ apiBase: platform.apiBase, allowedOrigins: [pageOrigin], accessKey: 'dof_v1_0000000000000000:not-a-key' });
    expect(checks.map((check) => check.ok)).toEqual([true, true, false]);
    expect(checks[2]).toMatchObject({ detail: 'the namespace refused FUNCTIONS_ACCESS_KEY (401)', fix: expect.stringContaining('run npm run deploy') });
  });

  it('says which origin the functions do not allow, and where to add it', async () => {
    const checks = await runSmokeChecks({ apiBase: platform.apiBase, allowedOrigins: ['https://elsewhere.example.net'], accessKey });
    expect(checks[1]).toMatchObject({ ok: false, fix: 'list https://elsewhere.example.net in ALLOWED_ORIGINS in .env and run npm run deploy:functions' });
    expect(checks[1]?.detail).toMatch(/^preflight from https:\/\/elsewhere\.example\.net answered \d+ with Access-Control-Allow-Origin/);
  });
});

describe('npm run smoke', () => {
  it('reads the URL from doctl and the key and origins from .env', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'sluice-smoke-'));
    try {
      setEnvFileValue(path.join(directory, '.env'), 'ALLOWED_ORIGINS', pageOrigin);
      setEnvFileValue(path.join(directory, '.env'), 'FUNCTIONS_ACCESS_KEY', accessKey);
      const standin = createStandin(directory, { deployed: true, functionUrl: `${platform.apiBase}/presign/create` });
      const lines: string[] = [];
      const ok = await runDeploy({ rootDir: directory, target: 'smoke', dryRun: false, appSpec: false, environment: standin.environment, write: (line) => lines.push(line) });
      expect(ok, lines.join('\n')).toBe(true);
      expect(standin.commands()).toEqual(['account get --output json', 'serverless status', 'serverless functions get presign/create --url']);
      expect(lines.find((line) => line.startsWith('✓ smoke'))).toContain('process/sweep dry run accepted the key');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('process/sweep {"dryRun": true}', () => {
  it('answers at once without reading any configuration or touching the database', async () => {
    // This process has no DATABASE_URL or Spaces settings: a real sweep would fail on them.
    expect(await sweepMain({ dryRun: true })).toEqual({ dryRun: true, ok: true });
  });

  it('refuses a dryRun that is not a boolean, like every other parameter error', async () => {
    expect(await sweepMain({ dryRun: 'yes' })).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'dryRun must be true or false' } });
  });

  it('answers over the REST API with the namespace access key', async () => {
    const response = await fetch(`${platform.runtime.apiHost}/api/v1/namespaces/_/actions/process/sweep?blocking=true&result=true`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(accessKey).toString('base64')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ dryRun: true }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ dryRun: true, ok: true });
  });
});
