// Plain words for everything that can go wrong, keyed by the API's stable error codes (DESIGN "error
// format") and the client's own codes. The server's message is a human sentence already; the title
// says what it means for the person and the hint what they can do about it.
import { clientErrorCodes, isSluiceApiError } from '../../src/client/index.js';
import type { JobView } from '../../src/client/index.js';
import { formatTime, formatWait, plural } from './format.js';

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

/** One sentence on where the job stands, with the reason in plain words when it did not succeed. */
export function explainJob(job: JobView): Explanation {
  const reason = job.error ? `${job.error.message.trim()} (${job.error.code})` : '';
  switch (job.status) {
    case 'awaiting_upload':
      return { title: 'Waiting for the file', detail: 'The bytes go straight to storage; processing starts once they are all there.' };
    case 'queued':
      return job.attempts > 0
        ? {
            title: 'Waiting to be retried',
            detail: `Attempt ${job.attempts} of ${job.maxAttempts} did not finish${reason ? `: ${reason}` : ''}. Next try at ${formatTime(job.runAfter)}.`,
          }
        : { title: 'Waiting to be processed', detail: 'A processing function picks it up in a moment.' };
    case 'processing':
      return { title: 'Being processed', detail: `Attempt ${job.attempts} of ${job.maxAttempts}.` };
    case 'succeeded':
      return { title: 'Processed', detail: job.attempts > 1 ? `Succeeded on attempt ${job.attempts}.` : '' };
    case 'failed':
      return {
        title: `Processing failed after ${plural(job.attempts, 'attempt')}`,
        detail: reason || 'No reason was recorded.',
      };
    case 'rejected':
      return { title: 'The file was rejected and deleted', detail: reason || 'It was not what it claimed to be.' };
    case 'cancelled':
      return { title: 'The upload was cancelled', detail: 'Nothing was kept.' };
    case 'expired':
      return { title: 'The upload never finished', detail: 'The server gave up waiting for the file and cleaned up.' };
  }
}
