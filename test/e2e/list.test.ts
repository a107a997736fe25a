// A list that scales: compact rows with a count per status, one row open at a time (keyboard
// included), a filter by status, "Clear finished", and every status change told to screen readers
// through a polite live region. Five files: a CSV, a JSON, an image, a broken JSON and a disguised
// archive; each row's one line says what the file is and whether it is fine, in the right colour.
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  addFiles,
  announcedSoFar,
  announcements,
  docsScreenshot,
  gradientPng,
  jobCard,
  openCard,
  recordAnnouncements,
  startUpload,
  unexpectedProblems,
  useE2eSystem,
  waitForJobStatus,
  writeFile,
} from './support.js';

const e2e = useE2eSystem();

/** 120 towns: a name each, a region of five, a population, a founding date, by the coast or not. */
const csv = [
  'town,region,population,founded,coastal',
  ...Array.from({ length: 120 }, (_, index) => {
    const population = Math.round(2_000 + 80_000 * Math.abs(Math.sin(index * 1.7)) ** 3);
    const founded = new Date(Date.UTC(900 + ((index * 37) % 900), index % 12, 1 + (index % 28))).toISOString().slice(0, 10);
    return `Town ${index + 1},${['Norte', 'Centro', 'Lisboa', 'Alentejo', 'Algarve'][(index * 7 + (index >> 2)) % 5]},${population},${founded},${index % 3 === 0}`;
  }),
  '',
].join('\n');
const json = JSON.stringify([{ id: 1, name: 'Ada', tags: ['math'] }, { id: 2, name: 'Grace', tags: [] }], null, 2);
/** A trailing comma on line 3: the parser stops at the closing brace on line 4. */
const brokenJson = '{\n  "id": 1,\n  "name": "Ada",\n}\n';

function filterButton(page: Page, label: string) {
  return page.locator('.jobs-toolbar button.filter', { hasText: label });
}

async function openBodies(page: Page): Promise<number> {
  return page.locator('article.job .job-body:visible').count();
}

describe('the jobs list', () => {
  it('counts, filters, opens one row at a time, clears the finished ones and announces each change', async () => {
    const session = await e2e.open();
    const { page } = session;
    await recordAnnouncements(page);
    const disguised = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(2000)]);
    await addFiles(page, [
      writeFile(e2e.system.files, 'towns.csv', csv),
      writeFile(e2e.system.files, 'people.json', json),
      writeFile(e2e.system.files, 'sunset.png', gradientPng(640, 400)),
      writeFile(e2e.system.files, 'broken.json', brokenJson),
      writeFile(e2e.system.files, 'disguised.csv', disguised),
    ]);
    await startUpload(page);

    await waitForJobStatus(jobCard(page, 'towns.csv'), 'succeeded');
    await waitForJobStatus(jobCard(page, 'people.json'), 'succeeded');
    await waitForJobStatus(jobCard(page, 'sunset.png'), 'succeeded');
    await waitForJobStatus(jobCard(page, 'broken.json'), 'succeeded');
    await waitForJobStatus(jobCard(page, 'disguised.csv'), 'rejected');

    // Every change this page watched was told, in words, through the polite live region.
    const region = page.locator('#announcer');
    expect(await region.getAttribute('aria-live')).toBe('polite');
    await expect.poll(() => announcedSoFar(page)).toContain('disguised.csv: Rejected: the bytes are a ZIP archive, not CSV');
    await expect.poll(() => announcedSoFar(page)).toContain('sunset.png: Done. Image · PNG · 640 × 400');
    await expect.poll(() => announcedSoFar(page)).toContain('broken.json: File has problems. Invalid JSON at line 4, column 1');

    // A count per status, and each row one line: name, status, time, and what the file is.
    await expect.poll(() => filterButton(page, 'All').textContent()).toBe('All 5');
    expect(await filterButton(page, 'Done').textContent()).toBe('Done 4');
    expect(await filterButton(page, 'Failed or rejected').textContent()).toBe('Failed or rejected 1');
    const rows: [string, string, string, string][] = [
      ['towns.csv', 'Done', 'success', 'CSV · 120 rows × 5 columns'],
      ['people.json', 'Done', 'success', 'JSON · an array of 2 records'],
      ['sunset.png', 'Done', 'success', 'Image · PNG · 640 × 400'],
      // The job worked, the file has a problem: never shown as a green success.
      ['broken.json', 'File has problems', 'warning', 'Invalid JSON at line 4, column 1'],
      ['disguised.csv', 'Rejected', 'error', 'Rejected: the bytes are a ZIP archive, not CSV'],
    ];
    for (const [filename, label, tone, summary] of rows) {
      const card = jobCard(page, filename);
      expect(await card.getByTestId('job-status').textContent(), filename).toBe(label);
      expect(await card.getAttribute('class'), filename).toContain(`tone-${tone}`);
      expect(await card.getByTestId('job-summary').textContent(), filename).toBe(summary);
    }
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
    await openCard(jobCard(page, 'towns.csv'));
    expect(await people.getAttribute('aria-expanded')).toBe('false');
    expect(await openBodies(page)).toBe(1);
    await jobCard(page, 'towns.csv').locator('button.job-toggle').focus();
    await page.keyboard.press('Space');
    expect(await openBodies(page)).toBe(0);

    // Filter by status: only the rejected row is shown, and the change is announced.
    await filterButton(page, 'Failed or rejected').click();
    expect(await filterButton(page, 'Failed or rejected').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('li.job-item:visible').count()).toBe(1);
    await openCard(jobCard(page, 'disguised.csv'));
    const outcome = await jobCard(page, 'disguised.csv').getByTestId('job-outcome').textContent();
    expect(outcome).toContain('It was sent as CSV, but its bytes are a ZIP archive, which this server does not accept.');
    expect(outcome).not.toMatch(/\b[A-Z]+_[A-Z_]+\b/);
    await expect.poll(() => announcements(page)).toContain('Showing failed or rejected: 1 job.');
    await docsScreenshot(page, 'page-rejected');
    await filterButton(page, 'All').click();

    // The README's picture: the list with the CSV open on its profile, a chart per column worth one.
    await openCard(jobCard(page, 'towns.csv'));
    const towns = jobCard(page, 'towns.csv');
    for (const column of ['region', 'population', 'founded', 'coastal']) {
      const chart = towns.getByRole('img', { name: `Distribution of ${column}` });
      expect(await chart.isVisible(), column).toBe(true);
      const description = await chart.getAttribute('aria-describedby');
      expect(await page.locator(`#${description ?? 'none'}`).textContent(), column).toMatch(new RegExp(`^${column}: 120 values`));
    }
    expect(await towns.locator('svg.histogram rect').count()).toBeGreaterThan(0);
    expect(await towns.locator('.bars .bar').count()).toBe(5 + 2); // five regions, coastal or not
    expect(await towns.getByRole('img', { name: 'Distribution of town' }).count()).toBe(0); // every town differs
    await docsScreenshot(towns, 'page-csv');
    await page.setViewportSize({ width: 1100, height: 1500 });
    // From the list's heading down: every row's answer, then the CSV's card.
    await page.locator('#jobs-title').evaluate((heading) => heading.scrollIntoView({ block: 'start' }));
    await docsScreenshot(page, 'screenshot');
    await page.emulateMedia({ colorScheme: 'dark' });
    await docsScreenshot(page, 'page-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // Clear finished: everything here is finished; the stored files stay and the page says so.
    await page.getByRole('button', { name: 'Clear finished (5)' }).click();
    expect(await page.locator('article.job').count()).toBe(0);
    expect(await page.locator('#jobs-empty').isVisible()).toBe(true);
    await expect.poll(() => announcements(page)).toContain('Cleared 5 finished jobs from the list; stored files stay.');
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });
});
