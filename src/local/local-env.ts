// What the local platform assumes when nothing is configured: ports, namespace and the values of
// project.yml's variables for `npm run dev`.

/** The namespace local web functions live under: `/api/v1/web/<namespace>/<package>/<fn>`. */
export const localNamespace = 'sluice-local';

/** Ports `npm run dev` uses unless told otherwise; tests pass 0 everywhere (a free port each). */
export const devPorts = { web: 3000, functions: 3001, spaces: 3002, postgres: 5433 } as const;

const mebibyte = 1024 * 1024;
const gibibyte = 1024 * mebibyte;

/**
 * Values for project.yml's `${VAR}`s when running locally, so `npm run dev` needs no setup: the
 * page and curl can upload at once (anonymous uploads on, generous limits). `.env` and the shell
 * override them; deployed defaults are strict (see .env.example).
 */
export const localDefaults: Record<string, string> = {
  DATABASE_CA_CERT: '',
  SPACES_BUCKET: 'sluice-local',
  API_KEYS: '',
  ALLOW_ANONYMOUS_UPLOADS: 'true',
  MAX_UPLOAD_BYTES: String(5 * gibibyte),
  ALLOWED_CONTENT_TYPES: '*/*',
  MULTIPART_THRESHOLD_BYTES: String(64 * mebibyte),
  UPLOADS_PER_HOUR: '10000',
  BYTES_PER_DAY: String(1024 * gibibyte),
  MAX_CONCURRENT_JOBS: '20',
  // Empty: the defaults of src/config.ts (60 s lease, 15 s heartbeat, 10 s first retry delay).
  LEASE_SECONDS: '',
  HEARTBEAT_SECONDS: '',
  RETRY_BASE_DELAY_SECONDS: '',
};
