// `npm run smoke`: three requests that show a deployment answers, from outside, the way the page
// and the dispatcher will use it:
// 1. GET presign/limits: the web functions run and read their configuration.
// 2. A CORS preflight for presign/create from the page's origin: ALLOWED_ORIGINS reached them.
// 3. A blocking invoke of process/sweep {"dryRun": true} over the REST API with FUNCTIONS_ACCESS_KEY
//    (OpenWhisk docs: rest_api.md, `?blocking=true&result=true`): the namespace accepts the key the
//    functions dispatch with. The dry run answers at once and touches nothing.
import * as z from 'zod';

/** A web call that runs longer than 30 s is answered 202 by the platform (docs/platform-facts.md "Web functions"); a little more than that. */
export const webRequestTimeoutMs = 35_000;
/** A blocking REST invoke waits up to 60 s for its result (OpenWhisk default); a little more than that. */
export const invokeRequestTimeoutMs = 65_000;
/** Right after a deploy the first call may meet a container still starting: two more tries, spaced out. */
export const smokeRetryDelaysMs = [1_000, 3_000];
/** Statuses worth another try: throttling and the gateway's transient answers. Any other answer is the deployment's. */
const retriedStatuses = new Set([429, 500, 502, 503, 504]);
/** Any origin will do to test a `*` rule; this one can never be a real page. */
const exampleOrigin = 'https://smoke-check.invalid';

export interface SmokeTarget {
  /** `https://<api host>/api/v1/web/<namespace>`: the web functions' base, SLUICE_API_BASE. */
  apiBase: string;
  /** ALLOWED_ORIGINS as configured; the first one is tested. */
  allowedOrigins: readonly string[];
  /** FUNCTIONS_ACCESS_KEY, `<key id>:<secret>`. */
  accessKey: string;
}

export interface SmokeCheck {
  name: string;
  ok: boolean;
  /** What was seen, for a ✓ or a ✗ alike. */
  detail: string;
  /** What to do, when it failed. */
  fix?: string;
}

export async function runSmokeChecks(target: SmokeTarget, options: { signal?: AbortSignal } = {}): Promise<SmokeCheck[]> {
  const apiBase = target.apiBase.replace(/\/+$/, '');
  const apiHost = new URL(apiBase).origin;
  return [
    await checkLimits(apiBase, options.signal),
    await checkPreflight(apiBase, target.allowedOrigins, options.signal),
    await checkDispatchKey(apiHost, target.accessKey, options.signal),
  ];
}

const limitsSchema = z.object({ maxUploadBytes: z.number() });

async function checkLimits(apiBase: string, signal: AbortSignal | undefined): Promise<SmokeCheck> {
  const name = 'presign/limits';
  const logs = 'read `doctl serverless activations logs --function presign/limits --last`';
  const answer = await request(`${apiBase}/presign/limits`, { method: 'GET', timeoutMs: webRequestTimeoutMs, signal });
  if (answer.kind === 'unreachable') return { name, ok: false, detail: `GET failed: ${answer.reason}`, fix: 'check the URL and your network, then run npm run smoke' };
  if (answer.status !== 200 || !limitsSchema.safeParse(parseJson(answer.body)).success) {
    return { name, ok: false, detail: `GET answered ${answer.status}: ${excerpt(answer.body)}`, fix: logs };
  }
  return { name, ok: true, detail: 'GET answered 200 with the upload limits' };
}

async function checkPreflight(apiBase: string, allowedOrigins: readonly string[], signal: AbortSignal | undefined): Promise<SmokeCheck> {
  const name = 'CORS';
  const [first] = allowedOrigins;
  if (first === undefined) return { name, ok: false, detail: 'ALLOWED_ORIGINS is empty', fix: "set ALLOWED_ORIGINS in .env to the page's origin and run npm run deploy" };
  const origin = first === '*' ? exampleOrigin : first;
  const answer = await request(`${apiBase}/presign/create`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    timeoutMs: webRequestTimeoutMs,
    signal,
  });
  if (answer.kind === 'unreachable') return { name, ok: false, detail: `preflight failed: ${answer.reason}`, fix: 'check the URL and your network, then run npm run smoke' };
  const allowed = answer.headers.get('access-control-allow-origin');
  if (answer.status < 200 || answer.status > 299 || (allowed !== origin && allowed !== '*')) {
    return {
      name,
      ok: false,
      detail: `preflight from ${origin} answered ${answer.status} with Access-Control-Allow-Origin ${allowed ?? '(none)'}`,
      fix: `list ${origin} in ALLOWED_ORIGINS in .env and run npm run deploy:functions`,
    };
  }
  return { name, ok: true, detail: `preflight from ${origin} allowed` };
}

const dryRunSchema = z.object({ dryRun: z.literal(true), ok: z.literal(true) });

async function checkDispatchKey(apiHost: string, accessKey: string, signal: AbortSignal | undefined): Promise<SmokeCheck> {
  const name = 'access key';
  const answer = await request(`${apiHost}/api/v1/namespaces/_/actions/process/sweep?blocking=true&result=true`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(accessKey).toString('base64')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ dryRun: true }),
    timeoutMs: invokeRequestTimeoutMs,
    signal,
  });
  if (answer.kind === 'unreachable') return { name, ok: false, detail: `invoke failed: ${answer.reason}`, fix: 'check your network, then run npm run smoke' };
  if (answer.status === 401 || answer.status === 403) {
    return {
      name,
      ok: false,
      detail: `the namespace refused FUNCTIONS_ACCESS_KEY (${answer.status})`,
      fix: 'run npm run deploy: it replaces a key the namespace no longer lists (or unset a stale FUNCTIONS_ACCESS_KEY in your shell)',
    };
  }
  if (answer.status === 404) return { name, ok: false, detail: 'process/sweep is not deployed in this namespace (404)', fix: 'run npm run deploy:functions' };
  if (answer.status !== 200 || !dryRunSchema.safeParse(parseJson(answer.body)).success) {
    return {
      name,
      ok: false,
      detail: `process/sweep {"dryRun": true} answered ${answer.status}: ${excerpt(answer.body)}`,
      fix: 'read `doctl serverless activations logs --function process/sweep --last`',
    };
  }
  return { name, ok: true, detail: 'process/sweep dry run accepted the key' };
}

type Answer = { kind: 'answered'; status: number; headers: Headers; body: string } | { kind: 'unreachable'; reason: string };

interface RequestOptions {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** One request with the smoke retry policy: network errors and `retriedStatuses` are tried again. */
async function request(url: string, options: RequestOptions): Promise<Answer> {
  let last: Answer = { kind: 'unreachable', reason: 'not tried' };
  for (const delayMs of [0, ...smokeRetryDelaysMs]) {
    if (delayMs > 0) await delay(delayMs, options.signal);
    const timeout = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await fetch(url, {
        method: options.method,
        headers: options.headers,
        body: options.body,
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
      last = { kind: 'answered', status: response.status, headers: response.headers, body: await response.text() };
      if (!retriedStatuses.has(response.status)) return last;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      last = { kind: 'unreachable', reason: timeout.aborted ? `no answer within ${Math.round(options.timeoutMs / 1000)} s` : describeFetchError(error) };
    }
  }
  return last;
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch hides the reason (ECONNREFUSED, ENOTFOUND, a certificate problem) in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Enough of a body to recognise it on one line. */
function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || '(empty body)';
}
