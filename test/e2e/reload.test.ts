// A reload in the middle of a batch: the file that finished is not offered for upload again, the
// unfinished one is, and its card says where it stands (uploading with its percentage before the
// reload, ready to resume after it) rather than "waiting for the file".
import type { Page, Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  addFiles,
  docsScreenshot,
  jobCard,
  mebibyte,
  partPuts,
  startUpload,
  textOfSize,
  unexpectedProblems,
  useE2eSystem,
  waitForJobStatus,
  writeFile,
} from './support.js';

const e2e = useE2eSystem();

/** Part PUTs from part 2 on never reach the store: the upload stays in flight as long as the test needs. */
async function holdLaterParts(page: Page): Promise<void> {
  await page.route(
    (url) => url.searchParams.has('partNumber') && url.searchParams.has('uploadId'),
    async (route: Route) => {
      if (route.request().method() === 'PUT' && Number(new URL(route.request().url()).searchParams.get('partNumber')) >= 2) return;
      await route.continue();
    },
  );
}

describe('a reload mid-upload', () => {
  it('offers only the unfinished file again, and its card says it is ready to resume', async () => {
    const finished = writeFile(e2e.system.files, 'done.csv', 'a,b\n1,2\n');
    const unfinished = writeFile(e2e.system.files, 'big.txt', textOfSize(3 * 8 * mebibyte + 17));
    const session = await e2e.open();
    const { page } = session;
    await holdLaterParts(page);
    await addFiles(page, [finished, unfinished]);
    await startUpload(page);

    await waitForJobStatus(jobCard(page, 'done.csv'), 'succeeded', 30_000);
    await expect.poll(() => partPuts(e2e.system.storeRequests), { timeout: 30_000 }).toContainEqual({ partNumber: 1, status: 200 });
    // The card shows the upload itself: the server only knows it is waiting for the bytes.
    const big = jobCard(page, 'big.txt');
    await expect.poll(() => big.getAttribute('data-activity')).toBe('uploading');
    await expect.poll(() => big.getByTestId('job-summary').textContent()).toMatch(/^\d+% of 24 MB/);
    expect(await big.getAttribute('data-status')).toBe('awaiting_upload');
    await expect.poll(() => page.evaluate(() => (localStorage.getItem('uppyState:sluice') ?? '').includes('"uploadId"')), { timeout: 10_000 }).toBe(true);

    await page.reload();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    const items = page.locator('.uppy-Dashboard-Item');
    await items.filter({ hasText: 'big.txt' }).waitFor();
    await expect.poll(() => items.allTextContents()).toEqual([expect.stringContaining('big.txt')]);
    const restored = jobCard(page, 'big.txt');
    await expect.poll(() => restored.getAttribute('data-activity')).toBe('ready');
    expect(await restored.getByTestId('job-status').textContent()).toBe('Paused');
    expect(await restored.getByTestId('job-summary').textContent()).toMatch(/^Ready to resume at \d+% of 24 MB$/);
    expect(await jobCard(page, 'done.csv').getAttribute('data-status')).toBe('succeeded');
    await docsScreenshot(page, 'page-reloaded', { fullPage: true });

    await startUpload(page);
    await waitForJobStatus(restored, 'succeeded', 60_000);
    // Each file went up once: done.csv had one PUT, big.txt its four parts, none twice.
    const parts = partPuts(e2e.system.storeRequests).map((put) => put.partNumber);
    expect(parts.sort()).toEqual([1, 2, 3, 4]);
    expect(e2e.system.storeRequests.filter((request) => request.method === 'PUT' && request.url.includes('done.csv'))).toHaveLength(1);
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });
});
