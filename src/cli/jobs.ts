// `sluice jobs list|show|retry|cancel`: an operator's view of the jobs table, straight from
// Postgres (DATABASE_URL, or the running `npm run dev`'s database), through the same query and
// transition modules the functions use.
import os from 'node:os';
import { jobIdSchema, jobStatuses, type JobStatus } from '../client/schemas.js';
import { maxAttemptsDefault } from '../config.js';
import { createSql, type Actor, type Sql } from '../db/client.js';
import { findJob, listJobEvents, type JobRow } from '../db/jobs.js';
import { listJobs, retryFailedJob, type JobListRow } from '../db/operator.js';
import { dispatchJob, type DispatchOutcome } from '../jobs/dispatch.js';
import { cancelJob } from '../jobs/transitions.js';
import { toJobView, type JobView } from '../jobs/view.js';
import { createStorage, removeUpload } from '../storage/spaces.js';
import { formatBytes } from '../../web/src/format.js';
import { attemptsOf, type AttemptView } from './attempts.js';
import { defaultListLimit, maxListLimit } from './defaults.js';
import { printJson, say, tell, type CliContext } from './context.js';
import { CliError, exitCodes, usageError, type ExitCode } from './errors.js';
import { jobOutcome } from './summary.js';
import { databaseOf, describeDatabase, invokeContextOf, maxConcurrentJobsOf, resolveOperator, storageOf, type OperatorTarget } from './target.js';

/** Lets a finishing command end its connection without hanging on a server that went away. */
const closeTimeoutSeconds = 5;

interface Flags {
  json: boolean;
  api?: string;
}

export interface ListFlags extends Flags {
  status?: string;
  since?: string;
  limit?: string;
}

export async function jobsList(flags: ListFlags, context: CliContext): Promise<ExitCode> {
  const filter = {
    statuses: flags.status === undefined ? [] : parseStatuses(flags.status),
    since: flags.since === undefined ? undefined : parseSince(flags.since, new Date()),
    limit: flags.limit === undefined ? defaultListLimit : parseLimit(flags.limit),
  };
  return withDatabase(flags, context, async (db) => {
    const rows = await listJobs(db, filter);
    if (flags.json) printJson(context, { jobs: rows.map(listEntry) });
    else printTable(context, rows);
    return exitCodes.ok;
  });
}

export async function jobsShow(id: string, flags: Flags, context: CliContext): Promise<ExitCode> {
  const jobId = parseJobId(id);
  return withDatabase(flags, context, async (db) => {
    const job = await mustFind(db, jobId);
    const view = toJobView(job, await listJobEvents(db, jobId));
    const attempts = attemptsOf(view.events);
    if (flags.json) printJson(context, { job: { ...view, ...operatorFields(job), attemptsDetail: attempts } });
    else printJob(context, view, job, attempts);
    return exitCodes.ok;
  });
}

export async function jobsRetry(id: string, flags: Flags, context: CliContext): Promise<ExitCode> {
  const jobId = parseJobId(id);
  return withDatabase(flags, context, async (db, target) => {
    const job = await mustFind(db, jobId);
    const retried = job.status === 'failed' ? await retryFailedJob(db, jobId, maxAttemptsDefault, operatorActor, operatorDetail('sluice jobs retry')) : undefined;
    if (retried === undefined) {
      const now = job.status === 'failed' ? (await mustFind(db, jobId)).status : job.status;
      throw new CliError(`job ${jobId} is ${now}; only a failed job can be retried`, exitCodes.failed, 'INVALID_STATE');
    }
    const invoke = invokeContextOf(target);
    const dispatch: DispatchOutcome | undefined =
      'context' in invoke ? await dispatchJob(jobId, { db, context: invoke.context, actor: operatorActor, maxConcurrentJobs: maxConcurrentJobsOf(target) }) : undefined;
    const view = toJobView(await mustFind(db, jobId), await listJobEvents(db, jobId));
    if (flags.json) {
      printJson(context, { job: view, dispatch: dispatch ?? null });
    } else {
      tell(context, `✓ ${view.filename}  queued again with ${maxAttemptsDefault} more attempts (${view.attempts} used, at most ${view.maxAttempts})`);
      tell(context, dispatchNote(dispatch, 'missing' in invoke ? invoke.missing : undefined));
    }
    return exitCodes.ok;
  });
}

export async function jobsCancel(id: string, flags: Flags, context: CliContext): Promise<ExitCode> {
  const jobId = parseJobId(id);
  return withDatabase(flags, context, async (db, target) => {
    const job = await mustFind(db, jobId);
    let note = 'it was already cancelled';
    if (job.status !== 'cancelled') {
      const cancelled = job.status === 'awaiting_upload' ? await cancelJob(db, jobId, operatorActor) : undefined;
      if (cancelled === undefined) {
        const now = (await mustFind(db, jobId)).status;
        // The job state machine (docs/architecture.md) has no way out of queued or processing but processing it.
        const why = now === 'queued' || now === 'processing' ? ': once uploaded, a job runs to its end' : '';
        throw new CliError(`job ${jobId} is ${now}; only an upload in progress (awaiting_upload) can be cancelled${why}`, exitCodes.failed, 'INVALID_STATE');
      }
      note = await removeBytes(target, cancelled);
    }
    const view = toJobView(await mustFind(db, jobId), await listJobEvents(db, jobId));
    if (flags.json) printJson(context, { job: view });
    else tell(context, `✓ ${view.filename}  cancelled: ${note}`);
    return exitCodes.ok;
  });
}

/** The operator's writes carry no activation or build; the event detail says who. */
const operatorActor: Actor = { activationId: null, codeVersion: null };

function operatorDetail(command: string): Record<string, unknown> {
  return { by: command, user: os.userInfo().username, host: os.hostname() };
}

async function removeBytes(target: OperatorTarget, job: JobRow): Promise<string> {
  const config = storageOf(target);
  // Without Spaces settings the job is cancelled all the same; the bucket's lifecycle rule removes
  // incomplete multipart uploads after a day (src/storage/bucket-setup.ts).
  if ('missing' in config) return `its bytes were left in the bucket (${config.missing})`;
  const storage = createStorage(config);
  try {
    await removeUpload(storage, job.objectKey, job.uploadId);
    return 'its bytes were removed from the bucket';
  } catch (error) {
    return `removing its bytes failed (${error instanceof Error ? error.message : String(error)}); the bucket's lifecycle rule removes incomplete uploads after a day`;
  } finally {
    storage.client.destroy();
  }
}

function dispatchNote(outcome: DispatchOutcome | undefined, missing: string | undefined): string {
  switch (outcome) {
    case undefined:
      return `  it starts with the next sweep (every minute), or now with sluice sweep (no dispatch from here: ${missing ?? 'no access key'})`;
    case 'dispatched':
      return '  process/file started for it';
    case 'capped':
      return '  all MAX_CONCURRENT_JOBS slots are busy: it starts when one frees up';
    case 'not_queued':
      return '  another dispatcher has started it already';
    default:
      return `  starting process/file failed (${outcome}): the next sweep tries again`;
  }
}

async function withDatabase(flags: Flags, context: CliContext, work: (db: Sql, target: OperatorTarget) => Promise<ExitCode>): Promise<ExitCode> {
  const target = resolveOperator(context.sources, { api: flags.api });
  const config = databaseOf(target);
  say(context, `sluice: database ${describeDatabase(config)} (from ${target.from})`);
  const db = createSql(config);
  try {
    return await work(db, target);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`the database ${describeDatabase(config)} failed: ${error instanceof Error ? error.message : String(error)}`, exitCodes.failed, 'DATABASE_ERROR');
  } finally {
    await db.end({ timeout: closeTimeoutSeconds });
  }
}

async function mustFind(db: Sql, jobId: string): Promise<JobRow> {
  const job = await findJob(db, jobId);
  if (job === undefined) throw new CliError(`no job ${jobId} in this database: sluice jobs list shows the recent ones`, exitCodes.failed, 'JOB_NOT_FOUND');
  return job;
}

export function parseJobId(value: string): string {
  if (!jobIdSchema.safeParse(value).success) throw usageError(`"${value}" is not a job id (a UUID, as sluice jobs list shows)`);
  return value.toLowerCase();
}

export function parseStatuses(value: string): JobStatus[] {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(jobStatuses as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) throw usageError(`--status takes ${jobStatuses.join(', ')} (comma-separated), not "${value}"`);
  return names as JobStatus[];
}

const secondsPerUnit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** "30m", "2h", "7d", "1w" back from `now`, or an ISO date or date-time. */
export function parseSince(value: string, now: Date): Date {
  const relative = /^(\d+)\s*([smhdw])$/i.exec(value.trim());
  if (relative !== null) return new Date(now.getTime() - Number(relative[1]) * (secondsPerUnit[(relative[2] ?? 's').toLowerCase()] ?? 1) * 1000);
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(value.trim()) ? new Date(value.trim()) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) throw usageError(`--since takes a duration back from now (30m, 2h, 7d, 1w) or a date (2026-05-01, 2026-05-01T12:00Z), not "${value}"`);
  return parsed;
}

export function parseLimit(value: string): number {
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > maxListLimit) throw usageError(`--limit takes a whole number from 1 to ${maxListLimit}, not "${value}"`);
  return limit;
}

function listEntry(row: JobListRow) {
  return {
    id: row.id,
    status: row.status,
    filename: row.filename,
    size: row.size,
    contentType: row.contentType,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    buildId: row.buildId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    errorCode: row.errorCode,
  };
}

/** What the API's view leaves out and an operator needs: where the bytes are and who holds the job. */
function operatorFields(job: JobRow) {
  return {
    objectKey: job.objectKey,
    uploadId: job.uploadId,
    clientId: job.clientId,
    activationId: job.activationId,
    leaseExpiresAt: job.leaseExpiresAt?.toISOString() ?? null,
    dispatchedAt: job.dispatchedAt?.toISOString() ?? null,
  };
}

function printTable(context: CliContext, rows: readonly JobListRow[]): void {
  if (rows.length === 0) {
    tell(context, 'no jobs match');
    return;
  }
  const table = [
    ['ID', 'STATUS', 'ATTEMPTS', 'SIZE', 'CREATED', 'FILE', 'ERROR'],
    ...rows.map((row) => [row.id, row.status, `${row.attempts}/${row.maxAttempts}`, formatBytes(row.size), shortTime(row.createdAt), row.filename, row.errorCode ?? '']),
  ];
  const widths = table[0]?.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? '').length))) ?? [];
  for (const cells of table) tell(context, cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

function printJob(context: CliContext, view: JobView, job: JobRow, attempts: readonly AttemptView[]): void {
  const out = (line: string) => tell(context, line);
  out(`${view.id}  ${view.filename}  ${view.status}`);
  out(`  ${jobOutcome(view)}`);
  out(`  ${formatBytes(view.size)} (${view.size} bytes), ${view.contentType}, ${view.uploadKind} upload${view.sha256 === null ? '' : `, sha256 ${view.sha256}`}`);
  out(`  object ${job.objectKey}`);
  out(`  created ${shortTime(job.createdAt)}, updated ${shortTime(job.updatedAt)}${job.finishedAt === null ? '' : `, finished ${shortTime(job.finishedAt)}`}`);
  if (view.status === 'queued') out(`  due ${shortTime(job.runAfter)}${job.dispatchedAt === null ? '' : `, dispatched ${shortTime(job.dispatchedAt)}`}`);
  if (view.status === 'processing' && job.leaseExpiresAt !== null) out(`  leased by ${job.activationId ?? '?'} until ${shortTime(job.leaseExpiresAt)}`);
  out(`attempts: ${view.attempts} of ${view.maxAttempts}`);
  for (const attempt of attempts) {
    const duration = attempt.endedAt === null ? '' : ` (${((Date.parse(attempt.endedAt) - Date.parse(attempt.startedAt)) / 1000).toFixed(1)} s)`;
    out(`  #${attempt.attempt}  ${attempt.outcome}${duration}  build ${attempt.build ?? '?'}  activation ${attempt.activationId ?? '?'}  ${shortTime(new Date(attempt.startedAt))}${attempt.error === null ? '' : `  ${attempt.error}`}`);
  }
  out('events:');
  for (const event of view.events) {
    const move = event.from === null ? `→ ${event.to}` : event.from === event.to ? event.to : `${event.from} → ${event.to}`;
    const who = [event.attempt > 0 ? `attempt ${event.attempt}` : '', event.codeVersion === null ? '' : `build ${event.codeVersion}`, event.detail === null ? '' : JSON.stringify(event.detail)].filter(Boolean).join('  ');
    out(`  ${shortTime(new Date(event.at), true)}  ${event.event.padEnd(16)} ${move}${who === '' ? '' : `  ${who}`}`);
  }
}

/** UTC, to the second ("2026-05-01 12:00:03Z"), or to the millisecond for events that follow each other closely. */
function shortTime(date: Date, milliseconds = false): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, milliseconds ? 23 : 19)}Z`;
}
