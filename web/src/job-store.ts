// The jobs this browser started, kept in localStorage so a reload loses nothing: the job's token
// (its only capability, returned once by `create`), the upload plan, and which Uppy file it belongs
// to, so Golden Retriever's restored files find their jobs again and resume instead of starting
// over. Read back through zod: localStorage is an edge like any other.
import * as z from 'zod';
import { jobIdSchema, jobTokenSchema, uploadPlanSchema, type UploadPlan } from '../../src/client/index.js';

const storageKey = 'sluice.jobs.v1';
/** Enough history to be useful, little enough that localStorage and the page stay small. */
const maxStoredJobs = 50;

/**
 * `uploading`: the job waits for its bytes (this page sends them, or will after a reload);
 * `submitted`: `complete` was called (or the job moved on), so the server owns it now;
 * `cancelled`: aborted from here. A job is never uploaded twice: a retry after `cancelled` makes a new one.
 */
export const uploadPhases = ['uploading', 'submitted', 'cancelled'] as const;
export type UploadPhase = (typeof uploadPhases)[number];

const storedJobSchema = z.object({
  jobId: jobIdSchema,
  token: jobTokenSchema,
  filename: z.string(),
  size: z.number().int().nonnegative(),
  contentType: z.string(),
  createdAt: z.string(),
  /** Uppy's file id while the file is in the Dashboard; Uppy derives it from the file, so a re-added file maps to the same job. */
  fileId: z.string().nullable(),
  plan: uploadPlanSchema,
  phase: z.enum(uploadPhases),
});
export type StoredJob = z.infer<typeof storedJobSchema>;

export interface NewJob {
  jobId: string;
  token: string;
  filename: string;
  size: number;
  contentType: string;
  fileId: string;
  plan: UploadPlan;
}

export class JobStore {
  private jobs: StoredJob[];

  constructor(private readonly storage: Storage = localStorage) {
    this.jobs = this.read();
  }

  /** Newest first. */
  list(): readonly StoredJob[] {
    return this.jobs;
  }

  get(jobId: string): StoredJob | undefined {
    return this.jobs.find((job) => job.jobId === jobId);
  }

  /** The job uploading this Uppy file, if any (a file has at most one job in `uploading`). */
  forFile(fileId: string): StoredJob | undefined {
    return this.jobs.find((job) => job.fileId === fileId && job.phase === 'uploading');
  }

  /** The newest job of this Uppy file in any phase (a submitted job keeps its file id). */
  latestFor(fileId: string): StoredJob | undefined {
    return this.jobs.find((job) => job.fileId === fileId);
  }

  add(job: NewJob): StoredJob {
    const stored: StoredJob = { ...job, createdAt: new Date().toISOString(), phase: 'uploading' };
    this.jobs = [stored, ...this.jobs.filter((other) => other.jobId !== job.jobId)];
    this.prune();
    this.write();
    return stored;
  }

  update(jobId: string, patch: Partial<Pick<StoredJob, 'phase' | 'fileId'>>): StoredJob | undefined {
    const index = this.jobs.findIndex((job) => job.jobId === jobId);
    const current = this.jobs[index];
    if (current === undefined) return undefined;
    const next = { ...current, ...patch };
    this.jobs = this.jobs.with(index, next);
    this.write();
    return next;
  }

  remove(jobId: string): void {
    this.jobs = this.jobs.filter((job) => job.jobId !== jobId);
    this.write();
  }

  /** Drops the oldest finished entries first; jobs still uploading are what a reload needs. */
  private prune(): void {
    while (this.jobs.length > maxStoredJobs) {
      const oldestFinished = this.jobs.findLastIndex((job) => job.phase !== 'uploading');
      this.jobs = this.jobs.toSpliced(oldestFinished === -1 ? this.jobs.length - 1 : oldestFinished, 1);
    }
  }

  private read(): StoredJob[] {
    let raw: unknown;
    try {
      raw = JSON.parse(this.storage.getItem(storageKey) ?? '[]');
    } catch {
      return [];
    }
    // One damaged entry must not cost the others.
    const entries = Array.isArray(raw) ? raw : [];
    return entries.flatMap((entry) => {
      const parsed = storedJobSchema.safeParse(entry);
      return parsed.success ? [parsed.data] : [];
    });
  }

  private write(): void {
    try {
      this.storage.setItem(storageKey, JSON.stringify(this.jobs));
    } catch {
      // Storage full or disabled (private mode): the page still works, it just forgets on reload.
    }
  }
}
