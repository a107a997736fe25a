// The two ways an upload stops half-way: the page is reloaded (the upload resumes where it was,
// sending only the parts the store does not have) or the person cancels (the job is cancelled).
import type { Page, Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  addFiles,
  announcements,
  docsScreenshot,
  jobCard,
  mebibyte,
  partPuts,
  screenshot,
  startUpload,
  textOfSize,
  unexpectedProblems,
  useE2eSystem,
  waitForJobStatus,
  writeFile,
} from './support.js';

const e2e = useE2eSystem();

/**
 * Holds the browser's part PUTs for which `hold(partNumber)` is true: they never reach the store,
 * so the upload stays in flight for as long as the test needs. Everything else passes.
 */
async function holdParts(page: Page, hold: (partNumber: number) => boolean): Promise<void> {
  await page.route(
    (url) => url.searchParams.has('partNumber') && url.searchParams.has('uploadId'),
    async (route: Route) => {
      const partNumber = Number(new URL(route.request().url()).searchParams.get('partNumber'));
      if (route.request().method() === 'PUT' && hold(partNumber)) return;
      await route.continue();
    },
  );
}

/** Golden Retriever writes Uppy's state to localStorage (throttled); resuming needs the upload id in it. */
async function resumeStateSaved(page: Page): Promise<boolean> {
  return page.evaluate(() => (localStorage.getItem('uppyState:sluice') ?? '').includes('"uploadId"'));
}

describe('an interrupted upload', () => {
  it('resumes after a reload without sending the finished parts again', async () => {
    const name = 'resume.txt';
    const file = writeFile(e2e.system.files, name, textOfSize(3 * 8 * mebibyte + 4321));
    const session = await e2e.open();
    const { page } = session;
    await holdParts(page, (partNumber) => partNumber >= 2);
    await addFiles(page, [file]);
    await startUpload(page);

    await expect.poll(() => partPuts(e2e.system.storeRequests), { timeout: 30_000 }).toContainEqual({ partNumber: 1, status: 200 });
    await expect.poll(() => resumeStateSaved(page), { timeout: 10_000 }).toBe(true);
    await screenshot(page, '05-multipart-in-progress');
    const beforeReload = partPuts(e2e.system.storeRequests);
    expect(beforeReload).toEqual([{ partNumber: 1, status: 200 }]);

    await page.reload();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    // Golden Retriever restores the file from IndexedDB; the Dashboard offers to resume.
    await page.locator('.uppy-Dashboard-Item').filter({ hasText: name }).waitFor();
    await screenshot(page, '06-restored-after-reload');
    await startUpload(page);

    const card = jobCard(page, name);
    await waitForJobStatus(card, 'succeeded', 30_000);
    const afterReload = partPuts(e2e.system.storeRequests).slice(beforeReload.length);
    // Part 1 was in the store before the reload and is not sent again; each other part once.
    expect(afterReload.map((put) => put.partNumber).sort()).toEqual([2, 3, 4]);
    expect(afterReload.every((put) => put.status === 200)).toBe(true);
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });

  it('pauses and resumes from the status bar', async () => {
    const name = 'pause.txt';
    const file = writeFile(e2e.system.files, name, textOfSize(2 * 8 * mebibyte + 99));
    const session = await e2e.open();
    const { page } = session;
    const putsBefore = partPuts(e2e.system.storeRequests).length;
    await holdParts(page, (partNumber) => partNumber >= 2);
    await addFiles(page, [file]);
    await startUpload(page);
    await expect.poll(() => partPuts(e2e.system.storeRequests).slice(putsBefore), { timeout: 30_000 }).toContainEqual({ partNumber: 1, status: 200 });

    const statusBar = page.locator('.uppy-StatusBar');
    const card = jobCard(page, name);
    await expect.poll(() => card.getAttribute('data-activity')).toBe('uploading');
    await statusBar.getByRole('button', { name: 'Pause' }).click();
    await statusBar.getByRole('button', { name: 'Resume' }).waitFor();
    // The card says the same as the status bar: paused, and how far it got.
    await expect.poll(() => card.getAttribute('data-activity')).toBe('paused');
    expect(await card.getByTestId('job-status').textContent()).toBe('Paused');
    expect(await card.getByTestId('job-summary').textContent()).toMatch(/^Paused at \d+% of 16 MB$/);
    await expect.poll(() => announcements(page)).toContain(`${name}: upload paused.`);
    await screenshot(page, '07a-paused');
    await docsScreenshot(page, 'page-paused');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await statusBar.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => announcements(page)).toContain(`${name}: upload resumed.`);

    await waitForJobStatus(card, 'succeeded', 30_000);
    expect(
      partPuts(e2e.system.storeRequests)
        .slice(putsBefore)
        .map((put) => `${put.partNumber}:${put.status}`)
        // Parts 2 and 3 go up side by side after the resume: each once, in either order.
        .sort(),
    ).toEqual(['1:200', '2:200', '3:200']);
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });

  it('is cancelled with the Cancel button, and its job says so', async () => {
    const name = 'cancel-me.txt';
    const file = writeFile(e2e.system.files, name, textOfSize(9 * mebibyte));
    const session = await e2e.open();
    const { page } = session;
    const putsBefore = partPuts(e2e.system.storeRequests).length;
    await holdParts(page, () => true);
    await addFiles(page, [file]);
    await startUpload(page);

    const card = jobCard(page, name);
    await waitForJobStatus(card, 'awaiting_upload', 30_000);
    // The status bar's cancel button (the Dashboard's header has a "Cancel" too, for the selection).
    await page.locator('.uppy-StatusBar').getByRole('button', { name: 'Cancel' }).click();
    await waitForJobStatus(card, 'cancelled', 30_000);
    expect(await card.getByTestId('job-outcome').textContent()).toContain('cancelled');
    expect(partPuts(e2e.system.storeRequests).length).toBe(putsBefore);
    await screenshot(page, '07-cancelled');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });
});
