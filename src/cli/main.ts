// The `sluice` command line: commander parses it (help on every command, unknown options refused
// with the usage), each action calls one command module, and every outcome becomes an exit code:
// 0 done, 1 a file or the work failed, 2 the command line or the configuration is wrong, 130 Ctrl-C.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { mediaTypePattern } from '../jobs/content-types.js';
import { printJson, say, type CliContext, type OutputStream } from './context.js';
import { CliError, exitCodes, type ExitCode } from './errors.js';
import { defaultListLimit, defaultParallelFiles, maxListLimit, maxParallelFiles } from './defaults.js';
import { loadSources, userDirectory } from './target.js';

export interface CliRuntime {
  /** The repository: package.json, .env and .data/ are here. */
  rootDir: string;
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: OutputStream;
  stderr: OutputStream;
  signal: AbortSignal;
}

/** A job token: 43 base64url characters (src/auth/job-tokens.ts), so one in 64 starts with `-`. */
const tokenShape = /^-[A-Za-z0-9_-]{42}$/;

/** Options whose value is the next argument, which may have any shape. */
const optionsWithValues = new Set(['--key', '--api']);

/**
 * `sluice status <jobId> <token>` with a token that starts with `-` would be read as an unknown
 * option (a usage error, exit 2). Such an argument is moved behind a `--`, where it is an operand
 * whatever follows it; nothing else has that shape (an option's value is left where it is).
 */
export function withTokensAsOperands(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  const before = end === -1 ? [...argv] : argv.slice(0, end);
  const after = end === -1 ? [] : argv.slice(end + 1);
  const isToken = (arg: string, index: number) => tokenShape.test(arg) && !optionsWithValues.has(before[index - 1] ?? '');
  const tokens = before.filter(isToken);
  if (tokens.length === 0) return [...argv];
  return [...before.filter((arg, index) => !isToken(arg, index)), '--', ...tokens, ...after];
}

export async function runCli(argv: readonly string[], runtime: CliRuntime): Promise<ExitCode> {
  const context: CliContext = {
    sources: loadSources(runtime.rootDir, runtime.env),
    cwd: userDirectory(runtime.env, runtime.cwd),
    stdout: runtime.stdout,
    stderr: runtime.stderr,
    signal: runtime.signal,
  };
  let exitCode: ExitCode = exitCodes.ok;
  let json = false;
  const program = buildProgram(context, readVersion(runtime.rootDir), (code) => (exitCode = code));
  program.hook('preAction', (_program, action) => {
    json = action.opts().json === true;
  });
  try {
    await program.parseAsync(withTokensAsOperands(argv), { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; help shown for a missing command, and every parse error, 2.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    if (runtime.signal.aborted) return exitCodes.interrupted;
    const failure = error instanceof CliError ? error : new CliError(error instanceof Error ? error.message : String(error), exitCodes.failed, 'INTERNAL');
    if (json) printJson(context, { error: { code: failure.code, message: failure.message } });
    say(context, `sluice: ${failure.message}`);
    if (!(error instanceof CliError) && runtime.env.SLUICE_DEBUG && error instanceof Error) say(context, error.stack ?? '');
    return failure.exitCode;
  }
}

function buildProgram(context: CliContext, version: string, done: (code: ExitCode) => void): Command {
  const program = new Command('sluice')
    .description('Upload files to Sluice and watch them being processed; look after its jobs.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand('help [command]', 'show help for a command')
    .configureOutput({ writeOut: (text) => context.stdout.write(text), writeErr: (text) => context.stderr.write(text) })
    .showHelpAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      `
Where it sends things: --api or SLUICE_API_BASE, else a running \`npm run dev\` (found by itself),
else SLUICE_API_BASE in .env. The jobs and sweep commands use DATABASE_URL from the shell, else
the running \`npm run dev\`, else .env. Exit codes: 0 done, 1 a file or the work failed,
2 wrong command line or missing configuration, 130 interrupted (Ctrl-C).`,
    );
  // Each command's module loads when it runs: --help and --version need none of them.
  const run = async (work: Promise<ExitCode>) => done(await work);
  const apiOption = () => new Option('--api <url>', 'web functions base, https://<host>/api/v1/web/<namespace> (default: $SLUICE_API_BASE, else npm run dev)');
  const jsonOption = () => new Option('--json', 'print one JSON document on stdout (people-facing lines go to stderr)');

  program
    .command('upload')
    .description('upload files, wait for processing and print what it found')
    .argument('<files...>', 'files to upload (relative to the directory you are in)')
    .addOption(apiOption())
    .option('--key <key>', 'API key, when the server requires one (default: $SLUICE_API_KEY)')
    .option('--type <type>', 'declare this content type for every file instead of detecting it', mediaType)
    .option('--no-wait', 'return once uploaded; `sluice status` shows the result later')
    .option('--parallel <n>', `files uploading at once (1-${maxParallelFiles})`, integerIn(1, maxParallelFiles), defaultParallelFiles)
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Each file is checked against the server's limits (size, accepted types: the type is detected from
its bytes and its name) before anything is sent. Ctrl-C aborts the uploads under way.

Examples:
  sluice upload people.csv
  sluice upload data/*.ndjson --parallel 4
  sluice upload photo.png --no-wait --json`,
    )
    .action((files: string[], options: { api?: string; key?: string; type?: string; wait: boolean; parallel: number; json?: boolean }) =>
      run(import('./upload.js').then(({ uploadCommand }) => uploadCommand(files, { ...options, json: options.json === true }, context))),
    );

  program
    .command('status')
    .description("show one job through the API, with the token its upload printed")
    .argument('<jobId>', 'the job id')
    .argument('<token>', 'the job token')
    .addOption(apiOption())
    .option('--key <key>', 'API key (default: $SLUICE_API_KEY)')
    .addOption(jsonOption())
    .action((jobId: string, token: string, options: { api?: string; key?: string; json?: boolean }) =>
      run(import('./status.js').then(({ statusCommand }) => statusCommand(jobId, token, { ...options, json: options.json === true }, context))),
    );

  const jobs = program.command('jobs').description('look after jobs in the database (operators)');
  jobs
    .command('list')
    .description('the newest jobs, newest first')
    .option('--status <statuses>', 'only these statuses, comma-separated (e.g. failed,queued)')
    .option('--since <when>', 'created since: 30m, 2h, 7d, 1w, or a date such as 2026-05-01')
    .option('--limit <n>', `at most this many (1-${maxListLimit}, default ${defaultListLimit})`)
    .addOption(jsonOption())
    .action((options: { status?: string; since?: string; limit?: string; json?: boolean }) => run(import('./jobs.js').then(({ jobsList }) => jobsList({ ...options, json: options.json === true }, context))));
  jobs
    .command('show')
    .description('one job: its details, each attempt with the build it ran on, and every event')
    .argument('<id>', 'the job id')
    .addOption(jsonOption())
    .action((id: string, options: { json?: boolean }) => run(import('./jobs.js').then(({ jobsShow }) => jobsShow(id, { json: options.json === true }, context))));
  jobs
    .command('retry')
    .description('put a failed job back in the queue with a fresh set of attempts, and start it')
    .argument('<id>', 'the job id')
    .addOption(apiOption())
    .addOption(jsonOption())
    .action((id: string, options: { api?: string; json?: boolean }) => run(import('./jobs.js').then(({ jobsRetry }) => jobsRetry(id, { ...options, json: options.json === true }, context))));
  jobs
    .command('cancel')
    .description('cancel an upload in progress (awaiting_upload) and remove its bytes')
    .argument('<id>', 'the job id')
    .addOption(jsonOption())
    .action((id: string, options: { json?: boolean }) => run(import('./jobs.js').then(({ jobsCancel }) => jobsCancel(id, { json: options.json === true }, context))));

  program
    .command('sweep')
    .description('run one sweep now (process/sweep): requeue dead leases, finish lost uploads, dispatch queued jobs')
    .addOption(apiOption())
    .addOption(jsonOption())
    .action((options: { api?: string; json?: boolean }) => run(import('./sweep.js').then(({ sweepCommand }) => sweepCommand({ ...options, json: options.json === true }, context))));

  return program;
}

function mediaType(value: string): string {
  if (!mediaTypePattern.test(value)) throw new InvalidArgumentError('expected a media type such as text/csv');
  return value;
}

function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return number;
  };
}

function readVersion(rootDir: string): string {
  const manifest: unknown = JSON.parse(readFileSync(path.join(rootDir, 'package.json'), 'utf8'));
  return typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
