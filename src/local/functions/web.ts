// The request and response conventions of web functions (docs/platform-facts.md "Web functions";
// apache/openwhisk docs/webactions.md and controller/WebActions.scala; DigitalOcean "Parameters
// and Responses", "HTTP Headers", "How to Set Custom CORS Headers").
import type { IncomingHttpHeaders } from 'node:http';
import type { FunctionSpec } from '../project.js';

/** The reserved context parameters a request may not set itself. */
const reservedParameters = ['__ow_method', '__ow_headers', '__ow_path', '__ow_user', '__ow_query', '__ow_body'];

/** Added to every response of a function without `web-custom-options` (OpenWhisk CorsSettings). */
const defaultCorsHeaders = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH',
  'access-control-allow-headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
};

export interface WebRequest {
  method: string;
  /** The part of the URL path after `/<package>/<function>`, '' or starting with '/'. */
  subPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  clientAddress: string;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export class WebRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function delegatesCors(fn: FunctionSpec): boolean {
  return fn.annotations['web-custom-options'] !== true;
}

/** Headers as the function sees them: lower-case names, one string each (DO "HTTP Headers"). */
export function functionHeaders(request: WebRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  // DigitalOcean traffic passes through Cloudflare, which appends the address it saw to any
  // X-Forwarded-For the client sent (Cloudflare docs: HTTP request headers): the right-most entry
  // is the platform's, the rest is the client's own writing.
  const forwarded = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwarded ? `${forwarded}, ${request.clientAddress}` : request.clientAddress;
  headers['x-forwarded-proto'] ??= 'http';
  return headers;
}

function mediaType(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function isTextual(type: string): boolean {
  return type === '' || type.startsWith('text/') || type.endsWith('+xml') || type === 'application/xml' || type === 'application/javascript';
}

/** The body as DigitalOcean's `http.body` carries it: text as is, anything binary base64-encoded. */
function bodyForFunction(request: WebRequest): { body: string; isBase64Encoded: boolean } {
  const type = mediaType(request.headers);
  if (isTextual(type) || type === 'application/json' || type === 'application/x-www-form-urlencoded') {
    return { body: request.body.toString('utf8'), isBase64Encoded: false };
  }
  return { body: request.body.toString('base64'), isBase64Encoded: true };
}

/**
 * Builds a web function's params: the function's own parameters, then the query, then the body's
 * fields (last wins), plus the `__ow_*` context and DigitalOcean's `http` object. A request that
 * names a reserved `__ow_*` key or one of the function's (final) parameters is rejected with 400,
 * as OpenWhisk does.
 */
export function webParams(fn: FunctionSpec, request: WebRequest): Record<string, unknown> {
  const headers = functionHeaders(request);
  const { body, isBase64Encoded } = bodyForFunction(request);
  const queryString = request.query.toString();
  const http = { method: request.method.toUpperCase(), path: request.subPath, headers, body, isBase64Encoded, queryString };
  const context = { __ow_method: request.method.toLowerCase(), __ow_headers: headers, __ow_path: request.subPath };

  if (fn.web === 'raw') {
    return { ...fn.parameters, ...context, __ow_query: queryString, __ow_body: body, http };
  }

  const query = Object.fromEntries(request.query.entries());
  const bodyFields = parseBodyFields(request);
  const requested = [...Object.keys(query), ...Object.keys(bodyFields.fields)];
  const forbidden = new Set([...reservedParameters, ...Object.keys(fn.parameters)]);
  if (requested.some((key) => forbidden.has(key))) {
    throw new WebRequestError(400, 'Request defines parameters that are not allowed (e.g., reserved properties).');
  }
  return { ...fn.parameters, ...query, ...bodyFields.fields, ...bodyFields.opaque, ...context, http };
}

/** JSON objects and forms are merged into the params; any other body arrives as `__ow_body`. */
function parseBodyFields(request: WebRequest): { fields: Record<string, unknown>; opaque: Record<string, unknown> } {
  if (request.body.length === 0) return { fields: {}, opaque: {} };
  const type = mediaType(request.headers);
  if (type === 'application/json') {
    let value: unknown;
    try {
      value = JSON.parse(request.body.toString('utf8')) as unknown;
    } catch {
      throw new WebRequestError(400, 'The request content was malformed.');
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { fields: value as Record<string, unknown>, opaque: {} };
    return { fields: {}, opaque: { __ow_body: value } };
  }
  if (type === 'application/x-www-form-urlencoded') {
    return { fields: Object.fromEntries(new URLSearchParams(request.body.toString('utf8')).entries()), opaque: {} };
  }
  return { fields: {}, opaque: { __ow_body: bodyForFunction(request).body } };
}

/** The platform's answer to OPTIONS for a function that does not handle CORS itself. */
export function defaultOptionsReply(request: WebRequest): HttpReply {
  return { status: 200, headers: corsHeaders(request), body: Buffer.alloc(0) };
}

export function corsHeaders(request: WebRequest): Record<string, string> {
  const asked = request.headers['access-control-request-headers'];
  return asked === undefined ? { ...defaultCorsHeaders } : { ...defaultCorsHeaders, 'access-control-allow-headers': String(asked) };
}

function jsonReply(status: number, value: unknown, headers: Record<string, string | string[]> = {}): HttpReply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(value)) };
}

export function errorReply(status: number, message: string, code: string): HttpReply {
  return jsonReply(status, { error: message, code });
}

/**
 * Turns a function's result into the HTTP response (WebActions.scala `resultAsHttp`): `statusCode`
 * (number or numeric string), `headers`, `body`. A missing or empty body gives 204 unless a status
 * is set; a string body is sent as is (text/html unless `content-type` says otherwise; base64
 * decoded for binary types); any other body is JSON. A result that is not a valid HTTP response
 * answers 400.
 */
export function resultToReply(result: unknown, transactionId: string): HttpReply {
  const invalid = errorReply(400, 'Response is not valid \'message/http\'.', transactionId);
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return invalid;
  const fields = result as Record<string, unknown>;

  const headers: Record<string, string | string[]> = {};
  if (fields.headers !== undefined) {
    if (typeof fields.headers !== 'object' || fields.headers === null || Array.isArray(fields.headers)) return invalid;
    for (const [name, value] of Object.entries(fields.headers as Record<string, unknown>)) {
      const values = (Array.isArray(value) ? value : [value]).map((entry) =>
        typeof entry === 'string' || typeof entry === 'number' || typeof entry === 'boolean' ? String(entry) : undefined,
      );
      if (values.some((entry) => entry === undefined)) return invalid;
      headers[name.toLowerCase()] = values.length === 1 ? (values[0] as string) : (values as string[]);
    }
  }

  let status: number | undefined;
  if (fields.statusCode !== undefined) {
    const code = typeof fields.statusCode === 'string' ? Number(fields.statusCode) : fields.statusCode;
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599) return invalid;
    status = code;
  }

  const body = fields.body;
  const contentType = typeof headers['content-type'] === 'string' ? headers['content-type'] : undefined;
  delete headers['content-type'];
  if (body === undefined || body === null || body === '') {
    return { status: status ?? 204, headers, body: Buffer.alloc(0) };
  }
  if (typeof body === 'string') {
    const type = contentType ?? 'text/html';
    const media = type.split(';')[0]?.trim().toLowerCase() ?? '';
    const binary = !isTextual(media) && media !== 'application/json' && !media.endsWith('+json');
    return { status: status ?? 200, headers: { ...headers, 'content-type': type }, body: Buffer.from(body, binary ? 'base64' : 'utf8') };
  }
  return jsonReply(status ?? 200, body, contentType && contentType.toLowerCase().includes('json') ? { ...headers, 'content-type': contentType } : headers);
}
