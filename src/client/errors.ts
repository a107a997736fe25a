// One error type for everything the client can fail on, shaped like the server's error format
// (docs/architecture.md: `{error: {code, message}}` with the HTTP status), so callers branch on `code` alone.

/** Codes the client itself produces; every other code comes from the server (src/errors.ts). */
export const clientErrorCodes = {
  /** No HTTP response at all (DNS, refused, reset, CORS blocked); `status` is 0. */
  network: 'NETWORK_ERROR',
  /** The response was not what the API contract says (bad JSON, wrong shape, unexpected status). */
  invalidResponse: 'INVALID_RESPONSE',
  /** The object store refused a PUT; the store's own code is in the message. */
  storage: 'STORAGE_ERROR',
  /** A part PUT succeeded but its ETag was not readable (bucket CORS must expose `ETag`). */
  etagMissing: 'ETAG_MISSING',
  /** The file to send is not the one the job was created for. */
  fileMismatch: 'FILE_MISMATCH',
  /** Not enough is known to continue an upload (plan unknown, or the job left `awaiting_upload`). */
  resumeNotPossible: 'RESUME_NOT_POSSIBLE',
  /** `waitForJob` gave up before the job reached one of the awaited statuses. */
  waitTimeout: 'WAIT_TIMEOUT',
} as const;

export interface SluiceApiErrorFields {
  /** HTTP status; 0 when no response arrived. */
  status: number;
  code: string;
  message: string;
  /** From `Retry-After`, when the server or store sent one (429, 503). */
  retryAfterSeconds?: number;
  /** The server's request id for 500s, to find the log line. */
  requestId?: string;
  /** JSON-able specifics from the server (e.g. which fields failed validation). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class SluiceApiError extends Error {
  override readonly name = 'SluiceApiError';
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds?: number;
  readonly requestId?: string;
  readonly details?: Record<string, unknown>;

  constructor(fields: SluiceApiErrorFields) {
    super(fields.message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.status = fields.status;
    this.code = fields.code;
    if (fields.retryAfterSeconds !== undefined) this.retryAfterSeconds = fields.retryAfterSeconds;
    if (fields.requestId !== undefined) this.requestId = fields.requestId;
    if (fields.details !== undefined) this.details = fields.details;
  }
}

export function isSluiceApiError(error: unknown): error is SluiceApiError {
  return error instanceof SluiceApiError;
}

/**
 * `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns whole seconds
 * from `nowMs`, never negative, or undefined when absent or unreadable.
 */
export function parseRetryAfterSeconds(header: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date always names its day and month; anything else (e.g. "-5", which Date.parse reads
  // as a year) is not one.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
}
