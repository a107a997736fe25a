// The command line itself, no platform needed: --version, --help on every command, exit code 2
// with the usage for anything malformed, and a one-line error naming the flag or variable to set
// when there is nothing to talk to.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rootDir } from '../helpers/paths.js';
import { withTokensAsOperands } from '../../src/cli/main.js';
import { scratchDir, sluice } from './support.js';

const version = (JSON.parse(readFileSync(path.join(rootDir, 'package.json'), 'utf8')) as { version: string }).version;
const empty = scratchDir('usage');
afterAll(() => empty.remove());
/** A data dir without a state file: no `npm run dev` to find. */
const noDev = { SLUICE_DATA_DIR: empty.dir };

describe('sluice', () => {
  it('prints its version', async () => {
    const run = await sluice(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it.each([[[]], [['upload']], [['status']], [['jobs']], [['jobs', 'list']], [['jobs', 'show']], [['jobs', 'retry']], [['jobs', 'cancel']], [['sweep']]])(
    'has --help for %j, exit 0',
    async (command) => {
      const run = await sluice([...command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: sluice/);
      expect(run.stderr).toBe('');
    },
  );

  it('refuses an unknown option with the usage, exit 2', async () => {
    const run = await sluice(['upload', 'x.csv', '--jsn']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: unknown option '--jsn'");
    expect(run.stderr).toContain('(Did you mean --json?)');
    expect(run.stderr).toContain('Usage: sluice upload [options] <files...>');
    expect(run.stdout).toBe('');
  });

  it.each([
    [['upload'], "missing required argument 'files'"],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['upload', 'a.csv', '--parallel', 'lots'], 'expected a whole number from 1 to 16'],
    [['upload', 'a.csv', '--type', 'csv'], 'expected a media type such as text/csv'],
    [['status', 'only-the-id'], "missing required argument 'token'"],
  ])('%j is a usage error, exit 2', async (args, message) => {
    const run = await sluice(args, { env: noDev });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('shows the usage without a command, exit 2', async () => {
    const run = await sluice([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: sluice [options] [command]');
  });

  it.each([
    [['jobs', 'list', '--status', 'done'], '--status takes awaiting_upload, queued, processing, succeeded, failed, rejected, cancelled, expired'],
    [['jobs', 'list', '--since', 'yesterday'], '--since takes a duration back from now (30m, 2h, 7d, 1w) or a date'],
    [['jobs', 'list', '--limit', '0'], '--limit takes a whole number from 1 to 1000'],
    [['jobs', 'show', 'not-an-id'], '"not-an-id" is not a job id'],
  ])('checks %j before touching any database, exit 2', async (args, message) => {
    const run = await sluice(args, { env: noDev });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('says which flag or variable to set when no API can be found, exit 2', async () => {
    const run = await sluice(['upload', 'people.csv'], { env: noDev });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      'sluice: no Sluice API to talk to (npm run dev is not running): start `npm run dev`, or pass --api <url> or set SLUICE_API_BASE (the web functions base, https://<host>/api/v1/web/<namespace>)',
    ]);
  });

  it('with --json, says the same as one JSON document on stdout', async () => {
    const run = await sluice(['upload', 'people.csv', '--json'], { env: noDev });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({ error: { code: 'NO_API', message: expect.stringContaining('pass --api <url> or set SLUICE_API_BASE') } });
  });

  it('recognises the state file of an npm run dev that was killed', async () => {
    const stale = scratchDir('stale');
    try {
      // Pid 2^22 + 1 is above Linux's largest pid (pid_max is at most 2^22), so no process has it.
      const state = { version: 1, pid: 4_194_305, startedAt: new Date().toISOString(), webUrl: 'http://127.0.0.1:1', apiBase: 'http://127.0.0.1:1/api/v1/web/x', apiHost: 'http://127.0.0.1:1', env: {} };
      writeFileSync(path.join(stale.dir, 'dev.json'), JSON.stringify(state));
      const run = await sluice(['jobs', 'list'], { env: { SLUICE_DATA_DIR: stale.dir } });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`no database to work on (npm run dev is not running (${path.join(stale.dir, 'dev.json')} names process 4194305, which has exited))`);
      expect(run.stderr).toContain('set DATABASE_URL (and DATABASE_CA_CERT) in the shell or in');
    } finally {
      stale.remove();
    }
  });

  it('says where it looked when the API does not answer, exit 1', async () => {
    // Port 9 (discard) has no listener here: the connection is refused at once, no retries.
    const started = Date.now();
    const run = await sluice(['upload', 'people.csv', '--api', 'http://127.0.0.1:9/api/v1/web/ns'], { env: noDev });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/sluice: cannot reach the Sluice API at http:\/\/127\.0\.0\.1:9\/api\/v1\/web\/ns \(.*\): check --api or SLUICE_API_BASE/);
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});

describe('withTokensAsOperands', () => {
  const token = `-${'a'.repeat(42)}`;
  it('moves a token that starts with - behind --, and leaves everything else', () => {
    expect(withTokensAsOperands(['status', 'id', token, '--json'])).toEqual(['status', 'id', '--json', '--', token]);
    expect(withTokensAsOperands(['status', 'id', 'plain-token', '--json'])).toEqual(['status', 'id', 'plain-token', '--json']);
    expect(withTokensAsOperands(['status', '--key', token, 'id', 'tok'])).toEqual(['status', '--key', token, 'id', 'tok']);
    expect(withTokensAsOperands(['status', 'id', '--', token])).toEqual(['status', 'id', '--', token]);
  });
});
