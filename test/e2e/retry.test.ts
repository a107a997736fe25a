// A failed job has a Retry button: a deploy ships a broken analyzer (a real redeploy of
// process/file, as the processing tests do it), the job fails after its attempts, the fix is
// deployed, and Retry on the card runs a new attempt that succeeds.
import { afterAll, describe, expect, it } from 'vitest';
import {
  addFiles,
  announcements,
  deployFileVariant,
  docsScreenshot,
  jobCard,
  openCard,
  startUpload,
  sweepUntilCard,
  unexpectedProblems,
  useE2eSystem,
  waitForJobStatus,
  writeFile,
} from './support.js';

let cleanUpVariant: (() => void) | undefined;

afterAll(() => cleanUpVariant?.());
// Retries a few milliseconds apart, so the five attempts of a broken build end within seconds.
const e2e = useE2eSystem({ RETRY_BASE_DELAY_SECONDS: '0.01' });

describe('Retry', () => {
  it('on a failed job leads to a new attempt, which succeeds once the fix is deployed', async () => {
    cleanUpVariant = await deployFileVariant(e2e.system.platform, 'test/fixtures/failing-process/index.ts');
    const session = await e2e.open();
    const { page } = session;
    await addFiles(page, [writeFile(e2e.system.files, 'survey.csv', 'q,answer\n1,yes\n2,no\n')]);
    await startUpload(page);

    const card = jobCard(page, 'survey.csv');
    await sweepUntilCard(e2e.system.platform, card, 'failed');
    await openCard(card);
    const outcome = await card.getByTestId('job-outcome').textContent();
    expect(outcome).toContain('Processing failed after 5 attempts');
    expect(outcome).toContain('use Retry to process it again');
    // Plain words, not the code.
    expect(outcome).not.toContain('ANALYZER_CRASHED');
    await expect.poll(() => announcements(page)).toContain('survey.csv: Failed.');
    await docsScreenshot(page, 'page-failed');

    await e2e.system.platform.redeploy();
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
