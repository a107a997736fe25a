// Everything `npm run deploy` asks of doctl, and how it reads the answers. Output formats are
// doctl's own (github.com/digitalocean/doctl: commands/serverless.go, commands/keys.go,
// commands/displayers/access_keys.go, commands/functions.go computeURL, commands/errors.go):
// - a failure prints `Error: <message>` on stderr and exits 1; with `--output json` it prints
//   `{"errors":[{"detail":"<message>"}]}` on stdout instead.
// - `doctl serverless status` prints "Connected to functions namespace '<ns>' on API host '<host>'".
// - `doctl serverless key create … --output json` prints two notice lines, then a JSON array
//   holding the new key with its secret (shown only this once).
// The tests replace doctl with test/fixtures/doctl/doctl, which answers in these formats.
import { spawn } from 'node:child_process';
import * as z from 'zod';

/** Read-only calls answer in seconds; a hung one (a network stall) must not hold the deploy forever. */
export const doctlQueryTimeoutMs = 2 * 60_000;
/** `doctl serverless deploy` uploads every function; a few minutes is normal on a slow line. */
export const doctlDeployTimeoutMs = 15 * 60_000;

/** Namespace access keys and `doctl serverless key` arrived in doctl 1.152.0 (doctl commit ed0521f, March 2026). */
export const minimumDoctlVersion = '1.152.0';

export const doctlInstallHint =
  'install doctl (DigitalOcean docs: "How to Install and Configure doctl", e.g. `sudo snap install doctl` or `brew install doctl`), then run `doctl auth init`';

export interface DoctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Each line of output as it arrives (the deploy's transcript); stdout and stderr alike. */
  onLine?: (line: string) => void;
}

export interface Doctl {
  /** Runs `doctl <args>` in the project root; rejects with DoctlMissingError when doctl is not on PATH. */
  run(args: readonly string[], options?: RunOptions): Promise<DoctlResult>;
}

export class DoctlMissingError extends Error {
  override name = 'DoctlMissingError';
}

export class DoctlTimeoutError extends Error {
  override name = 'DoctlTimeoutError';
}

export interface DoctlOptions {
  /** The project root: doctl reads `.env` and `project.yml` from here. */
  cwd: string;
  /** The environment doctl runs with; its PATH decides which doctl runs. */
  environment: Record<string, string | undefined>;
}

export function createDoctl(options: DoctlOptions): Doctl {
  return {
    run(args, runOptions = {}) {
      return new Promise((resolve, reject) => {
        // stdin closed: doctl must never wait on a prompt (it asks before some destructive calls).
        const child = spawn('doctl', [...args], { cwd: options.cwd, env: options.environment, stdio: ['ignore', 'pipe', 'pipe'] });
        const stdout: string[] = [];
        const stderr: string[] = [];
        // Partial lines wait for their end, so a transcript line is never split in two.
        const pending = { stdout: '', stderr: '' };
        const collect = (stream: 'stdout' | 'stderr', sink: string[]) => (chunk: string) => {
          sink.push(chunk);
          if (runOptions.onLine === undefined) return;
          const lines = (pending[stream] + chunk).split(/\r?\n/);
          pending[stream] = lines.pop() ?? '';
          for (const line of lines) runOptions.onLine(line);
        };
        const flush = () => {
          for (const stream of ['stdout', 'stderr'] as const) {
            if (pending[stream] !== '') runOptions.onLine?.(pending[stream]);
            pending[stream] = '';
          }
        };
        child.stdout.setEncoding('utf8').on('data', collect('stdout', stdout));
        child.stderr.setEncoding('utf8').on('data', collect('stderr', stderr));
        const timeoutMs = runOptions.timeoutMs ?? doctlQueryTimeoutMs;
        const timer = setTimeout(() => {
          child.kill('SIGTERM');
          reject(new DoctlTimeoutError(`doctl ${args.join(' ')} did not finish within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        child.once('error', (error: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(error.code === 'ENOENT' ? new DoctlMissingError('doctl is not installed (not found on PATH)') : error);
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          flush();
          resolve({ code: code ?? (signal ? 128 : 1), stdout: stdout.join(''), stderr: stderr.join('') });
        });
      });
    },
  };
}

/** What doctl said went wrong, in its own words, on one line. */
export function doctlErrorOf(result: DoctlResult): string {
  const json = jsonErrors.safeParse(parseJsonLoosely(result.stdout));
  if (json.success && json.data.errors.length > 0) return oneLine(json.data.errors.map((error) => error.detail).join('; '));
  const marked = /^Error: (.+)$/m.exec(result.stderr) ?? /^Error: (.+)$/m.exec(result.stdout);
  if (marked?.[1]) return oneLine(marked[1]);
  return oneLine(result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`);
}

const jsonErrors = z.object({ errors: z.array(z.object({ detail: z.string() })) });

/** doctl colours "Error" only on a terminal (fatih/color turns itself off otherwise), and this reads a pipe. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function parseJsonLoosely(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

// ---- doctl account get --output json ----------------------------------------------------------

/** godo Account (vendor/github.com/digitalocean/godo/account.go); only what the deploy shows. */
const accountSchema = z.object({
  email: z.string().optional(),
  status: z.string().optional(),
  team: z.object({ name: z.string().optional() }).optional(),
});
export type Account = z.infer<typeof accountSchema>;

export function parseAccount(stdout: string): Account | undefined {
  const parsed = accountSchema.safeParse(parseJsonLoosely(stdout));
  return parsed.success ? parsed.data : undefined;
}

/** doit.go GetGodoClient: "access token is required. (hint: run 'doctl auth init')"; the API's 401 says "Unable to authenticate you". */
export function isNotAuthenticated(message: string): boolean {
  return /access token is required|unable to authenticate|\b401\b/i.test(message);
}

// ---- doctl serverless status ------------------------------------------------------------------

export interface ConnectedNamespace {
  namespace: string;
  apiHost: string;
}

export type ServerlessProblem = 'not-installed' | 'needs-upgrade' | 'not-connected';

/** The errors of do/serverless.go (ErrServerlessNotInstalled, …NeedsUpgrade, …NotConnected), by their words. */
export function serverlessProblemOf(message: string): ServerlessProblem | undefined {
  if (/serverless support is not installed/i.test(message)) return 'not-installed';
  if (/serverless support needs to be upgraded/i.test(message)) return 'needs-upgrade';
  if (/not connected to a functions namespace/i.test(message)) return 'not-connected';
  return undefined;
}

export function parseServerlessStatus(stdout: string): ConnectedNamespace | undefined {
  const match = /Connected to functions namespace '([^']+)' on API host '([^']+)'/.exec(stdout);
  return match?.[1] && match[2] ? { namespace: match[1], apiHost: match[2] } : undefined;
}

// ---- doctl serverless key list / create --output json -----------------------------------------

/** do/serverless.go AccessKey. */
const accessKeySchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  created_at: z.string().optional(),
  expires_at: z.string().optional(),
  secret: z.string().optional(),
});
export type AccessKey = z.infer<typeof accessKeySchema>;

/** The keys of the connected namespace, or undefined when the output is not doctl's key list. */
export function parseAccessKeyList(stdout: string): AccessKey[] | undefined {
  const value = parseJsonLoosely(stdout);
  // An empty Go slice may be written as null.
  if (value === null) return [];
  const parsed = z.array(accessKeySchema).safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The key `key create` made, with its secret; the JSON starts after the notice lines. */
export function parseCreatedAccessKey(stdout: string): (AccessKey & { secret: string }) | undefined {
  const start = stdout.search(/^\[/m);
  if (start < 0) return undefined;
  const keys = parseAccessKeyList(stdout.slice(start));
  const [key] = keys ?? [];
  return key?.secret ? { ...key, secret: key.secret } : undefined;
}

// ---- doctl serverless functions get <fn> --url ------------------------------------------------

/** The function's URL: `<api host>/api/v1/web/<namespace>/<package>/<function>` for a web function. */
export function parseFunctionUrl(stdout: string): URL | undefined {
  const line = stdout.split(/\r?\n/).find((candidate) => /^https?:\/\//.test(candidate.trim()));
  if (line === undefined) return undefined;
  try {
    return new URL(line.trim());
  } catch {
    return undefined;
  }
}
