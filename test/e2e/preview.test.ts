// An image's card shows a small preview: from the page's own copy of the file while it has one,
// and after a reload from the signed download URL (the bytes in storage).
import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  addFiles,
  docsScreenshot,
  gradientPng,
  jobCard,
  openCard,
  startUpload,
  unexpectedProblems,
  useE2eSystem,
  waitForJobStatus,
  writeFile,
} from './support.js';

const e2e = useE2eSystem();

/** The preview has been decoded: a broken or never-loaded image has no natural width. */
async function loadedWidth(image: Locator): Promise<number> {
  await image.scrollIntoViewIfNeeded();
  return image.evaluate((element) => (element instanceof HTMLImageElement && element.complete ? element.naturalWidth : 0));
}

describe('an image preview', () => {
  it('loads from the local file, and after a reload from storage', async () => {
    const file = writeFile(e2e.system.files, 'gradient.png', gradientPng(320, 200));
    const session = await e2e.open();
    const { page } = session;
    await addFiles(page, [file]);
    await startUpload(page);
    const card = jobCard(page, 'gradient.png');
    await waitForJobStatus(card, 'succeeded', 30_000);
    await openCard(card);

    const preview = card.getByRole('img', { name: 'Preview of gradient.png' });
    expect(await preview.getAttribute('loading')).toBe('lazy');
    expect(await preview.getAttribute('src')).toMatch(/^blob:/);
    await expect.poll(() => loadedWidth(preview), { timeout: 10_000 }).toBe(320);
    await docsScreenshot(page, 'page-image');

    // The page no longer has the bytes after a reload: the preview comes from the bucket.
    await page.reload();
    await page.locator('.uppy-Dashboard').waitFor();
    const restored = jobCard(page, 'gradient.png');
    await waitForJobStatus(restored, 'succeeded', 30_000);
    await openCard(restored);
    const stored = restored.getByRole('img', { name: 'Preview of gradient.png' });
    await expect.poll(() => stored.getAttribute('src')).toMatch(/X-Amz-Signature=/);
    await expect.poll(() => loadedWidth(stored), { timeout: 10_000 }).toBe(320);
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });
});
