// One error type with stable codes, and the one catalogue mapping codes to HTTP statuses (tusd's
// style: a machine code, a human message, a status). Handlers and the core throw `ApiError`; only
// `toErrorResponse` turns errors into responses, so no handler builds error JSON by hand.
import { describeError, log } from './log.js';

/** Stable, upper-snake codes clients can branch on; the statuses are part of the API contract (DESIGN "HTTP API"). */
export const errorStatuses = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  JOB_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UPLOAD_NOT_FOUND: 409,
  UPLOAD_INCOMPLETE: 409,
  INVALID_STATE: 409,
  /** `retry` of a job that is not `failed`: running already, succeeded, or final for a reason a retry cannot change (src/jobs/retry.ts). */
  JOB_NOT_RETRYABLE: 409,
  SIZE_LIMIT_EXCEEDED: 413,
  CONTENT_TYPE_NOT_ALLOWED: 415,
  /** The request body is not declared `application/json` (src/http/request.ts requireJsonBody). */
  UNSUPPORTED_MEDIA_TYPE: 415,
  SIZE_MISMATCH: 422,
  CONTENT_TYPE_MISMATCH: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof errorStatuses;

export interface ApiErrorOptions {
  /** JSON-able specifics a client can use (e.g. which field failed); never internals. */
  details?: Record<string, unknown>;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = errorStatuses[code];
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId?: string; details?: Record<string, unknown> };
}

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

/**
 * The one mapping from any thrown value to a response. Unexpected errors become 500 INTERNAL with
 * only the request id in the body; the error itself (stack, SQL) goes to the log under that id.
 */
export function toErrorResponse(error: unknown, requestId: string): ErrorResponse {
  if (error instanceof ApiError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details !== undefined) body.error.details = error.details;
    if (error.status >= 500) {
      body.error.requestId = requestId;
      log.error(error.message, { requestId, code: error.code, ...describeError(error.cause) });
    }
    return { status: error.status, headers: { ...error.headers }, body };
  }
  log.error('unexpected error', { requestId, code: 'INTERNAL', ...describeError(error) });
  return {
    status: 500,
    headers: {},
    body: { error: { code: 'INTERNAL', message: `Internal error; quote request id ${requestId} when reporting it.`, requestId } },
  };
}
