// Job rows: create, read, and the small non-transition writes (dispatch bookkeeping). State
// changes go through ./transitions.ts so each one is recorded in job_events.
import type { JobStatus } from '../client/schemas.js';
import type { Actor, Db } from './client.js';

// The statuses are the wire contract's (docs/architecture.md "Job state machine"); 0001_jobs.sql CHECKs the same list.
export type { JobStatus };

export type UploadKind = 'single' | 'multipart';

/** One `jobs` row as postgres.js returns it (columns camelCased, int8 as numbers). */
export interface JobRow {
  id: string;
  status: JobStatus;
  filename: string;
  objectKey: string;
  size: number;
  contentType: string;
  sha256: string | null;
  tokenHash: Buffer;
  clientId: string;
  uploadKind: UploadKind;
  uploadId: string | null;
  partSize: number | null;
  partCount: number | null;
  attempts: number;
  maxAttempts: number;
  runAfter: Date;
  leaseExpiresAt: Date | null;
  activationId: string | null;
  buildId: string | null;
  dispatchedAt: Date | null;
  /** jsonb: keys come back sorted. Written for the previous release; read result_json first. */
  result: unknown;
  /** The result as written, analyzers and fields in their order (0007_result_json.sql); null before that release. */
  resultJson: unknown;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  finishedAt: Date | null;
  /** When the sweep last looked in the bucket for this job's bytes (0004_upload_checks.sql). */
  uploadCheckedAt: Date | null;
  /** The ETag `complete` saw (quotes included): process/file reads with If-Match on it (0006_object_etag.sql). Null before `complete`, and for jobs queued by an older release. */
  objectEtag: string | null;
}

export interface JobEventRow {
  id: number;
  jobId: string;
  at: Date;
  event: string;
  fromStatus: JobStatus | null;
  toStatus: JobStatus;
  attempt: number;
  activationId: string | null;
  codeVersion: string | null;
  detail: Record<string, unknown> | null;
}

/** What `create` decides for a new job; every other column starts at its default. */
export type NewJob = Pick<
  JobRow,
  | 'id'
  | 'filename'
  | 'objectKey'
  | 'size'
  | 'contentType'
  | 'sha256'
  | 'tokenHash'
  | 'clientId'
  | 'uploadKind'
  | 'uploadId'
  | 'partSize'
  | 'partCount'
  | 'maxAttempts'
> & {
  /** `expires_at` is set from the database clock: now() + this window. */
  uploadWindowSeconds: number;
};

/**
 * Inserts the job and its 'created' event in one statement (a data-modifying CTE), so there is
 * never a job without its first event, even on a PgBouncer transaction-mode connection.
 */
export async function insertJob(db: Db, job: NewJob, actor: Actor): Promise<JobRow> {
  const rows = await db<JobRow[]>`
    WITH inserted AS (
      INSERT INTO jobs (id, filename, object_key, size, content_type, sha256, token_hash, client_id,
                        upload_kind, upload_id, part_size, part_count, max_attempts, expires_at)
      VALUES (${job.id}, ${job.filename}, ${job.objectKey}, ${job.size}, ${job.contentType}, ${job.sha256},
              ${job.tokenHash}, ${job.clientId}, ${job.uploadKind}, ${job.uploadId}, ${job.partSize},
              ${job.partCount}, ${job.maxAttempts}, now() + make_interval(secs => ${job.uploadWindowSeconds}))
      RETURNING *
    ), event AS (
      INSERT INTO job_events (job_id, event, from_status, to_status, attempt, activation_id, code_version)
      SELECT id, 'created', NULL, status, attempts, ${actor.activationId}, ${actor.codeVersion} FROM inserted
    )
    SELECT * FROM inserted`;
  const row = rows[0];
  if (row === undefined) throw new Error(`insertJob ${job.id}: no row returned`);
  return row;
}

export async function findJob(db: Db, id: string): Promise<JobRow | undefined> {
  const rows = await db<JobRow[]>`SELECT * FROM jobs WHERE id = ${id}`;
  return rows[0];
}

/** A job's history in the order it happened (identity order = commit order within a job's row lock). */
export async function listJobEvents(db: Db, jobId: string): Promise<JobEventRow[]> {
  return db<JobEventRow[]>`SELECT * FROM job_events WHERE job_id = ${jobId} ORDER BY id`;
}

/** Appends an event that is not a transition (a dispatch, a failed invoke): from = to = the current status. */
export async function appendJobEvent(
  db: Db,
  jobId: string,
  event: string,
  actor: Actor,
  detail: Record<string, unknown> | null = null,
): Promise<void> {
  await db`
    INSERT INTO job_events (job_id, event, from_status, to_status, attempt, activation_id, code_version, detail)
    SELECT id, ${event}, status, status, attempts, ${actor.activationId}, ${actor.codeVersion},
           ${detail === null ? null : db.json(detail as Parameters<Db['json']>[0])}
    FROM jobs WHERE id = ${jobId}`;
}
