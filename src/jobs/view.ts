// The job as the API shows it (docs/api.md: status): no token hash, keys, client ids or
// upload ids — only what the job's holder needs, with its history.
import type { JobEventRow, JobRow, JobStatus, UploadKind } from '../db/jobs.js';

export interface JobEventView {
  at: string;
  event: string;
  from: JobStatus | null;
  to: JobStatus;
  attempt: number;
  activationId: string | null;
  codeVersion: string | null;
  detail: Record<string, unknown> | null;
}

export interface JobView {
  id: string;
  status: JobStatus;
  filename: string;
  size: number;
  contentType: string;
  sha256: string | null;
  uploadKind: UploadKind;
  attempts: number;
  maxAttempts: number;
  /** The code version of the latest attempt. */
  buildId: string | null;
  createdAt: string;
  updatedAt: string;
  /** Until when the bytes may arrive (awaiting_upload). */
  expiresAt: string;
  /** When a queued job is due (retries wait here). */
  runAfter: string;
  finishedAt: string | null;
  /** The analyzers' summaries, once succeeded. */
  result: unknown;
  /** The last error: final for failed/rejected/expired, the reason of the retry while queued. */
  error: { code: string; message: string } | null;
  events: JobEventView[];
  /** presign/status only, while the file is stored: a signed GET that downloads it (src/jobs/status.ts). */
  downloadUrl?: string;
  downloadExpiresAt?: string;
}

export function toJobView(job: JobRow, events: readonly JobEventRow[]): JobView {
  return {
    id: job.id,
    status: job.status,
    filename: job.filename,
    size: job.size,
    contentType: job.contentType,
    sha256: job.sha256,
    uploadKind: job.uploadKind,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    buildId: job.buildId,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    expiresAt: job.expiresAt.toISOString(),
    runAfter: job.runAfter.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
    // result_json keeps the analyzers' order; jobs finished before it existed have only the jsonb.
    result: job.status === 'succeeded' ? (job.resultJson ?? job.result) : null,
    error: job.errorCode === null ? null : { code: job.errorCode, message: job.errorMessage ?? '' },
    events: events.map((event) => ({
      at: event.at.toISOString(),
      event: event.event,
      from: event.fromStatus,
      to: event.toStatus,
      attempt: event.attempt,
      activationId: event.activationId,
      codeVersion: event.codeVersion,
      detail: event.detail,
    })),
  };
}
