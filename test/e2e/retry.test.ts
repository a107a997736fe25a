// A failed job has a Retry button: a deploy ships a broken analyzer (a real redeploy of
// process/file, as the processing tests do it), the job fails after its attempts, the fix is
// deployed, and Retry on the card runs a new attempt that succeeds.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addFiles,
  announcements,
  deployFileVariant,
  docsScreenshot,
  jobCard,
  launchChromium,
  openCard,
  openPage,
  startE2ePlatform,
  startUpload,
  sweepUntilCard,
  unexpectedProblems,
  waitForJobStatus,
  writeFile,
  type E2ePlatform,
} from './support.js';

let system: E2ePlatform;
let browser: Browser;
let cleanUpVariant: (() => void) | undefined;

beforeAll(async () => {
  // Retries a few milliseconds apart, so the five attempts of a broken build end within seconds.
  [system, browser] = await Promise.all([startE2ePlatform({ RETRY_BASE_DELAY_SECONDS: '0.01' }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await system?.stop();
  cleanUpVariant?.();
});

describe('Retry', () => {
  it('on a failed job leads to a new attempt, which succeeds once the fix is deployed', async () => {
    cleanUpVariant = await deployFileVariant(system.platform, 'test/fixtures/failing-process/index.ts');
    const session = await openPage(browser, `${system.platform.webUrl}/`);
    const { page } = session;
    await addFiles(page, [writeFile(system.files, 'survey.csv', 'q,answer\n1,yes\n2,no\n')]);
    await startUpload(page);

    const card = jobCard(page, 'survey.csv');
    await sweepUntilCard(system.platform, card, 'failed');
    await openCard(card);
    const outcome = await card.getByTestId('job-outcome').textContent();
    expect(outcome).toContain('Processing failed after 5 attempts');
    expect(outcome).toContain('use Retry to process it again');
    // Plain words, not the code.
    expect(outcome).not.toContain('ANALYZER_CRASHED');
    await expect.poll(() => announcements(page)).toContain('survey.csv: Failed.');
    await docsScreenshot(page, 'page-failed');

    await system.platform.redeploy();
    await card.getByRole('button', { name: 'Retry survey.csv' }).click();
    await waitForJobStatus(card, 'succeeded', 30_000);
    await expect.poll(() => announcements(page)).toContain('survey.csv: retry requested.');
    await expect.poll(() => announcements(page)).toContain('survey.csv: Done.');

    // The history shows the retry and the new attempt, the sixth.
    const history = card.locator('details.history');
    await history.locator('summary').click();
    const events = await history.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(events).toContain('Retried');
    const attempts = await history.locator('tbody tr td:nth-child(4)').allTextContents();
    expect(attempts).toContain('6');
    expect(await card.getByRole('button', { name: 'Retry survey.csv' }).count()).toBe(0);
    expect(unexpectedProblems(session.problems)).toEqual([]);
    await session.close();
  });
});
