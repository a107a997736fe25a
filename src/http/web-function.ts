// The web-function adapter: every `presign/*` handler is `webFunction({...})`. It reads both param
// shapes (./request.ts), answers CORS and preflight itself (./cors.ts), validates the fields with
// the handler's zod schema, and maps every error through the one catalogue (../errors.ts).
//
// It never throws: a thrown error in the Node runtime discards the warm container
// (PLATFORM-FACTS "Web functions"), so anything unexpected becomes a 500 INTERNAL answer whose
// request id (the activation id when there is one) is in the log.
import { randomUUID } from 'node:crypto';
import type * as z from 'zod';
import { activationContext, corsConfig, type CorsConfig } from '../config.js';
import { ApiError, toErrorResponse } from '../errors.js';
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
    const requestId = activationContext().activationId ?? randomUUID();
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
      const reply = await spec.handle(input, request);
      await spec.afterReply?.();
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
