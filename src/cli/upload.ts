// `sluice upload <files…>`: every file checked against the server's limits before any byte is
// sent, the accepted ones uploaded a few at a time, then each job waited for and summed up in one
// line. A file refused, failed or rejected makes the exit code 1, but never stops the others.
import path from 'node:path';
import { createClient, isSluiceApiError, uploadFile, waitForJob, type JobView, type LimitsResponse, type SluiceClient } from '../client/index.js';
import { openFileSource, type FileSource } from '../client/file-source.js';
import { isContentTypeAllowed } from '../jobs/content-types.js';
import { allowEverythingHint } from '../local/local-env.js';
import { formatBytes } from '../../web/src/format.js';
import { detectContentType, headBytes } from './content-type.js';
import { printJson, say, type CliContext } from './context.js';
import { CliError, exitCodes, usageError, type ExitCode } from './errors.js';
import { createBoard, type Board } from './progress.js';
import { fileHasProblems, jobOutcome } from './summary.js';
import { resolveApi, type ApiTarget } from './target.js';

/** Status polls while waiting: quick enough to feel live, far below any rate limit. */
const waitPollIntervalMs = 500;

export interface UploadCommandOptions {
  api?: string;
  key?: string;
  /** Declare this type for every file instead of detecting it. */
  type?: string;
  wait: boolean;
  json: boolean;
  parallel: number;
}

export type FileOutcome = 'succeeded' | 'failed' | 'rejected' | 'expired' | 'cancelled' | 'refused' | 'error' | 'uploaded' | 'interrupted';

/** One file in the --json document. */
export interface FileReport {
  path: string;
  filename: string;
  size?: number;
  contentType?: string;
  outcome: FileOutcome;
  /** The line a person reads: the result's headline, or why not. */
  summary: string;
  /** Processed, but the file itself has a problem the headline names (invalid JSON, malformed rows): marked `!`, exit code unchanged. */
  fileHasProblems?: boolean;
  jobId?: string;
  /** The job's capability: `sluice status <jobId> <token>` shows it later. */
  token?: string;
  job?: JobView;
  error?: { code: string; message: string };
}

const successful: readonly FileOutcome[] = ['succeeded', 'uploaded'];

export async function uploadCommand(paths: string[], options: UploadCommandOptions, context: CliContext): Promise<ExitCode> {
  const target = resolveApi(context.sources, { api: options.api, key: options.key });
  say(context, `sluice: ${target.apiBase} (from ${target.from})`);
  const client = createClient({ apiBase: target.apiBase, ...(target.apiKey === undefined ? {} : { apiKey: target.apiKey }) });
  const limits = await askLimits(client, target, context.signal);
  if (limits.authRequired && target.apiKey === undefined) {
    throw usageError('this server accepts uploads only with an API key: pass --key <key> or set SLUICE_API_KEY', 'API_KEY_REQUIRED');
  }

  const board = createBoard({ stream: context.stderr, results: options.json ? context.stderr : context.stdout });
  const reports: FileReport[] = [];
  const accepted: Array<{ report: FileReport; source: FileSource }> = [];
  // Every file is checked before any is sent: a refusal shows up at once, not after the others' bytes.
  for (const given of paths) {
    const checked = await check(path.resolve(context.cwd, given), limits, options, target);
    reports.push(checked.report);
    if (checked.source === undefined) board.result(lineOf(checked.report));
    else accepted.push({ report: checked.report, source: checked.source });
  }

  try {
    await inParallel(accepted, options.parallel, async ({ report, source }) => {
      try {
        if (context.signal.aborted) {
          Object.assign(report, { outcome: 'cancelled', summary: 'not sent: cancelled' });
          return;
        }
        await send(client, source, report, options, board, context.signal);
      } finally {
        await source.close();
      }
    });
  } finally {
    board.close();
  }

  if (options.json) printJson(context, { api: target.apiBase, files: reports });
  if (context.signal.aborted) {
    const waiting = reports.filter((report) => report.outcome === 'interrupted');
    for (const report of waiting) say(context, `${report.filename}: still being processed; see it later with sluice status ${report.jobId} ${report.token}`);
    return exitCodes.interrupted;
  }
  return reports.every((report) => successful.includes(report.outcome)) ? exitCodes.ok : exitCodes.failed;
}

async function askLimits(client: SluiceClient, target: ApiTarget, signal: AbortSignal): Promise<LimitsResponse> {
  try {
    return await client.limits({ signal });
  } catch (error) {
    if (signal.aborted) throw error;
    const hint = target.local ? 'is `npm run dev` still running?' : 'check --api or SLUICE_API_BASE';
    const reason = isSluiceApiError(error) ? error.message : String(error);
    throw new CliError(`cannot reach the Sluice API at ${target.apiBase} (${reason}): ${hint}`, exitCodes.failed, 'API_UNREACHABLE');
  }
}

/** Opens the file and decides whether the server would take it: size, declared type and sniffed type. */
async function check(
  file: string,
  limits: LimitsResponse,
  options: UploadCommandOptions,
  target: ApiTarget,
): Promise<{ report: FileReport; source?: FileSource }> {
  const filename = path.basename(file);
  let source: FileSource;
  try {
    source = await openFileSource(file);
  } catch (error) {
    return { report: refused(file, filename, 'FILE_UNREADABLE', unreadable(file, error)) };
  }
  const report: FileReport = { path: file, filename, size: source.size, outcome: 'refused', summary: '' };
  const refuse = async (code: string, message: string) => {
    await source.close();
    Object.assign(report, { summary: message, error: { code, message } });
    return { report };
  };
  if (source.size === 0) return refuse('EMPTY_FILE', `${file} is empty: there is nothing to process`);
  if (source.size > limits.maxUploadBytes) {
    return refuse('SIZE_LIMIT_EXCEEDED', `${formatBytes(source.size)} (${source.size} bytes) is more than this server accepts: ${formatBytes(limits.maxUploadBytes)} (MAX_UPLOAD_BYTES)`);
  }
  const detected = await detectContentType(await source.head(headBytes), filename);
  const contentType = options.type ?? detected.contentType;
  report.contentType = contentType;
  const accepted = `it accepts ${limits.allowedContentTypes.join(', ')}`;
  const widen = target.local ? allowEverythingHint : 'the server operator can add it to ALLOWED_CONTENT_TYPES';
  if (!isContentTypeAllowed(contentType, limits.allowedContentTypes)) {
    const why = options.type === undefined ? `${detected.reason}, and ${contentType} is not accepted here` : `${contentType} (--type) is not accepted here`;
    return refuse('CONTENT_TYPE_NOT_ALLOWED', `${why}; ${accepted} (${widen})`);
  }
  // Processing rejects a file whose bytes are of a type not accepted, whatever was declared.
  if (detected.sniffed !== null && !isContentTypeAllowed(detected.sniffed, limits.allowedContentTypes)) {
    return refuse('CONTENT_TYPE_NOT_ALLOWED', `its bytes are ${detected.sniffed}, which processing would reject; ${accepted} (${widen})`);
  }
  return { report, source };
}

async function send(client: SluiceClient, source: FileSource, report: FileReport, options: UploadCommandOptions, board: Board, signal: AbortSignal): Promise<void> {
  const row = board.add(report.filename);
  const finish = (fields: Partial<FileReport>) => {
    Object.assign(report, fields);
    row.finish(lineOf(report));
  };
  try {
    const uploaded = await uploadFile(client, source, {
      filename: source.name,
      contentType: report.contentType ?? 'application/octet-stream',
      signal,
      onCreated: (state) => Object.assign(report, { jobId: state.jobId, token: state.token }),
      onProgress: (progress) => row.transferred(progress.bytesSent, progress.bytesTotal),
    });
    Object.assign(report, { jobId: uploaded.jobId, token: uploaded.token, job: uploaded.job });
    if (!options.wait) {
      finish({ outcome: 'uploaded', summary: `see the result with sluice status ${uploaded.jobId} ${uploaded.token}` });
      return;
    }
    row.status('queued');
    const job = await waitForJob(client, uploaded.jobId, uploaded.token, {
      signal,
      intervalMs: waitPollIntervalMs,
      onJob: (view) => row.status(statusText(view)),
    });
    finish({
      job,
      outcome: job.status as FileOutcome,
      summary: jobOutcome(job),
      ...(fileHasProblems(job) ? { fileHasProblems: true } : {}),
      ...(job.error === null ? {} : { error: job.error }),
    });
  } catch (error) {
    if (signal.aborted) {
      // uploadFile has already called presign/abort for an upload under way; a job past its upload
      // goes on being processed without us.
      const processing = report.job !== undefined;
      finish(processing ? { outcome: 'interrupted', summary: 'stopped waiting; the job goes on' } : { outcome: 'cancelled', summary: 'the upload was aborted and its job cancelled' });
      return;
    }
    const code = isSluiceApiError(error) ? error.code : 'ERROR';
    const message = error instanceof Error ? error.message : String(error);
    finish({ outcome: 'error', summary: message, error: { code, message } });
  }
}

function statusText(job: JobView): string {
  const attempt = job.attempts > 0 ? ` (attempt ${job.attempts} of ${job.maxAttempts})` : '';
  if (job.status === 'queued' && job.error !== null) return `queued for a retry after ${job.error.code}${attempt}`;
  return `${job.status.replace('_', ' ')}${job.status === 'processing' ? attempt : ''}`;
}

/** "✓ people.csv  CSV · 2 rows × 2 columns  (27 bytes, text/csv, job …)"; "! broken.json  Invalid JSON at line 4, column 1  (…)" */
export function lineOf(report: FileReport): string {
  const mark = report.fileHasProblems === true ? '!' : successful.includes(report.outcome) ? '✓' : '✗';
  const status = report.outcome === 'succeeded' ? '' : `${report.outcome}: `;
  // Only what the summary does not say already (the file analyzer's headline has size and type).
  const facts = [report.size === undefined ? undefined : formatBytes(report.size), report.contentType, report.jobId]
    .filter((fact): fact is string => fact !== undefined && !report.summary.includes(fact))
    .map((fact) => (fact === report.jobId ? `job ${fact}` : fact));
  return `${mark} ${report.filename}  ${status}${report.summary}${facts.length > 0 ? `  (${facts.join(', ')})` : ''}`;
}

function refused(file: string, filename: string, code: string, message: string): FileReport {
  return { path: file, filename, outcome: 'refused', summary: message, error: { code, message } };
}

function unreadable(file: string, error: unknown): string {
  if (isSluiceApiError(error)) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${file} does not exist`;
  if (code === 'EACCES') return `${file} cannot be read (permission denied)`;
  if (code === 'EISDIR') return `${file} is a directory: name the files in it`;
  return `${file} cannot be read: ${error instanceof Error ? error.message : String(error)}`;
}

/** Runs `work` over `items`, at most `limit` at a time, in order of the list. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) await work(items[index] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
