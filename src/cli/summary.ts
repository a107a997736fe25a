// One line per job for people: what processing found, in the page's own words. The page's result
// view (web/src/result-view.ts) is pure data in, data out, so its headlines are reused as they are:
// a file reads the same in the terminal as on the page.
import type { JobView } from '../client/schemas.js';
import { resultHeadline as pageHeadline } from '../../web/src/result-view.js';
import { formatBytes } from '../../web/src/format.js';

/** "CSV · 2,000 rows × 7 columns", "Invalid JSON at line 4, column 1": the page's headline; "" when there is none. */
export function resultHeadline(result: unknown): string {
  return pageHeadline(result)?.text ?? '';
}

/** What became of a job, in one line: the headline when it succeeded, else the reason. */
export function jobOutcome(job: Pick<JobView, 'status' | 'result' | 'error' | 'size' | 'contentType'>): string {
  switch (job.status) {
    case 'succeeded': {
      const headline = resultHeadline(job.result);
      return headline === '' ? `${formatBytes(job.size)} · ${job.contentType}` : headline;
    }
    case 'failed':
    case 'rejected':
    case 'expired':
      return job.error === null ? job.status : `${job.error.code}: ${job.error.message}`;
    case 'queued':
      return job.error === null ? 'waiting to be processed' : `waiting for a retry after ${job.error.code}: ${job.error.message}`;
    case 'awaiting_upload':
      return 'waiting for its bytes';
    case 'processing':
      return 'being processed';
    case 'cancelled':
      return 'the upload was cancelled';
  }
}

/** Processed, but the file itself has a problem its headline names (invalid JSON, malformed rows). */
export function fileHasProblems(job: Pick<JobView, 'status' | 'result'>): boolean {
  return job.status === 'succeeded' && pageHeadline(job.result)?.tone === 'warning';
}

/** ✓ done, ! done but the file has a problem, ✗ failed, rejected or expired, … still under way. */
export function markOf(job: Pick<JobView, 'status' | 'result'>): string {
  if (job.status === 'succeeded') return fileHasProblems(job) ? '!' : '✓';
  return job.status === 'failed' || job.status === 'rejected' || job.status === 'expired' ? '✗' : '…';
}
