// The file one click away: a finished job's card links to "Download <filename>", and that link
// fetches the very bytes that were uploaded; the SHA-256 has a copy button.
import { describe, expect, it } from 'vitest';
import {
  addFiles,
  announcements,
  jobCard,
  mebibyte,
  openCard,
  sha256Hex,
  sha256OfFile,
  startUpload,
  textOfSize,
  unexpectedProblems,
  useE2eSystem,
  waitForJobStatus,
  writeFile,
} from './support.js';

const e2e = useE2eSystem();

describe('the download link', () => {
  it('fetches the very bytes uploaded, single PUT and multipart alike', async () => {
    const small = writeFile(e2e.system.files, 'measurements.csv', 'day,reading\n1,3.5\n2,4.25\n3,\n');
    const large = writeFile(e2e.system.files, 'log.txt', textOfSize(9 * mebibyte + 5));
    const session = await e2e.open();
    const { page } = session;
    await addFiles(page, [small, large]);
    await startUpload(page);

    for (const [file, name] of [
      [small, 'measurements.csv'],
      [large, 'log.txt'],
    ] as const) {
      const card = jobCard(page, name);
      await waitForJobStatus(card, 'succeeded', 60_000);
      await openCard(card);
      const link = card.getByRole('link', { name: `Download ${name}` });
      const href = await link.getAttribute('href');
      expect(href).toMatch(/X-Amz-Signature=/);
      // Fetched the way the browser follows the link: the signed URL alone, no cookie, no key.
      const response = await fetch(href ?? '');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${name}"`);
      expect(sha256Hex(new Uint8Array(await response.arrayBuffer()))).toBe(sha256OfFile(file));
    }
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });

  it('downloads through the browser too, under the file’s name', async () => {
    const file = writeFile(e2e.system.files, 'notes.txt', 'a few words\n');
    const session = await e2e.open();
    const { page } = session;
    await addFiles(page, [file]);
    await startUpload(page);
    const card = jobCard(page, 'notes.txt');
    await waitForJobStatus(card, 'succeeded', 30_000);
    await openCard(card);
    const [download] = await Promise.all([page.waitForEvent('download'), card.getByRole('link', { name: 'Download notes.txt' }).click()]);
    expect(download.suggestedFilename()).toBe('notes.txt');
    const saved = await download.path();
    expect(sha256OfFile(saved)).toBe(sha256OfFile(file));
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });

  it('copies the SHA-256 with one click, and says so', async () => {
    const file = writeFile(e2e.system.files, 'hash-me.txt', 'hash me\n');
    const session = await e2e.open();
    const { page, context } = session;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: e2e.system.platform.webUrl });
    await addFiles(page, [file]);
    await startUpload(page);
    const card = jobCard(page, 'hash-me.txt');
    await waitForJobStatus(card, 'succeeded', 30_000);
    await openCard(card);
    const copy = card.getByRole('button', { name: 'Copy the SHA-256 of hash-me.txt' });
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(sha256OfFile(file));
    await expect.poll(() => announcements(page)).toContain('SHA-256 of hash-me.txt copied.');
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });
});
