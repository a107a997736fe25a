// The web-function adapter: every `presign/*` handler is `webFunction({...})`. It reads both param
// shapes (./request.ts), answers CORS and preflight itself (./cors.ts), validates the fields with
// the handler's zod schema, and maps every error through the one catalogue (../errors.ts).
//
// It never throws: a thrown error in the Node runtime discards the warm container
// (docs/platform-facts.md "Web functions"), so anything unexpected becomes a 500 INTERNAL answer
// whose request id (the activation id when there is one) is in the log.
//
// It always answers before the function's time limit: at its limit the platform kills the
// activation and answers 400 "There was an error processing your request." itself, which no client
// retries. Each query and storage call has its own, shorter timeout; this is the bound on all of
// them together, a 503 SERVICE_UNAVAILABLE with Retry-After `webAnswerMarginMs` before the deadline.
import { randomUUID } from 'node:crypto';
import type * as z from 'zod';
import { activationContext, corsConfig, webAnswerBudgetMsDefault, webAnswerMarginMs, type CorsConfig } from '../config.js';
import { ApiError, serviceUnavailable, toErrorResponse } from '../errors.js';
import { corsHeaders, preflightHeaders } from './cors.js';
import { headersOf, parseWebParams, type HttpMethod, type WebRequest } from './request.js';
import { parseFields } from './validation.js';

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** What a web function returns to the platform: an object body is sent as JSON. */
export interface WebResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface WebFunctionSpec<T> {
  /** Methods the function answers (OPTIONS is always answered for CORS). */
  methods: readonly HttpMethod[];
  /**
   * Runs before the fields are validated, so a caller without credentials learns nothing about
   * the request format (401 before 400). Throws an ApiError to refuse.
   */
  authorize?(request: WebRequest): void;
  /** The request's fields (body and query, platform keys removed): validated before `handle` runs. */
  fields: z.ZodType<T>;
  handle(input: T, request: WebRequest): Promise<Reply>;
  /**
   * Runs after a request was handled, before the function returns: once an activation returns its
   * container is frozen, so work left pending would not run. Must not throw (e.g. starting a sweep,
   * src/jobs/sweep-trigger.ts).
   */
  afterReply?(): Promise<unknown>;
}

export function webFunction<T>(spec: WebFunctionSpec<T>): (params: unknown) => Promise<WebResponse> {
  return async (params: unknown) => {
    const activation = activationContext();
    const answerByMs = answerDeadlineMs(activation.deadlineMs, Date.now());
    const requestId = activation.activationId ?? randomUUID();
    const origin = headersOf(params).origin;
    let cors: CorsConfig | undefined;
    try {
      cors = corsConfig();
      const request = parseWebParams(params);
      if (request.method === 'options') {
        return { statusCode: 204, headers: { ...preflightHeaders(origin, cors, spec.methods), 'X-Request-Id': requestId }, body: '' };
      }
      if (!spec.methods.includes(request.method)) {
        throw new ApiError('METHOD_NOT_ALLOWED', `Use ${spec.methods.map((method) => method.toUpperCase()).join(' or ')}.`, {
          headers: { Allow: [...spec.methods, 'options'].map((method) => method.toUpperCase()).join(', ') },
        });
      }
      spec.authorize?.(request);
      const input = parseFields(spec.fields, request.fields);
      const reply = await before(answerByMs, spec.handle(input, request));
      // Best effort by contract (a sweep start): past the deadline the reply goes out without it.
      await before(answerByMs, Promise.resolve(spec.afterReply?.())).catch(() => undefined);
      return {
        statusCode: reply.status,
        headers: { 'Content-Type': 'application/json', ...reply.headers, ...corsHeaders(origin, cors), 'X-Request-Id': requestId },
        body: reply.body,
      };
    } catch (error) {
      const answer = toErrorResponse(error, requestId);
      return {
        statusCode: answer.status,
        headers: { 'Content-Type': 'application/json', ...answer.headers, ...corsHeaders(origin, cors), 'X-Request-Id': requestId },
        body: answer.body,
      };
    }
  };
}

/** `webAnswerMarginMs` before the runtime's deadline, but never less than half the time left (a function with a short limit still gets to work). */
function answerDeadlineMs(deadlineMs: number | undefined, nowMs: number): number {
  if (deadlineMs === undefined) return nowMs + webAnswerBudgetMsDefault;
  return Math.max(deadlineMs - webAnswerMarginMs, nowMs + (deadlineMs - nowMs) / 2);
}

/**
 * `work`, or SERVICE_UNAVAILABLE once `answerByMs` has passed. The work is not stopped (nothing in
 * it takes a signal); it ends on its own timeouts, and whatever it still writes is idempotent like
 * every write in Sluice, so the client's retry is safe.
 */
function before<R>(answerByMs: number, work: Promise<R>): Promise<R> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(serviceUnavailable('deadline')), Math.max(0, answerByMs - Date.now()));
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
