// Plain words for everything that can go wrong, keyed by the API's stable error codes (docs/architecture.md) and the client's own codes. The server's message is a human sentence already; the title
// says what it means for the person and the hint what they can do about it.
import { clientErrorCodes, isSluiceApiError } from '../../src/client/index.js';
import type { JobView } from '../../src/client/index.js';
import { describeType, describeTypeWithArticle, formatNumber, formatWait, plural } from './format.js';

export interface Explanation {
  title: string;
  detail: string;
}

const titles: Record<string, string> = {
  UNAUTHORIZED: 'An API key is needed',
  FORBIDDEN: 'This API key may not do that',
  VALIDATION_FAILED: 'The server did not accept this file',
  SIZE_LIMIT_EXCEEDED: 'The file is too large',
  CONTENT_TYPE_NOT_ALLOWED: 'This type of file is not accepted',
  RATE_LIMITED: 'Too many uploads for now',
  JOB_NOT_FOUND: 'The server no longer knows this upload',
  UPLOAD_NOT_FOUND: 'The file did not arrive in storage',
  UPLOAD_INCOMPLETE: 'Some parts of the file are missing in storage',
  INVALID_STATE: 'This upload has already moved on',
  JOB_NOT_RETRYABLE: 'This job cannot be retried',
  SIZE_MISMATCH: 'The stored file has a different size than announced',
  CONTENT_TYPE_MISMATCH: 'The stored file is not of the announced type',
  INTERNAL: 'The server had a problem',
  SERVICE_UNAVAILABLE: 'The server is busy',
  UNSUPPORTED_MEDIA_TYPE: 'The server did not understand the request',
  [clientErrorCodes.network]: 'The server could not be reached',
  [clientErrorCodes.storage]: 'Storage refused the upload',
  [clientErrorCodes.etagMissing]: 'Storage hid the confirmation of a part',
  [clientErrorCodes.invalidResponse]: 'The server answered something unexpected',
  [clientErrorCodes.fileMismatch]: 'This is not the file the upload was started with',
  [clientErrorCodes.resumeNotPossible]: 'This upload cannot be resumed',
};

const hints: Record<string, string> = {
  UNAUTHORIZED: 'Enter your API key above; the upload is retried with it.',
  FORBIDDEN: 'Check the API key above.',
  JOB_NOT_FOUND: 'Add the file again to start a new upload.',
  INVALID_STATE: 'Add the file again to start a new upload.',
  [clientErrorCodes.network]: 'Check the connection and retry.',
  SERVICE_UNAVAILABLE: 'It was retried for a while; try again in a few minutes.',
  [clientErrorCodes.etagMissing]: 'The bucket’s CORS rule must expose the ETag header.',
};

export function explainError(error: unknown): Explanation {
  if (isSluiceApiError(error)) {
    const title = titles[error.code] ?? (error.status >= 500 ? 'The server had a problem' : 'The server refused the request');
    const parts = [error.message.trim()];
    if (error.code === 'RATE_LIMITED' && error.retryAfterSeconds !== undefined) parts.push(`Try again in ${formatWait(error.retryAfterSeconds)}.`);
    const hint = hints[error.code];
    if (hint !== undefined) parts.push(hint);
    if (error.requestId !== undefined && !error.message.includes(error.requestId)) parts.push(`Request id: ${error.requestId}.`);
    return { title, detail: parts.filter(Boolean).join(' ') };
  }
  if (error instanceof Error) return { title: 'Something went wrong', detail: error.message };
  return { title: 'Something went wrong', detail: String(error) };
}

export type Tone = 'info' | 'progress' | 'success' | 'warning' | 'error';

export const statusLabels: Record<JobView['status'], string> = {
  awaiting_upload: 'Uploading',
  queued: 'Queued',
  processing: 'Processing',
  succeeded: 'Done',
  failed: 'Failed',
  rejected: 'Rejected',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

export const statusTones: Record<JobView['status'], Tone> = {
  awaiting_upload: 'progress',
  queued: 'progress',
  processing: 'progress',
  succeeded: 'success',
  failed: 'error',
  rejected: 'error',
  cancelled: 'warning',
  expired: 'warning',
};

/**
 * What a job's last error means for the person, by its code: the server's message says what
 * happened in its own words; this says what to do about it. Codes themselves stay out of the page
 * text (the history and the raw JSON keep them).
 */
const jobErrorHints: Record<string, string> = {
  ANALYZER_CRASHED: 'A processing step broke on this file, which is a bug on the server side, not a problem with the file.',
  LEASE_EXPIRED: 'The processing function stopped responding (it may have run out of time or memory).',
  OBJECT_CHANGED: 'The stored file was replaced after it was checked. Upload it again.',
  UPLOAD_EXPIRED: 'Add the file again to upload it.',
};

function withPeriod(text: string): string {
  const trimmed = text.trim();
  return trimmed === '' || /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function reasonOf(job: JobView): string {
  if (job.error === null) return '';
  const hint = jobErrorHints[job.error.code];
  return [withPeriod(job.error.message), hint].filter(Boolean).join(' ');
}

/** The last event, if it is the holder's retry: the card then says the retry was taken. */
function justRetried(job: JobView): boolean {
  return job.events.at(-1)?.event === 'retried' || (job.events.at(-2)?.event === 'retried' && job.events.at(-1)?.event === 'dispatched');
}

/** One sentence on where the job stands, and when it did not succeed, why and what can be done. */
export function explainJob(job: JobView): Explanation {
  const reason = reasonOf(job);
  switch (job.status) {
    case 'awaiting_upload':
      return { title: 'Waiting for the file', detail: 'The bytes go straight to storage; processing starts once they are all there.' };
    case 'queued':
      if (justRetried(job)) return { title: 'Retry requested', detail: 'Processing starts again in a moment, with a fresh set of attempts.' };
      return job.attempts > 0
        ? {
            title: 'Trying again',
            detail: `Attempt ${job.attempts} of ${job.maxAttempts} did not finish${reason ? `: ${reason}` : '.'} It is tried again automatically.`,
          }
        : { title: 'Waiting to be processed', detail: 'A processing function picks it up in a moment.' };
    case 'processing':
      return { title: 'Being processed', detail: job.attempts > 1 ? `Attempt ${job.attempts} of ${job.maxAttempts}.` : '' };
    case 'succeeded':
      return { title: 'Processed', detail: job.attempts > 1 ? `It took ${plural(job.attempts, 'attempt')}.` : '' };
    case 'failed':
      return {
        title: `Processing failed after ${plural(job.attempts, 'attempt')}`,
        detail: `${reason || 'No reason was recorded.'} The stored file is kept: use Retry to process it again.`,
      };
    case 'rejected':
      return {
        title: 'Rejected',
        detail: `${describeRejection(job).reason ?? (reason || 'The file was not what it claimed to be.')} The stored file was deleted; check the file, then add it again.`,
      };
    case 'cancelled':
      return { title: 'Upload cancelled', detail: 'Nothing was kept. Add the file again to upload it.' };
    case 'expired':
      return { title: 'The upload never finished', detail: 'The server stopped waiting for the file and cleaned up. Add the file again to upload it.' };
  }
}

/** What the server recorded with the rejection (src/jobs/transitions.ts JobFailure.facts). */
function rejectionFacts(job: JobView): Record<string, unknown> {
  const event = [...job.events].reverse().find((candidate) => candidate.event === 'rejected');
  return event?.detail ?? {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

interface Rejection {
  /** "Rejected: the bytes are a ZIP archive, not CSV". */
  headline: string;
  /** The same in a sentence, for the card's details; undefined when the server recorded no specifics. */
  reason?: string;
}

/** A rejection in plain words, from the facts the server recorded with it, else from its message. */
function describeRejection(job: JobView): Rejection {
  const facts = rejectionFacts(job);
  const declared = describeType(text(facts.declaredType) ?? job.contentType);
  const detected = text(facts.detectedType);
  const stored = text(facts.storedType);
  switch (job.error?.code) {
    case 'CONTENT_TYPE_NOT_ALLOWED':
      if (detected === undefined) break;
      return {
        headline: `Rejected: the bytes are ${describeTypeWithArticle(detected)}, not ${declared}`,
        reason: `It was sent as ${declared}, but its bytes are ${describeTypeWithArticle(detected)}, which this server does not accept.`,
      };
    case 'CONTENT_TYPE_MISMATCH':
      if (stored === undefined) break;
      return { headline: `Rejected: stored as ${describeType(stored)}, not ${declared}`, reason: `It reached storage as ${describeType(stored)}, not the ${declared} announced.` };
    case 'SIZE_MISMATCH':
      return {
        headline: 'Rejected: not the size announced',
        ...(typeof facts.storedBytes === 'number' && typeof facts.declaredBytes === 'number'
          ? { reason: `${plural(facts.storedBytes, 'byte')} reached storage; ${formatNumber(facts.declaredBytes)} were announced.` }
          : {}),
      };
    case 'SHA256_MISMATCH':
      return {
        headline: 'Rejected: not the bytes announced (SHA-256 differs)',
        reason: 'Its SHA-256 is not the one announced when the upload started: these are not the bytes that were meant to be sent.',
      };
    case 'OBJECT_CHANGED':
      return { headline: 'Rejected: the file was replaced after it was checked' };
  }
  const message = job.error?.message.trim();
  return { headline: message ? `Rejected: ${message.charAt(0).toLowerCase()}${message.slice(1).replace(/[.]$/, '')}` : 'Rejected' };
}

/** A rejected job's one line: "Rejected: the bytes are a ZIP archive, not CSV". */
export function rejectionHeadline(job: JobView): string {
  return describeRejection(job).headline;
}

/** A job that worked on a file with a problem (invalid JSON, malformed rows, text that is not UTF-8). */
export function explainProblemFile(job: JobView): Explanation {
  return {
    title: 'Processed; the file itself has a problem',
    detail: `The details below say what and where. Fix the file and add it again if it matters.${job.attempts > 1 ? ` It took ${plural(job.attempts, 'attempt')}.` : ''}`,
  };
}
