// The one place configuration is read. Every variable comes from the function's environment
// (project.yml `environment:` → process.env in the deployed runtime and in the local platform) and
// is validated here with zod, once, with a message that names the variable. Everything after this
// module trusts the types.
//
// Configuration is split into sections read on first use, because the two packages need different
// settings (project.yml): `process/*` never reads API_KEYS or ALLOWED_ORIGINS and must not fail for
// them.
//
// How values reach a deployed function (project.yml): the settings a person must decide
// (`requiredSettings`) are named one by one as "${VAR}", and the deployer refuses to deploy when
// any of them is missing *or empty* (functions-deployer src/util.ts substituteFromEnvAndFiles:
// `if (!subst)` → "The following substitutions could not be resolved"). Every other setting is
// optional, with its default here, and reaches the functions only if a line in `.env` sets it
// (project.yml's top-level `environment: ${<.env}`). An empty optional value means the default.
import * as z from 'zod';

type Env = Record<string, string | undefined>;

// ---- Defaults and fixed limits (units in the names, reasons beside them) ----------------------

/** A presigned single PUT is checked when the request starts, so minutes are enough even for a slow upload; short limits the damage of a leaked URL. */
export const singlePutUrlExpirySeconds = 15 * 60;
/** Part URLs are signed just in time (`presign/parts`), so they can be as short-lived as the single PUT. */
export const partUrlExpirySeconds = 15 * 60;
/** How long a job waits for its bytes before the sweep expires it: a multi-GB upload over a slow line can take hours, and resuming after a reload must stay possible. */
export const uploadWindowSeconds = 24 * 60 * 60;
/** Spaces' minimum part is 5 MiB (docs/platform-facts.md "Spaces"); 8 MiB keeps the request count down and matches common S3 clients. */
export const minPartSizeBytes = 8 * 1024 * 1024;
/** Spaces' maximum part size (docs/platform-facts.md "Spaces"). */
export const maxPartSizeBytes = 5 * 1024 * 1024 * 1024;
/** S3/Spaces allow at most 10,000 parts per multipart upload. */
export const maxPartCount = 10_000;
/** `presign/parts` signs at most this many URLs a call: enough for a wide parallel window, small enough to stay far below the 1 MB result limit. */
export const maxPartNumbersPerCall = 100;
/** Below this a failed single PUT is cheap to redo; above it resumable parts pay for their extra requests. */
export const multipartThresholdBytesDefault = 64 * 1024 * 1024;
/** 5 GiB: the largest single PUT Spaces accepts, and comfortably streamed within one 15-minute activation. */
export const maxUploadBytesDefault = 5 * 1024 * 1024 * 1024;
/** Per client (API key, else IP): enough for a busy user, small enough to stop a script flooding the bucket. */
export const uploadsPerHourDefault = 100;
/** Per client and UTC day. */
export const bytesPerDayDefault = 20 * 1024 * 1024 * 1024;
/**
 * Where an anonymous client's address is read (CLIENT_ADDRESS_SOURCE): the right-most
 * X-Forwarded-For entry. DigitalOcean web traffic passes through Cloudflare, which appends the
 * address it saw to whatever X-Forwarded-For the client sent (DigitalOcean docs: HTTP headers;
 * Cloudflare docs: HTTP request headers), so every entry left of that one was written by the
 * client: keying on it let a client rotate past its limits or spend a victim's allowance.
 */
export const clientAddressSourceDefault = 'x-forwarded-for:1';
/** One IPv6 client (a home line, a VM) usually holds a whole /64, so it is counted as one: otherwise it could rotate through 2^64 addresses. */
export const ipv6ClientPrefixBits = 64;
/** The types the analyzers understand, plus opaque binary; deployments widen it deliberately. */
export const allowedContentTypesDefault = [
  'text/csv',
  'text/tab-separated-values',
  'text/plain',
  'application/json',
  'application/x-ndjson',
  'application/ndjson',
  'image/*',
  'application/octet-stream',
];
/** 256 bits: a job token is the only capability for its job, so it must not be guessable. */
export const jobTokenBytes = 32;
/** Most filesystems and S3 tools handle names up to 255 bytes; the object key adds only `uploads/<uuid>/`. */
export const maxFilenameBytes = 255;
/** A raw filename longer than this is not a name but an attack or a bug: rejected rather than truncated. */
export const maxRawFilenameBytes = 1024;
/** A status call's signed GET URL for the stored file (`downloadUrl`): long enough to click or preview, short enough that a copied link soon stops working. */
export const downloadUrlExpirySeconds = 5 * 60;
/**
 * Download URLs are signed as of the start of the current window of this length, so polls within
 * it get the very same URL (the browser reuses its cached preview instead of fetching the image
 * again every second); each URL is therefore valid for at least `downloadUrlExpirySeconds` minus this.
 */
export const downloadUrlReuseSeconds = 60;
/** A processing activation's lease: a dead activation is noticed within about a minute (docs/architecture.md "Job state machine"). LEASE_SECONDS overrides it (tests use a few seconds). */
export const leaseSecondsDefault = 60;
/** Heartbeats come four times per lease, so one or two slow database round trips never lose it. HEARTBEAT_SECONDS overrides it. */
export const heartbeatSecondsDefault = 15;
/** Attempts before a job fails for good; retries are spaced by backoff, so 5 covers a few minutes of trouble. */
export const maxAttemptsDefault = 5;
/** First retry delay; doubles per attempt (with jitter) up to `retryMaxDelaySeconds`. RETRY_BASE_DELAY_SECONDS overrides it. */
export const retryBaseDelaySecondsDefault = 10;
export const retryMaxDelaySeconds = 10 * 60;
/**
 * process/file stops this share of its time before `__OW_DEADLINE` and releases the job, rather
 * than being SIGKILLed mid-write at the timeout (docs/platform-facts.md "Functions limits": the timeout
 * includes initialization). Bounded below so a short test timeout still leaves time for the
 * release write, and above because the release is one database statement.
 */
export const deadlineMarginFraction = 0.1;
export const minDeadlineMarginMs = 1_000;
export const maxDeadlineMarginMs = 30_000;
/** Jobs one dispatch pick reserves before invoking them: few, so an activation killed mid-way leaves few reservations to lapse (redispatchAfterSeconds). */
export const dispatchBatchSize = 10;
/** Lapsed leases one process/file activation requeues per handoff or heartbeat: finding one is the exception, and the sweep takes a pile of them 50 at a time. */
export const leaseRescueBatchSize = 10;
/**
 * The longest one process/file activation stands by after its attempt to start what becomes
 * startable soon (src/jobs/handoff.ts). A little over the platform's one-minute invocation window
 * (600 a minute, docs/platform-facts.md "Functions limits"), so a namespace that answered 429 is
 * resumed as the window reopens; a retry due later than this is left to the next handoff or sweep.
 */
export const standbyMaxSeconds = 75;
/** A standing-by activation looks again at least this often, so a retry scheduled meanwhile by another activation still starts within a few seconds of its run_after. */
export const standbyPollMs = 2_000;
/** After a 429 the standby invokes again after these delays (the last one repeated): the platform says neither which limit was hit nor when it resets. */
export const throttledRetryDelaysMs: readonly number[] = [1_000, 2_000, 4_000, 5_000];
/** Between tries of an attempt's final write while the database is unavailable (the last one repeated, up to a lease in all). */
export const finalWriteRetryDelaysMs: readonly number[] = [250, 500, 1_000, 2_000, 4_000];
/** A handoff still running this long after its standby should have ended is abandoned: an unanswering database or Functions API must not hold the activation to its timeout. */
export const handoffSlackMs = 15_000;
/** The sweep runs every minute (project.yml trigger); activity starts one when the last is older than this. */
export const sweepIntervalSeconds = 60;
/** The sweep's row lease outlives process/sweep's 60 s timeout, so a killed sweep blocks at most one more run. */
export const sweepLeaseSeconds = 90;
/** Rows each phase of one sweep handles (expired leases, uploads, dispatches): bounded work per run; the next run continues. */
export const sweepBatchSize = 50;
/**
 * A queued job reserved for dispatch this long ago without being claimed is dispatched again: the
 * invoke was lost, or its activation died before it claimed (src/db/dispatch.ts). Until then the
 * reservation holds a slot, so this is also how long such a loss idles one. An activation claims
 * within a second or two of its invoke, cold start included (8.5 s at worst measured, on a 2-core
 * machine under a load of 20); a late one that finds the job taken again is a no-op.
 */
export const redispatchAfterSeconds = 15;
/** DigitalOcean allows 120 concurrent activations per namespace (docs/platform-facts.md "Functions limits"); leave room for the web functions and the sweep. */
export const maxConcurrentJobsDefault = 100;
/** The async invoke answers at once (202); a slow one must not eat the web function's 10 s budget. */
export const invokeTimeoutMs = 3_000;
/**
 * A connection attempt to Postgres (TCP, TLS, authentication) gives up after this long. A healthy
 * connect takes milliseconds; a server that accepts TCP but never answers (hung, overloaded) must
 * fail fast, and below `databaseQueryTimeoutMs`, which counts the connect of a query's connection.
 */
export const databaseConnectTimeoutSeconds = 3;
/**
 * Every query (a transaction counts as one) gets this long, connecting included, before the client
 * gives up on it and drops its connection (src/db/client.ts). Sluice's queries are indexed
 * single-row statements of milliseconds; this bound is for a server that stopped answering, and it
 * leaves a web function (10 s, project.yml) time to answer 503 rather than be killed at its limit.
 */
export const databaseQueryTimeoutMs = 4_000;
/**
 * A web function answers 503 SERVICE_UNAVAILABLE this long before its own deadline
 * (`__OW_DEADLINE`) if its work has not finished: past the deadline the platform would answer 400
 * itself, which clients never retry. With the 10 s limit that is 6 s after the activation started
 * (a cold start's initialization included): a healthy call takes well under a second, so by then
 * a dependency is sick, and the client's retry comes sooner; the rest is room for the answer to
 * leave the container.
 */
export const webAnswerMarginMs = 4_000;
/** The same bound when the runtime gives no deadline (a handler called directly): a web function's 10 s less the margin. */
export const webAnswerBudgetMsDefault = 6_000;
/**
 * `Retry-After` on a 503: about the time a paused or restarting Postgres, or a store that dropped
 * connections, takes to answer again, so a client's next try is likely to succeed, and short
 * enough that an upload resumes within seconds of the recovery.
 */
export const serviceUnavailableRetryAfterSeconds = 5;
/** Close a warm container's idle connection so frozen containers do not hold the cluster's few slots (about 22 on 1 GB, docs/platform-facts.md "Managed PostgreSQL"). */
export const databaseIdleTimeoutSeconds = 60;
/** PgBouncer pools listen here in transaction mode, which cannot keep prepared statements (docs/platform-facts.md "Managed PostgreSQL"). */
export const pgBouncerPort = 25061;
/** SDK attempts per S3 call (standard retry mode backs off on 5xx and 503 SlowDown). */
export const storageMaxAttempts = 4;
/** A TCP connection to the store opens in milliseconds; not open after this, the host is down or unreachable, and the SDK's retry still fits a web function's 10 s. */
export const storageConnectTimeoutMs = 2_000;
/**
 * No byte from the store for this long while one is awaited (an answer's headers, the next piece
 * of a body) means the connection is stalled, and the socket timeout fires: unlike
 * `requestTimeout`, which only logs unless told to throw (docs/platform-facts.md "Spaces"). Spaces
 * answers within a second; STORAGE_STALL_SECONDS raises it for a distant or slow store. A body
 * read also counts the time an analyzer holds one chunk, which is milliseconds.
 */
export const storageStallSecondsDefault = 2;
/**
 * A storage call other than the streamed read (HEAD, list, complete, delete), the SDK's retries
 * included, gives up after this: two stalled tries and the backoff between them, well inside a web
 * function's 10 s (project.yml), so a store that stopped answering costs seconds, not the function.
 */
export const storageCallTimeoutMs = 5_000;
/**
 * A read of the object that stalls or is cut mid-body resumes from the byte reached (Range, pinned
 * with If-Match) at most this many times per attempt. A store failing more often is in trouble:
 * the attempt ends, and its retry's backoff waits better than more requests.
 */
export const objectReadMaxResumes = 3;
/** How long a browser may cache a CORS preflight answer. */
export const corsMaxAgeSeconds = 600;

// ---- Parsing helpers -------------------------------------------------------------------------

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Treats "" and whitespace as absent, so an unresolved optional `${VAR}` falls back to the default. */
function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function required(env: Env, name: string, hint = ''): string {
  const value = present(env[name]);
  if (value === undefined) throw new ConfigError(`${name} is required${hint ? ` (${hint})` : ''}`);
  return value;
}

function parseWith<T>(name: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const reason = result.error.issues.map((issue) => issue.message).join('; ');
    throw new ConfigError(`${name} is invalid: ${reason}`);
  }
  return result.data;
}

function positiveInteger(env: Env, name: string, fallback: number): number {
  const raw = present(env[name]);
  if (raw === undefined) return fallback;
  return parseWith(name, z.coerce.number().int().positive('must be a positive integer'), raw);
}

/** Seconds may be fractional (e.g. 0.5), so tests can run leases and backoff in real time. */
function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = present(env[name]);
  if (raw === undefined) return fallback;
  return parseWith(name, z.coerce.number().positive('must be a positive number').finite(), raw);
}

/** Without a fallback the variable is required. */
function boolean(env: Env, name: string, fallback?: boolean): boolean {
  const raw = present(env[name]);
  if (raw === undefined) {
    if (fallback === undefined) throw new ConfigError(`${name} is required ("true" or "false")`);
    return fallback;
  }
  return parseWith(name, z.enum(['true', 'false'], 'must be "true" or "false"'), raw.toLowerCase()) === 'true';
}

function list(env: Env, name: string): string[] | undefined {
  const raw = present(env[name]);
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** ALLOWED_CONTENT_TYPES, read the same way by `create` (declared types) and process/file (sniffed types). */
function contentTypePatterns(env: Env): string[] {
  return (list(env, 'ALLOWED_CONTENT_TYPES') ?? allowedContentTypesDefault).map((pattern) =>
    parseWith(
      'ALLOWED_CONTENT_TYPES',
      z.string().regex(/^(\*\/\*|[a-z0-9!#$&^_.+-]+\/(\*|[a-z0-9!#$&^_.+-]+))$/i, `"${pattern}" is not a type/subtype pattern`),
      pattern,
    ).toLowerCase(),
  );
}

// ---- Sections --------------------------------------------------------------------------------

export interface DatabaseConfig {
  url: string;
  /** PEM text of the cluster's CA; when set, TLS is verified against it. */
  caCert: string | undefined;
}

export function loadDatabaseConfig(env: Env = process.env): DatabaseConfig {
  const url = required(env, 'DATABASE_URL', 'postgres://user:password@host:port/database');
  parseWith('DATABASE_URL', z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }), url);
  const rawCa = present(env.DATABASE_CA_CERT);
  const caCert = rawCa === undefined || rawCa.toLowerCase() === noCaCert ? undefined : decodeCaCert(rawCa);
  const sslMode = new URL(url).searchParams.get('sslmode');
  // Managed PostgreSQL URLs carry sslmode=require, which postgres.js honours by encrypting
  // WITHOUT verifying the server (docs/platform-facts.md "Managed PostgreSQL"); `prefer` and `allow` are
  // the same, unverified (node_modules/postgres/src/connection.js). Refuse that silently weaker
  // setup: either give the CA or ask for verification against the system roots.
  if (caCert === undefined && (sslMode === 'require' || sslMode === 'prefer' || sslMode === 'allow')) {
    throw new ConfigError(
      `DATABASE_CA_CERT is required when DATABASE_URL has sslmode=${sslMode} (paste the cluster's CA certificate; see .env.example)`,
    );
  }
  return { url, caCert };
}

/**
 * DATABASE_CA_CERT=none: the server has no private CA (a plain local server, or one verified
 * against the system's roots with sslmode=verify-full). project.yml names DATABASE_CA_CERT, so it
 * cannot be left empty; a deployment refuses `none` (checkDeploymentSettings).
 */
export const noCaCert = 'none';

/** Accepts the PEM as is, with literal "\n" escapes (one-line .env values), or base64 of the PEM. */
function decodeCaCert(raw: string): string {
  const unescaped = raw.replace(/\\n/g, '\n');
  if (unescaped.includes('-----BEGIN CERTIFICATE-----')) return unescaped;
  const decoded = Buffer.from(raw, 'base64').toString('utf8');
  if (decoded.includes('-----BEGIN CERTIFICATE-----')) return decoded;
  throw new ConfigError('DATABASE_CA_CERT is invalid: expected a PEM certificate (or its base64)');
}

export interface SpacesConfig {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style for anything but DigitalOcean's own hosts (the local S3 server needs it). */
  forcePathStyle: boolean;
  /** STORAGE_STALL_SECONDS; absent (a client made by hand, e.g. in a tool or test): storageStallSecondsDefault. */
  stallSeconds?: number;
}

export function loadSpacesConfig(env: Env = process.env): SpacesConfig {
  const endpoint = required(env, 'SPACES_ENDPOINT', 'e.g. https://nyc3.digitaloceanspaces.com');
  const endpointUrl = parseWith(
    'SPACES_ENDPOINT',
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    endpoint,
  );
  const host = new URL(endpointUrl).hostname;
  const doHost = /^([a-z0-9-]+)\.digitaloceanspaces\.com$/.exec(host);
  const region = present(env.SPACES_REGION) ?? doHost?.[1] ?? 'us-east-1';
  return {
    endpoint: endpointUrl.replace(/\/+$/, ''),
    region,
    bucket: parseWith(
      'SPACES_BUCKET',
      z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name'),
      required(env, 'SPACES_BUCKET'),
    ),
    accessKeyId: required(env, 'SPACES_KEY'),
    secretAccessKey: required(env, 'SPACES_SECRET'),
    forcePathStyle: !host.endsWith('.digitaloceanspaces.com'),
    stallSeconds: positiveNumber(env, 'STORAGE_STALL_SECONDS', storageStallSecondsDefault),
  };
}

export interface CorsConfig {
  /** Exact origins (scheme://host[:port]); `*` allows any. Empty: no cross-origin access. */
  allowedOrigins: string[];
}

export function loadCorsConfig(env: Env = process.env): CorsConfig {
  const origins = list(env, 'ALLOWED_ORIGINS') ?? [];
  for (const origin of origins) {
    if (origin === '*') continue;
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`ALLOWED_ORIGINS is invalid: "${origin}" is not an origin like https://example.com`);
    }
  }
  return { allowedOrigins: origins.map((origin) => origin.toLowerCase()) };
}

/** An X-Forwarded-For entry counted from the right (1 = the right-most), or a header holding one address. */
export type ClientAddressSource = { kind: 'x-forwarded-for'; hopsFromRight: number } | { kind: 'header'; name: string };

export interface ClientAddressConfig {
  /** Read only for anonymous callers: a key is its own identity. */
  source: ClientAddressSource;
}

/** A header name as HTTP defines it (RFC 9110 "token"), lower case as the platform passes headers. */
const headerNamePattern = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

const clientAddressSourceSchema = z.string().transform((value, context): ClientAddressSource => {
  const fail = (message: string) => {
    context.issues.push({ code: 'custom', message, input: value });
    return z.NEVER;
  };
  const [name = '', hops, ...rest] = value.split(':');
  if (name === 'x-forwarded-for') {
    if (hops === undefined) return fail('say how many entries from the right, e.g. "x-forwarded-for:1" (the one the edge appends)');
    const hopsFromRight = Number(hops);
    if (rest.length > 0 || !/^\d+$/.test(hops) || !Number.isSafeInteger(hopsFromRight) || hopsFromRight < 1) {
      return fail(`"${value}": the count after "x-forwarded-for:" must be a positive integer (1 is the right-most entry)`);
    }
    return { kind: 'x-forwarded-for', hopsFromRight };
  }
  if (hops !== undefined || !headerNamePattern.test(name)) {
    return fail(`"${value}" is neither "x-forwarded-for:<entries from the right>" nor a header name like cf-connecting-ip`);
  }
  return { kind: 'header', name };
});

export function loadClientAddressConfig(env: Env = process.env): ClientAddressConfig {
  const raw = present(env.CLIENT_ADDRESS_SOURCE) ?? clientAddressSourceDefault;
  return { source: parseWith('CLIENT_ADDRESS_SOURCE', clientAddressSourceSchema, raw.toLowerCase()) };
}

export interface UploadConfig {
  /** SHA-256 hex digests of the accepted API keys (the keys themselves are never configured). */
  apiKeyHashes: string[];
  allowAnonymousUploads: boolean;
  maxUploadBytes: number;
  /** Media types, lower case; `image/*` and `*\/*` are wildcards. */
  allowedContentTypes: string[];
  uploadsPerHour: number;
  bytesPerDay: number;
  multipartThresholdBytes: number;
}

export function loadUploadConfig(env: Env = process.env): UploadConfig {
  const apiKeyHashes = (list(env, 'API_KEYS') ?? []).map((hash) =>
    parseWith(
      'API_KEYS',
      z.string().regex(/^[0-9a-f]{64}$/i, 'each entry must be the SHA-256 hex digest of a key (see .env.example)'),
      hash,
    ).toLowerCase(),
  );
  // Who may upload is always a decision, never a default: project.yml names this variable.
  const allowAnonymousUploads = boolean(env, 'ALLOW_ANONYMOUS_UPLOADS');
  if (!allowAnonymousUploads && apiKeyHashes.length === 0) {
    // A deployment with neither keys nor an explicit opt-in would lock everyone out, which is
    // always a mistake, so say so instead of answering 401 to every request.
    throw new ConfigError('API_KEYS is required when ALLOW_ANONYMOUS_UPLOADS=false (or set ALLOW_ANONYMOUS_UPLOADS=true)');
  }
  const maxUploadBytes = positiveInteger(env, 'MAX_UPLOAD_BYTES', maxUploadBytesDefault);
  if (maxUploadBytes > maxPartSizeBytes * maxPartCount) {
    throw new ConfigError(`MAX_UPLOAD_BYTES is invalid: at most ${maxPartSizeBytes * maxPartCount} (10,000 parts of 5 GiB)`);
  }
  const allowedContentTypes = contentTypePatterns(env);
  const multipartThresholdBytes = positiveInteger(env, 'MULTIPART_THRESHOLD_BYTES', multipartThresholdBytesDefault);
  if (multipartThresholdBytes > maxPartSizeBytes) {
    throw new ConfigError('MULTIPART_THRESHOLD_BYTES is invalid: a single PUT is limited to 5 GiB');
  }
  return {
    apiKeyHashes,
    allowAnonymousUploads,
    maxUploadBytes,
    allowedContentTypes,
    uploadsPerHour: positiveInteger(env, 'UPLOADS_PER_HOUR', uploadsPerHourDefault),
    bytesPerDay: positiveInteger(env, 'BYTES_PER_DAY', bytesPerDayDefault),
    multipartThresholdBytes,
  };
}

export interface ProcessingConfig {
  maxConcurrentJobs: number;
  allowedContentTypes: string[];
  leaseSeconds: number;
  heartbeatSeconds: number;
  retryBaseDelaySeconds: number;
}

export function loadProcessingConfig(env: Env = process.env): ProcessingConfig {
  const leaseSeconds = positiveNumber(env, 'LEASE_SECONDS', leaseSecondsDefault);
  const heartbeatSeconds = positiveNumber(env, 'HEARTBEAT_SECONDS', heartbeatSecondsDefault);
  // At least two heartbeats per lease: one slow or failed round trip must not lose the job.
  if (heartbeatSeconds * 2 > leaseSeconds) {
    throw new ConfigError(`HEARTBEAT_SECONDS is invalid: at most half of LEASE_SECONDS (${leaseSeconds})`);
  }
  return {
    maxConcurrentJobs: positiveInteger(env, 'MAX_CONCURRENT_JOBS', maxConcurrentJobsDefault),
    allowedContentTypes: contentTypePatterns(env),
    leaseSeconds,
    heartbeatSeconds,
    retryBaseDelaySeconds: positiveNumber(env, 'RETRY_BASE_DELAY_SECONDS', retryBaseDelaySecondsDefault),
  };
}

export interface DispatchConfig {
  /**
   * The namespace access key (`<key id>:<secret>`, `doctl serverless key create`) that invokes
   * process/file and process/sweep. DigitalOcean replaced the shared namespace token with these
   * keys in 2026 ("after 3 June 2026, legacy tokens will no longer authenticate": Functions
   * release notes, 13 March 2026); whether the `__OW_API_KEY` a function is handed still works is
   * not documented, so it is only the fallback when this is not set.
   */
  accessKey: string | undefined;
}

export function loadDispatchConfig(env: Env = process.env): DispatchConfig {
  const raw = present(env.FUNCTIONS_ACCESS_KEY);
  if (raw === undefined) return { accessKey: undefined };
  return {
    accessKey: parseWith(
      'FUNCTIONS_ACCESS_KEY',
      z.string().regex(/^[^:\s]+:\S+$/, 'must be "<key id>:<secret>" as printed by doctl serverless key create (npm run deploy writes it)'),
      raw,
    ),
  };
}

/**
 * What the runtime tells an activation about itself (docs/platform-facts.md "Invoking a function from
 * another"). Read per call, not cached: the Node runtime sets these per activation.
 */
export interface ActivationContext {
  apiHost: string | undefined;
  /** `__OW_API_KEY`, given only to functions annotated `provide-api-key: true`: the fallback for invokes. */
  apiKey: string | undefined;
  /** FUNCTIONS_ACCESS_KEY (DispatchConfig): what invokes authenticate with when set. */
  accessKey: string | undefined;
  activationId: string | undefined;
  /** The deployed action version, recorded with every transition as the code version. */
  codeVersion: string | undefined;
  /** Epoch ms after which the runtime kills the activation. */
  deadlineMs: number | undefined;
}

export function activationContext(env: Env = process.env): ActivationContext {
  const deadline = Number(present(env.__OW_DEADLINE));
  return {
    apiHost: present(env.__OW_API_HOST),
    apiKey: present(env.__OW_API_KEY),
    accessKey: loadDispatchConfig(env).accessKey,
    activationId: present(env.__OW_ACTIVATION_ID),
    codeVersion: present(env.__OW_ACTION_VERSION),
    deadlineMs: Number.isFinite(deadline) && deadline > 0 ? deadline : undefined,
  };
}

/** Memoises a section per environment object, so a warm container parses once. */
function cached<T>(load: (env: Env) => T): (env?: Env) => T {
  let last: { env: Env; value: T } | undefined;
  return (env: Env = process.env) => {
    if (last?.env !== env) last = { env, value: load(env) };
    return last.value;
  };
}

export const dispatchConfig = cached(loadDispatchConfig);
export const databaseConfig = cached(loadDatabaseConfig);
export const spacesConfig = cached(loadSpacesConfig);
export const corsConfig = cached(loadCorsConfig);
export const uploadConfig = cached(loadUploadConfig);
export const clientAddressConfig = cached(loadClientAddressConfig);
export const processingConfig = cached(loadProcessingConfig);

// ---- Deployments ------------------------------------------------------------------------------

/**
 * What a person must decide before a deploy: project.yml names each of these as "${VAR}", so the
 * deployer refuses to deploy while any is missing or empty. FUNCTIONS_ACCESS_KEY is the one
 * `npm run deploy` makes itself (doctl serverless key create) and writes into `.env`.
 */
export const requiredSettings = [
  'DATABASE_URL',
  'DATABASE_CA_CERT',
  'SPACES_ENDPOINT',
  'SPACES_BUCKET',
  'SPACES_KEY',
  'SPACES_SECRET',
  'ALLOWED_ORIGINS',
  'ALLOW_ANONYMOUS_UPLOADS',
  'FUNCTIONS_ACCESS_KEY',
] as const;

/** Settings with a default in this module: a `.env` line sets one, an absent or empty one means the default. */
export const optionalSettings = [
  'SPACES_REGION',
  'API_KEYS',
  'MAX_UPLOAD_BYTES',
  'ALLOWED_CONTENT_TYPES',
  'MULTIPART_THRESHOLD_BYTES',
  'UPLOADS_PER_HOUR',
  'BYTES_PER_DAY',
  'CLIENT_ADDRESS_SOURCE',
  'MAX_CONCURRENT_JOBS',
  'LEASE_SECONDS',
  'HEARTBEAT_SECONDS',
  'RETRY_BASE_DELAY_SECONDS',
  'STORAGE_STALL_SECONDS',
] as const;

/**
 * Every problem that would stop a deployment with these settings from deploying or from running,
 * each naming its variable; [] when there is none. `ignore` skips required settings that are
 * still to be made (FUNCTIONS_ACCESS_KEY before npm run deploy has created it).
 */
export function checkDeploymentSettings(env: Env, options: { ignore?: readonly string[] } = {}): string[] {
  const ignored = new Set(options.ignore ?? []);
  const problems: string[] = [];
  const missing = requiredSettings.filter((name) => !ignored.has(name) && present(env[name]) === undefined);
  for (const name of missing) problems.push(`${name} is required (see .env.example)`);
  /** Runs a section's loader unless a variable it requires is already reported missing. */
  const check = (requires: readonly string[], load: () => unknown) => {
    if (requires.some((name) => missing.some((variable) => variable === name))) return;
    try {
      load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(error.message);
    }
  };
  check(['DATABASE_URL'], () => loadDatabaseConfig(env));
  if (present(env.DATABASE_CA_CERT)?.toLowerCase() === noCaCert) {
    problems.push("DATABASE_CA_CERT is invalid for a deployment: Managed PostgreSQL needs TLS verified with the cluster's CA (paste the certificate; see .env.example)");
  }
  check(['SPACES_ENDPOINT', 'SPACES_BUCKET', 'SPACES_KEY', 'SPACES_SECRET'], () => loadSpacesConfig(env));
  if (present(env.SPACES_ENDPOINT)?.startsWith('http://')) problems.push('SPACES_ENDPOINT is invalid for a deployment: use the https:// endpoint');
  check(['ALLOWED_ORIGINS'], () => loadCorsConfig(env));
  check(['ALLOW_ANONYMOUS_UPLOADS'], () => loadUploadConfig(env));
  check([], () => loadProcessingConfig(env));
  check([], () => loadClientAddressConfig(env));
  if (!ignored.has('FUNCTIONS_ACCESS_KEY')) check(['FUNCTIONS_ACCESS_KEY'], () => loadDispatchConfig(env));
  // The deployer inserts these values into project.yml as they are, inside double quotes: a quote
  // would end the YAML string and a backslash starts an escape (only "\n" means what it says).
  for (const name of requiredSettings) {
    if (/"|\\(?!n)/.test(env[name] ?? '')) problems.push(`${name} contains a double quote or a backslash, which would break project.yml when the deployer inserts it`);
  }
  return problems;
}
