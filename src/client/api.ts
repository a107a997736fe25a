// The calls of the upload API (docs/api.md), one request each, typed both ways:
// every response is validated with the shared zod schemas, every failure becomes a SluiceApiError.
// No retries here: `uploadFile` owns the retry policy, and a caller making single calls decides
// for itself. Isomorphic: global fetch only, no node: imports.
import type { ZodType } from 'zod';
import { clientErrorCodes, parseRetryAfterSeconds, SluiceApiError } from './errors.js';
import {
  createResponseSchema,
  errorResponseSchema,
  jobResponseSchema,
  limitsResponseSchema,
  partsResponseSchema,
  type AbortRequest,
  type CompleteRequest,
  type CreateRequest,
  type CreateResponse,
  type JobResponse,
  type LimitsResponse,
  type PartsRequest,
  type PartsResponse,
  type RetryRequest,
  type StatusRequest,
} from './schemas.js';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /**
   * The web functions base, `<api host>/api/v1/web/<namespace>` (the client appends
   * `/presign/<fn>`); a base that already ends in `/presign` is accepted as is.
   */
  apiBase: string;
  /** Sent as `Authorization: Bearer <key>` when the server requires keys (API_KEYS). */
  apiKey?: string;
  /** Used for every request, API calls and object PUTs alike (tests wrap it to count or fail requests). */
  fetch?: FetchLike;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export type ApiFunctionName = 'create' | 'parts' | 'complete' | 'abort' | 'status' | 'retry' | 'limits';

export interface SluiceClient {
  readonly apiBase: string;
  readonly fetch: FetchLike;
  /** The URL of one function, e.g. for a raw request in a test. */
  url(fn: ApiFunctionName): string;
  create(request: CreateRequest, options?: CallOptions): Promise<CreateResponse>;
  parts(request: PartsRequest, options?: CallOptions): Promise<PartsResponse>;
  complete(request: CompleteRequest, options?: CallOptions): Promise<JobResponse>;
  abort(request: AbortRequest, options?: CallOptions): Promise<JobResponse>;
  status(request: StatusRequest, options?: CallOptions): Promise<JobResponse>;
  /** A failed job processed again, with a fresh attempt budget; JOB_NOT_RETRYABLE (409) for any other status. */
  retry(request: RetryRequest, options?: CallOptions): Promise<JobResponse>;
  /** The server's upload limits, for checks before `create` (which enforces them anyway). */
  limits(options?: CallOptions): Promise<LimitsResponse>;
}

/** Longest server text quoted in an error message when the body is not the API's error format. */
const maxQuotedBodyChars = 200;

export function createClient(options: ClientOptions): SluiceClient {
  const trimmedBase = options.apiBase.replace(/\/+$/, '');
  const presignBase = trimmedBase.endsWith('/presign') ? trimmedBase : `${trimmedBase}/presign`;
  // Bound so a browser's window.fetch is not called with the client as `this` ("Illegal invocation").
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const url = (fn: ApiFunctionName): string => `${presignBase}/${fn}`;

  async function call<T>(fn: ApiFunctionName, body: unknown, schema: ZodType<T>, callOptions: CallOptions | undefined): Promise<T> {
    const signal = callOptions?.signal;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (options.apiKey !== undefined && options.apiKey !== '') headers.authorization = `Bearer ${options.apiKey}`;
    // POST for `status` too (the API accepts GET or POST): the token stays out of URLs and access logs.
    const init: RequestInit = { method: 'POST', headers, body: JSON.stringify(body) };
    if (signal !== undefined) init.signal = signal;
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url(fn), init);
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new SluiceApiError({
        status: 0,
        code: clientErrorCodes.network,
        message: `presign/${fn}: no response (${describe(error)})`,
        cause: error,
      });
    }
    const json = parseJson(text);
    if (!response.ok) throw errorFromResponse(fn, response, json, text);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new SluiceApiError({
        status: response.status,
        code: clientErrorCodes.invalidResponse,
        message: `presign/${fn}: unexpected response (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
      });
    }
    return parsed.data;
  }

  return {
    apiBase: trimmedBase,
    fetch: fetchImpl,
    url,
    // Only the fields of each call are sent: the server refuses unknown keys (a misspelt field is a
    // 400 there), and TypeScript lets a caller pass a wider object, such as create's whole answer.
    create: ({ filename, size, contentType, sha256 }, o) =>
      call('create', { filename, size, contentType, ...(sha256 === undefined ? {} : { sha256 }) }, createResponseSchema, o),
    parts: ({ jobId, token, partNumbers }, o) => call('parts', { jobId, token, partNumbers }, partsResponseSchema, o),
    complete: ({ jobId, token, parts }, o) =>
      call('complete', { jobId, token, ...(parts === undefined ? {} : { parts: parts.map(({ partNumber, etag }) => ({ partNumber, etag })) }) }, jobResponseSchema, o),
    abort: ({ jobId, token }, o) => call('abort', { jobId, token }, jobResponseSchema, o),
    status: ({ jobId, token }, o) => call('status', { jobId, token }, jobResponseSchema, o),
    retry: ({ jobId, token }, o) => call('retry', { jobId, token }, jobResponseSchema, o),
    limits: (o) => call('limits', {}, limitsResponseSchema, o),
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorFromResponse(fn: ApiFunctionName, response: Response, json: unknown, text: string): SluiceApiError {
  const retryAfterSeconds = parseRetryAfterSeconds(response.headers.get('retry-after'));
  const parsed = errorResponseSchema.safeParse(json);
  const fields = parsed.success
    ? {
        code: parsed.data.error.code,
        message: parsed.data.error.message,
        ...(parsed.data.error.requestId === undefined ? {} : { requestId: parsed.data.error.requestId }),
        ...(parsed.data.error.details === undefined ? {} : { details: parsed.data.error.details }),
      }
    : // Not our format: the platform answered before the function ran (unparsable body, reserved
      // parameter, invocation limit, gateway error), often as OpenWhisk's `{error: "…", code}`.
      { code: `HTTP_${response.status}`, message: `presign/${fn}: HTTP ${response.status} ${platformMessage(json) ?? text.slice(0, maxQuotedBodyChars)}`.trim() };
  return new SluiceApiError({
    status: response.status,
    ...fields,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });
}

function platformMessage(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined;
  return typeof json.error === 'string' ? json.error : undefined;
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
