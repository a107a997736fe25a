// What a person sees when the server will not take a file: a missing API key, a type it does not
// accept, a file over the size limit — refused before upload from the server's published limits,
// and refused by `create` itself when the page has no limits to check against.
import { createHash, randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  addFiles,
  jobCard,
  mebibyte,
  openPage,
  screenshot,
  startUpload,
  unexpectedProblems,
  useE2eSystem,
  waitForJobStatus,
  writeFile,
} from './support.js';

const apiKey = randomBytes(24).toString('base64url');
const maxUploadBytes = 2 * mebibyte;

const e2e = useE2eSystem({
  API_KEYS: createHash('sha256').update(apiKey).digest('hex'),
  ALLOW_ANONYMOUS_UPLOADS: 'false',
  MAX_UPLOAD_BYTES: String(maxUploadBytes),
  ALLOWED_CONTENT_TYPES: 'text/csv,text/plain,image/*',
});

function notice(page: Page, filename: string): Promise<string | null> {
  return page.locator(`#upload-notices li[data-file="${filename}"]`).textContent({ timeout: 15_000 });
}

/** `create` calls the page made: a refusal before upload must not make one. */
function countCreates(page: Page): () => number {
  let creates = 0;
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/presign/create')) creates++;
  });
  return () => creates;
}

describe('refusals', () => {
  it('asks for an API key when the server needs one, then uploads with it', async () => {
    const session = await e2e.open();
    const { page } = session;
    // The limits say a key is needed: the field is there before anything is refused.
    await page.locator('#api-key-section').waitFor({ state: 'visible' });
    await addFiles(page, [writeFile(e2e.system.files, 'keyed.csv', 'a,b\n1,2\n')]);
    await startUpload(page);
    expect(await notice(page, 'keyed.csv')).toContain('An API key is needed');
    await screenshot(page, '08-api-key-needed');

    await page.getByRole('textbox', { name: 'API key' }).fill(apiKey);
    await page.getByRole('button', { name: 'Save' }).click();
    await waitForJobStatus(jobCard(page, 'keyed.csv'), 'succeeded', 30_000);
    expect(await page.locator('#upload-notices li').count()).toBe(0);
    // Chromium logs the 401 the server answered on purpose; nothing else may appear.
    expect(unexpectedProblems(session.problems, [401])).toEqual([]);
    await session.close();
  });

  it('refuses a disallowed type and an oversized file before uploading, from the server limits', async () => {
    const session = await e2e.open();
    const { page } = session;
    const creates = countCreates(page);
    expect(await page.locator('.uppy-Dashboard-note').textContent()).toContain('Up to 2 MB per file');

    await addFiles(page, [writeFile(e2e.system.files, 'archive.zip', randomBytes(1000))]);
    expect(await notice(page, 'archive.zip')).toMatch(/This type of file is not accepted\. You can only upload: text\/csv, text\/plain, image\/\*/);
    await addFiles(page, [writeFile(e2e.system.files, 'huge.csv', 'x'.repeat(maxUploadBytes + 1))]);
    expect(await notice(page, 'huge.csv')).toMatch(/The file is too large\. huge\.csv exceeds maximum allowed size of 2 MB/);
    await screenshot(page, '09-refused-before-upload');
    expect(creates()).toBe(0);
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });

  it('says in plain words why a job was rejected: the bytes are not what the file claimed', async () => {
    const session = await openPage(e2e.browser, 'about:blank');
    const { page } = session;
    await page.addInitScript((key) => localStorage.setItem('sluice.apiKey', key), apiKey);
    await page.goto(`${e2e.system.platform.webUrl}/`);
    // A zip archive named and declared as CSV: accepted at upload, found out by processing.
    const disguised = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(2000)]);
    await addFiles(page, [writeFile(e2e.system.files, 'disguised.csv', disguised)]);
    await startUpload(page);
    const card = jobCard(page, 'disguised.csv');
    await waitForJobStatus(card, 'rejected', 30_000);
    const outcome = await card.getByTestId('job-outcome').textContent();
    expect(outcome).toContain('Rejected');
    expect(outcome).toContain('The stored file was deleted; check the file, then add it again.');
    expect(outcome).toContain('It was sent as CSV, but its bytes are a ZIP archive, which this server does not accept.');
    expect(await card.getByTestId('job-summary').textContent()).toBe('Rejected: the bytes are a ZIP archive, not CSV');
    await screenshot(page, '11-rejected');
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });

  it('shows the server’s refusal in the same words when the page could not read the limits', async () => {
    const session = await openPage(e2e.browser, 'about:blank');
    const { page } = session;
    await page.addInitScript((key) => localStorage.setItem('sluice.apiKey', key), apiKey);
    await page.route('**/presign/limits', (route) => route.fulfill({ status: 404, body: 'not here' }));
    await page.goto(`${e2e.system.platform.webUrl}/`);
    await page.locator('.uppy-Dashboard').waitFor();

    await addFiles(page, [writeFile(e2e.system.files, 'archive.zip', randomBytes(1000)), writeFile(e2e.system.files, 'huge.csv', 'x'.repeat(maxUploadBytes + 1))]);
    await startUpload(page);
    expect(await notice(page, 'archive.zip')).toContain('This type of file is not accepted');
    expect(await notice(page, 'huge.csv')).toContain('The file is too large');
    await screenshot(page, '10-refused-by-server');
    expect(unexpectedProblems(session.problems, [404, 413, 415])).toEqual([]);
    await session.close();
  });
});
