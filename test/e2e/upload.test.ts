// Uploading through the page: a small CSV as one PUT, a larger file as a multipart upload, both
// watched until the server is done with them; the CSV's profile as a table.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootDir } from '../helpers/platform.js';
import {
  addFiles,
  docsScreenshot,
  jobCard,
  mebibyte,
  openCard,
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

const csv = ['city,population,founded,coastal', 'Lisbon,545923,1179-06-01,true', 'Porto,231800,0868-01-01,true', 'Braga,,1112-01-01,false', 'Évora,53591,,false', ''].join('\n');

describe('the upload page', () => {
  it('uploads a CSV (single PUT) and a large file (multipart), and shows their jobs and results', async () => {
    const smallFile = writeFile(e2e.system.files, 'cities.csv', csv);
    const largeSize = 17 * mebibyte + 123;
    const largeFile = writeFile(e2e.system.files, 'notes.txt', textOfSize(largeSize));
    const session = await e2e.open();
    const { page } = session;
    await screenshot(page, '01-empty');

    await addFiles(page, [smallFile, largeFile]);
    await screenshot(page, '02-files-added');
    await startUpload(page);

    const csvCard = jobCard(page, 'cities.csv');
    const largeCard = jobCard(page, 'notes.txt');
    // A keyboard user inside a card keeps the focus while polling re-renders it.
    await openCard(largeCard);
    const largeRaw = largeCard.locator('details.raw summary');
    await largeRaw.focus();
    const statusWhenFocused = await largeCard.getAttribute('data-status');
    await waitForJobStatus(csvCard, 'succeeded', 30_000);
    await waitForJobStatus(largeCard, 'succeeded', 60_000);
    expect(statusWhenFocused).not.toBe('succeeded');
    expect(await largeRaw.evaluate((element) => element === document.activeElement)).toBe(true);

    // 8 MiB parts (the server's minimum) for 17 MiB: three parts, each sent once.
    expect(partPuts(e2e.system.storeRequests).map((put) => `${put.partNumber}:${put.status}`).sort()).toEqual(['1:200', '2:200', '3:200']);

    // The CSV profile, as a table: the columns by name with their types, and the row count.
    const columns = csvCard.locator('section[data-analyzer=csv] table').first();
    await expect.poll(() => columns.locator('tbody tr td:first-child').allTextContents()).toEqual(['city', 'population', 'founded', 'coastal']);
    expect(await columns.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['text', 'whole number', 'date', 'yes/no']);
    expect(await csvCard.locator('section[data-analyzer=csv] .headline').textContent()).toContain('4 rows × 4 columns');
    // Hash and detected type for everything.
    expect(await csvCard.locator('section[data-analyzer=file]').textContent()).toMatch(/SHA-256[0-9a-f]{64}/);
    expect(await largeCard.locator('section[data-analyzer=text] .headline').textContent()).toContain('lines');

    // History and raw JSON open from the keyboard too (the CSV's row first: one row is open at a time).
    await openCard(csvCard);
    expect(await largeCard.locator('button.job-toggle').getAttribute('aria-expanded')).toBe('false');
    const history = csvCard.locator('details.history');
    await history.locator('summary').focus();
    await page.keyboard.press('Enter');
    expect(await history.getAttribute('open')).not.toBeNull();
    expect(await history.locator('tbody tr').count()).toBeGreaterThanOrEqual(3);
    await csvCard.locator('details.raw summary').click();
    await screenshot(page, '03-results');

    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });

  it('carries nothing secret: the bundle knows neither the functions, the keys nor the database', () => {
    const assets = path.join(rootDir, 'web', 'dist', 'assets');
    const bundle = readdirSync(assets)
      .map((name) => readFileSync(path.join(assets, name), 'utf8'))
      .join('\n');
    const secrets = [e2e.system.platform.apiBase, e2e.system.platform.spaces.accessKeyId, e2e.system.platform.spaces.secretAccessKey, e2e.system.platform.databaseUrl];
    for (const secret of secrets) expect(bundle.includes(secret), secret).toBe(false);
    expect(bundle).not.toMatch(/DATABASE_URL|SPACES_SECRET|SPACES_KEY|API_KEYS/);
  });

  it('fits a phone screen', async () => {
    const session = await e2e.open({ width: 390, height: 844 });
    const { page } = session;
    // The jobs of the previous test live in this browser's localStorage only for that context;
    // upload one here so the phone screenshot shows a result.
    await addFiles(page, [writeFile(e2e.system.files, 'cities.csv', csv)]);
    await startUpload(page);
    const card = jobCard(page, 'cities.csv');
    await waitForJobStatus(card, 'succeeded', 30_000);
    // The row this page watched finish is open on its result.
    await card.locator('.job-body').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    // A table wider than the phone scrolls in its own box and says so; one that fits says nothing.
    const history = card.locator('details.history');
    await history.locator('summary').click();
    const historyTable = history.locator('.table-wrap');
    await expect.poll(() => historyTable.getAttribute('class')).toContain('overflowing');
    expect(await historyTable.locator('.scroll-hint').isVisible()).toBe(true);
    expect(await historyTable.locator('.scroll-hint').textContent()).toContain('Scroll sideways');
    await screenshot(page, '04-phone');
    await docsScreenshot(page, 'page-phone', { fullPage: true });
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });
});
