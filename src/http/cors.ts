// CORS answered by the functions themselves: with the `web-custom-options: true` annotation the
// platform passes OPTIONS through and adds no CORS headers (docs/platform-facts.md "Web functions"). Only
// origins in ALLOWED_ORIGINS get Access-Control-* headers; every answer carries `Vary: Origin`
// because it depends on the Origin header, so caches must not share it across origins.
import { corsMaxAgeSeconds, type CorsConfig } from '../config.js';

/** Request headers a browser may send: the API key and the JSON body's type. */
const allowedRequestHeaders = 'Authorization, Content-Type';
/** Response headers page scripts must be able to read (backoff and support). */
const exposedResponseHeaders = 'Retry-After, X-Request-Id';

export function isOriginAllowed(origin: string | undefined, config: CorsConfig): origin is string {
  if (origin === undefined || origin === '') return false;
  return config.allowedOrigins.includes('*') || config.allowedOrigins.includes(origin.toLowerCase());
}

/** Headers for an actual (non-preflight) response. */
export function corsHeaders(origin: string | undefined, config: CorsConfig | undefined): Record<string, string> {
  const headers: Record<string, string> = { Vary: 'Origin' };
  if (config && isOriginAllowed(origin, config)) {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Access-Control-Expose-Headers'] = exposedResponseHeaders;
  }
  return headers;
}

/** Headers for a preflight answer; without the Allow-* headers the browser refuses the real request. */
export function preflightHeaders(origin: string | undefined, config: CorsConfig | undefined, methods: readonly string[]): Record<string, string> {
  const headers = corsHeaders(origin, config);
  if (headers['Access-Control-Allow-Origin'] !== undefined) {
    headers['Access-Control-Allow-Methods'] = [...methods.map((method) => method.toUpperCase()), 'OPTIONS'].join(', ');
    headers['Access-Control-Allow-Headers'] = allowedRequestHeaders;
    headers['Access-Control-Max-Age'] = String(corsMaxAgeSeconds);
  }
  return headers;
}
