// Turns the web-function params the platform passes into one typed request. Two shapes exist and
// both are read (docs/platform-facts.md "Web functions"): OpenWhisk's `__ow_method` / `__ow_headers` /
// `__ow_path` with the JSON body and query fields merged into the params, and DigitalOcean's `http`
// object (`method`, `path`, `headers`, `body`, `isBase64Encoded`, `queryString`). Raw web functions
// (`web: raw`) get `__ow_body` / `__ow_query` strings instead of merged fields; those are parsed
// too, so the same handler works either way.
import { ApiError } from '../errors.js';

export type HttpMethod = 'get' | 'post' | 'options' | 'put' | 'delete' | 'patch' | 'head';

export interface WebRequest {
  method: HttpMethod;
  /** Header names in lower case. */
  headers: Record<string, string>;
  path: string;
  /** The request's own fields: body and query, with everything the platform adds removed. */
  fields: Record<string, unknown>;
}

const methods = new Set<string>(['get', 'post', 'options', 'put', 'delete', 'patch', 'head']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringValues(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (!isRecord(value)) return result;
  for (const [name, raw] of Object.entries(value)) {
    if (typeof raw === 'string') result[name.toLowerCase()] = raw;
    else if (Array.isArray(raw)) result[name.toLowerCase()] = raw.filter((item) => typeof item === 'string').join(', ');
  }
  return result;
}

/** Platform-owned keys: never part of the body a client sent. */
function isPlatformKey(key: string): boolean {
  return key.startsWith('__ow_') || key === 'http';
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** `encoding: 'auto'` is for `__ow_body`, which is plain text for JSON locally and may be base64 on the platform. */
function parseBodyText(text: string, encoding: 'plain' | 'base64' | 'auto'): Record<string, unknown> {
  if (text.trim() === '') return {};
  let result = encoding === 'base64' ? { ok: false as const } : tryJson(text);
  if (!result.ok && encoding !== 'plain') result = tryJson(Buffer.from(text, 'base64').toString('utf8'));
  if (!result.ok) throw new ApiError('VALIDATION_FAILED', 'The request body is not valid JSON.');
  const parsed = result.value;
  if (!isRecord(parsed)) throw new ApiError('VALIDATION_FAILED', 'The request body must be a JSON object.');
  return parsed;
}

/** A Content-Type quoted back in a refusal is cut here: a hostile header must not make a long answer. */
const maxQuotedContentTypeChars = 100;

/**
 * POST bodies must be declared `application/json` (parameters allowed; a charset, if given, must be
 * UTF-8, the only encoding JSON has: RFC 8259 §8.1). `text/plain`, form encodings and a missing
 * Content-Type make a CORS "simple" request, which a browser sends cross-origin without a preflight
 * (Fetch standard, "CORS-safelisted request-header"): any web page could make its visitors' browsers
 * create jobs. A JSON Content-Type needs the preflight, which only ALLOWED_ORIGINS pass. Checked for
 * bodiless POSTs too, whose fields would come from the query string.
 */
function requireJsonBody(headers: Record<string, string>): void {
  const declared = headers['content-type']?.trim() ?? '';
  const [essence = '', ...parameters] = declared.split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/^"(.*)"$/, '$1');
  if (essence === 'application/json' && (charset === undefined || charset === 'utf-8' || charset === 'utf8')) return;
  const quoted = declared.length > maxQuotedContentTypeChars ? `${declared.slice(0, maxQuotedContentTypeChars)}…` : declared;
  throw new ApiError(
    'UNSUPPORTED_MEDIA_TYPE',
    declared === '' ? 'Send the body as JSON with Content-Type: application/json.' : `Send the body as JSON with Content-Type: application/json, not "${quoted}".`,
  );
}

/** Headers alone, never throwing: CORS headers must go on every answer, error answers included. */
export function headersOf(params: unknown): Record<string, string> {
  const all = isRecord(params) ? params : {};
  const http = isRecord(all.http) ? all.http : {};
  return { ...stringValues(http.headers), ...stringValues(all.__ow_headers) };
}

export function parseWebParams(params: unknown): WebRequest {
  const all = isRecord(params) ? params : {};
  const http = isRecord(all.http) ? all.http : {};

  const rawMethod = typeof all.__ow_method === 'string' ? all.__ow_method : typeof http.method === 'string' ? http.method : 'get';
  const method = rawMethod.toLowerCase();
  if (!methods.has(method)) throw new ApiError('METHOD_NOT_ALLOWED', `Method ${method.toUpperCase()} is not supported.`);
  const headers = headersOf(params);
  // Before the body is read: a body of another type is refused as such, not as bad JSON.
  if (method === 'post') requireJsonBody(headers);
  const path = typeof all.__ow_path === 'string' ? all.__ow_path : typeof http.path === 'string' ? http.path : '';

  // Query first, then merged fields, then a body string: the body wins, as on the platform.
  // Collected as entries and built with Object.fromEntries, which defines own properties: a
  // `__proto__` key stays an (unknown, refused) field instead of becoming the object's prototype.
  const entries: [string, unknown][] = [];
  const rawQuery = typeof all.__ow_query === 'string' ? all.__ow_query : typeof http.queryString === 'string' ? http.queryString : '';
  entries.push(...new URLSearchParams(rawQuery));
  const merged = Object.entries(all).filter(([key]) => !isPlatformKey(key));
  entries.push(...merged);
  if (typeof all.__ow_body === 'string') {
    // Raw functions, and non-raw ones given a body that is not a JSON object or form.
    entries.push(...Object.entries(parseBodyText(all.__ow_body, 'auto')));
  } else if (all.__ow_body !== undefined) {
    // Non-raw: a JSON array or scalar body arrives parsed as `__ow_body`.
    throw new ApiError('VALIDATION_FAILED', 'The request body must be a JSON object.');
  } else if (merged.length === 0 && typeof all.__ow_method !== 'string') {
    // Only DigitalOcean's `http` object: its body is the request's.
    if (typeof http.body === 'string') entries.push(...Object.entries(parseBodyText(http.body, http.isBase64Encoded === true ? 'base64' : 'plain')));
    else if (isRecord(http.body)) entries.push(...Object.entries(http.body));
  }
  const fields = Object.fromEntries(entries);
  return { method: method as HttpMethod, headers, path, fields };
}
