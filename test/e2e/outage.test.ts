// What a person sees while the database is down: the page says the server is busy and when it
// retries (the API answers 503 with Retry-After), instead of failing the upload or looking stuck,
// and the upload goes through once the database answers again. Postgres is paused for real
// (SIGSTOP of the postmaster and its backends).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPostgres, type LocalPostgres } from '../../src/local/postgres.js';
import { pauseProcessTree, postmasterPid } from '../helpers/processes.js';
import {
  addFiles,
  jobCard,
  screenshot,
  startUpload,
  unexpectedProblems,
  useE2eSystem,
  waitForJobStatus,
  writeFile,
} from './support.js';

let workDir: string;
let database: LocalPostgres;
let resumePostgres: () => void = () => undefined;

// A Postgres of its own, to pause: started before the platform, stopped after it (hooks stack).
beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-e2e-outage-'));
  database = await startLocalPostgres({ dataDir: path.join(workDir, 'postgres'), persistent: false });
});
afterAll(async () => {
  await database?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});
const e2e = useE2eSystem(() => ({ DATABASE_URL: database.url, DATABASE_CA_CERT: database.caCert }));
afterEach(() => resumePostgres());

function pausePostgres(): void {
  resumePostgres = pauseProcessTree(postmasterPid(path.join(workDir, 'postgres')));
}

describe('a database outage', () => {
  it('shows "The server is busy; retrying in N s" while the API answers 503, then uploads once it is back', async () => {
    const session = await e2e.open();
    const { page } = session;
    await addFiles(page, [writeFile(e2e.system.files, 'during-outage.txt', 'written while the database was down\n')]);

    pausePostgres();
    await startUpload(page);
    const status = page.locator('#server-status');
    await status.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await status.textContent()).toMatch(/^The server is busy; retrying (in \d+ s|now)\.$/);
    await screenshot(page, 'outage-retrying');

    resumePostgres();
    await waitForJobStatus(jobCard(page, 'during-outage.txt'), 'succeeded', 60_000);
    await status.waitFor({ state: 'hidden', timeout: 10_000 });
    // Chromium logs each 503 the page received; nothing else went wrong.
    expect(unexpectedProblems(session.problems, [503])).toEqual([]);
    await session.close();
  });
});
