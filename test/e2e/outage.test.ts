// What a person sees while the database is down: the page says the server is busy and when it
// retries (the API answers 503 with Retry-After), instead of failing the upload or looking stuck,
// and the upload goes through once the database answers again. Postgres is paused for real
// (SIGSTOP of the postmaster and its backends).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPostgres, type LocalPostgres } from '../../src/local/postgres.js';
import { pauseProcessTree, postmasterPid } from '../helpers/processes.js';
import {
  addFiles,
  jobCard,
  launchChromium,
  openPage,
  screenshot,
  startE2ePlatform,
  startUpload,
  unexpectedProblems,
  waitForJobStatus,
  writeFile,
  type E2ePlatform,
} from './support.js';

let workDir: string;
let database: LocalPostgres;
let system: E2ePlatform;
let browser: Browser;
let resumePostgres: () => void = () => undefined;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-e2e-outage-'));
  database = await startLocalPostgres({ dataDir: path.join(workDir, 'postgres'), persistent: false });
  [system, browser] = await Promise.all([startE2ePlatform({ DATABASE_URL: database.url, DATABASE_CA_CERT: database.caCert }), launchChromium()]);
});
afterEach(() => resumePostgres());
afterAll(async () => {
  await browser?.close();
  await system?.stop();
  await database?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

function pausePostgres(): void {
  resumePostgres = pauseProcessTree(postmasterPid(path.join(workDir, 'postgres')));
}

describe('a database outage', () => {
  it('shows "The server is busy; retrying in N s" while the API answers 503, then uploads once it is back', async () => {
    const session = await openPage(browser, `${system.platform.webUrl}/`);
    const { page } = session;
    await addFiles(page, [writeFile(system.files, 'during-outage.txt', 'written while the database was down\n')]);

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
