// A list that scales: compact rows with a count per status, one row open at a time (keyboard
// included), a filter by status, "Clear finished", and every status change told to screen readers
// through a polite live region. Four kinds of file: a CSV, a JSON, an image and a disguised archive.
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addFiles,
  announcements,
  docsScreenshot,
  gradientPng,
  jobCard,
  launchChromium,
  openCard,
  openPage,
  startE2ePlatform,
  startUpload,
  unexpectedProblems,
  waitForJobStatus,
  writeFile,
  type E2ePlatform,
} from './support.js';

let system: E2ePlatform;
let browser: Browser;

beforeAll(async () => {
  [system, browser] = await Promise.all([startE2ePlatform(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

const csv = ['city,population,founded,coastal', 'Lisbon,545923,1179-06-01,true', 'Porto,231800,0868-01-01,true', 'Braga,193333,1112-01-01,false', ''].join('\n');
const json = JSON.stringify([{ id: 1, name: 'Ada', tags: ['math'] }, { id: 2, name: 'Grace', tags: [] }], null, 2);

function filterButton(page: Page, label: string) {
  return page.locator('.jobs-toolbar button.filter', { hasText: label });
}

async function openBodies(page: Page): Promise<number> {
  return page.locator('article.job .job-body:visible').count();
}

describe('the jobs list', () => {
  it('counts, filters, opens one row at a time, clears the finished ones and announces each change', async () => {
    const session = await openPage(browser, `${system.platform.webUrl}/`);
    const { page } = session;
    const disguised = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(2000)]);
    await addFiles(page, [
      writeFile(system.files, 'cities.csv', csv),
      writeFile(system.files, 'people.json', json),
      writeFile(system.files, 'sunset.png', gradientPng(640, 400)),
      writeFile(system.files, 'disguised.csv', disguised),
    ]);
    await startUpload(page);

    await waitForJobStatus(jobCard(page, 'cities.csv'), 'succeeded');
    await waitForJobStatus(jobCard(page, 'people.json'), 'succeeded');
    await waitForJobStatus(jobCard(page, 'sunset.png'), 'succeeded');
    await waitForJobStatus(jobCard(page, 'disguised.csv'), 'rejected');

    // Every change this page watched was told, in words, through the polite live region.
    const region = page.locator('#announcer');
    expect(await region.getAttribute('aria-live')).toBe('polite');
    await expect.poll(() => announcements(page)).toContain('disguised.csv: Rejected.');
    await expect.poll(() => announcements(page)).toMatch(/sunset\.png: Done\. Image · PNG · 640 × 400/);

    // A count per status, and each row one line: name, status, time, summary.
    await expect.poll(() => filterButton(page, 'All').textContent()).toBe('All 4');
    expect(await filterButton(page, 'Done').textContent()).toBe('Done 3');
    expect(await filterButton(page, 'Failed or rejected').textContent()).toBe('Failed or rejected 1');
    expect(await jobCard(page, 'cities.csv').getByTestId('job-summary').textContent()).toBe('CSV · 3 rows × 4 columns');
    expect(await openBodies(page)).toBeLessThanOrEqual(1);

    // Close whatever opened by itself: the compact list, as a long history would look.
    for (const toggle of await page.locator('button.job-toggle[aria-expanded="true"]').all()) await toggle.click();
    expect(await openBodies(page)).toBe(0);
    await docsScreenshot(page, 'page-list');

    // The keyboard opens a row (Enter) and closes it (Space); opening another closes the first.
    const people = jobCard(page, 'people.json').locator('button.job-toggle');
    await people.focus();
    await page.keyboard.press('Enter');
    expect(await people.getAttribute('aria-expanded')).toBe('true');
    await openCard(jobCard(page, 'cities.csv'));
    expect(await people.getAttribute('aria-expanded')).toBe('false');
    expect(await openBodies(page)).toBe(1);
    await jobCard(page, 'cities.csv').locator('button.job-toggle').focus();
    await page.keyboard.press('Space');
    expect(await openBodies(page)).toBe(0);

    // Filter by status: only the rejected row is shown, and the change is announced.
    await filterButton(page, 'Failed or rejected').click();
    expect(await filterButton(page, 'Failed or rejected').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('li.job-item:visible').count()).toBe(1);
    await openCard(jobCard(page, 'disguised.csv'));
    const outcome = await jobCard(page, 'disguised.csv').getByTestId('job-outcome').textContent();
    expect(outcome).toContain('which is not an accepted type');
    expect(outcome).not.toMatch(/\b[A-Z]+_[A-Z_]+\b/);
    await expect.poll(() => announcements(page)).toContain('Showing failed or rejected: 1 job.');
    await docsScreenshot(page, 'page-rejected');
    await filterButton(page, 'All').click();

    // The README's picture: the list with the CSV open on its profile.
    await openCard(jobCard(page, 'cities.csv'));
    await page.setViewportSize({ width: 1100, height: 1500 });
    await jobCard(page, 'cities.csv').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollTo(0, 0));
    await docsScreenshot(page, 'screenshot');
    await page.emulateMedia({ colorScheme: 'dark' });
    await docsScreenshot(page, 'page-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // Clear finished: everything here is finished; the stored files stay and the page says so.
    await page.getByRole('button', { name: 'Clear finished (4)' }).click();
    expect(await page.locator('article.job').count()).toBe(0);
    expect(await page.locator('#jobs-empty').isVisible()).toBe(true);
    await expect.poll(() => announcements(page)).toContain('Cleared 4 finished jobs from the list; stored files stay.');
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });
});
