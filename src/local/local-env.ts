// What the local platform assumes when nothing is configured: ports, namespace and the values of
// project.yml's variables for `npm run dev`.
import { loadProcessingConfig } from '../config.js';

/** The namespace local web functions live under: `/api/v1/web/<namespace>/<package>/<fn>`. */
export const localNamespace = 'sluice-local';

/** Ports `npm run dev` uses unless told otherwise; tests pass 0 everywhere (a free port each). */
export const devPorts = { web: 3000, functions: 3001, spaces: 3002, postgres: 5433 } as const;

const mebibyte = 1024 * 1024;
const gibibyte = 1024 * mebibyte;

/**
 * The settings `npm run dev` deploys with unless `.env` or the shell say otherwise, so it needs no
 * setup: the page and curl can upload at once (anonymous uploads on, generous limits). The local
 * platform adds what its services decide (database, Spaces, origins, the access key). Every value
 * is non-empty, because a deploy refuses an empty `${VAR}` and so does the local platform; settings
 * not listed here take their defaults from src/config.ts, as in a deployment. ALLOWED_CONTENT_TYPES
 * is one of those on purpose: a file a deployment refuses (415 at create, `rejected` after the
 * bytes are sniffed) is refused locally too, where it can be seen before deploying.
 */
export const localDefaults: Record<string, string> = {
  // For a DATABASE_URL of your own without TLS (noCaCert in src/config.ts); the local Postgres brings its CA.
  DATABASE_CA_CERT: 'none',
  SPACES_BUCKET: 'sluice-local',
  ALLOW_ANONYMOUS_UPLOADS: 'true',
  MAX_UPLOAD_BYTES: String(5 * gibibyte),
  MULTIPART_THRESHOLD_BYTES: String(64 * mebibyte),
  UPLOADS_PER_HOUR: '10000',
  BYTES_PER_DAY: String(1024 * gibibyte),
  MAX_CONCURRENT_JOBS: '20',
};

/** How to widen the accepted types locally: `npm run dev` prints it at start. */
export const allowEverythingHint = 'ALLOWED_CONTENT_TYPES=*/* in .env allows everything';

/** The types the local functions accept, for the line `npm run dev` prints at start. */
export function describeAllowedTypes(env: Record<string, string | undefined>): string {
  const allowed = loadProcessingConfig(env).allowedContentTypes;
  if (allowed.includes('*/*')) return '*/* (ALLOWED_CONTENT_TYPES)';
  const source = env.ALLOWED_CONTENT_TYPES?.trim() ? 'ALLOWED_CONTENT_TYPES' : 'the deployment default';
  return `${allowed.join(', ')} (${source}; ${allowEverythingHint})`;
}
