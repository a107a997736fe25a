// One error type with stable codes, and the one catalogue mapping codes to HTTP statuses (tusd's
// style: a machine code, a human message, a status). Handlers and the core throw `ApiError`; only
// `toErrorResponse` turns errors into responses, so no handler builds error JSON by hand.
import { serviceUnavailableRetryAfterSeconds } from './config.js';
import { unavailableService, type UnavailableService } from './http/outage.js';
import { describeError, log } from './log.js';

/** Stable, upper-snake codes clients can branch on; the statuses are part of the API contract (docs/api.md). */
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
  /** The database or the store is unreachable, hung or timed out; comes with `Retry-After` (serviceUnavailable). */
  SERVICE_UNAVAILABLE: 503,
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

const unavailableSubjects: Record<UnavailableService | 'deadline', string> = {
  database: 'The database is not answering',
  storage: 'The file store is not answering',
  deadline: 'The server could not finish in time',
};

/**
 * 503 SERVICE_UNAVAILABLE with `Retry-After` (RFC 9110 §15.6.4): the server is fine but something
 * it depends on is not, for now. Clients retry it with backoff (src/client/retry.ts); the platform's
 * own answer at the function's time limit would be a 400, which they never retry.
 */
export function serviceUnavailable(why: UnavailableService | 'deadline', cause?: unknown): ApiError {
  const seconds = serviceUnavailableRetryAfterSeconds;
  return new ApiError('SERVICE_UNAVAILABLE', `${unavailableSubjects[why]}; try again in ${seconds} s.`, {
    headers: { 'Retry-After': String(seconds) },
    cause,
  });
}

/**
 * The one mapping from any thrown value to a response. The database or the store being down
 * (src/http/outage.ts) is 503 with Retry-After; other unexpected errors become 500 INTERNAL with
 * only the request id in the body; the error itself (stack, SQL) goes to the log under that id.
 */
export function toErrorResponse(thrown: unknown, requestId: string): ErrorResponse {
  const service = thrown instanceof ApiError ? undefined : unavailableService(thrown);
  const error = service === undefined ? thrown : serviceUnavailable(service, thrown);
  if (error instanceof ApiError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details !== undefined) body.error.details = error.details;
    if (error.status >= 500) {
      body.error.requestId = requestId;
      log.error(error.message, { requestId, code: error.code, ...(error.cause === undefined ? {} : describeError(error.cause)) });
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
