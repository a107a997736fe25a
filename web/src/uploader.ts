// Uppy, wired to the upload API through the typed client. Uppy does what it is good at — picking
// and dropping files, progress with speed and time left, pause/resume/cancel, part retries, and
// resume after a reload (Golden Retriever) — and every decision stays with the server:
//
//   preprocessor                 → presign/create   (one job per file; its plan says single or multipart)
//   getUploadParameters          → the single PUT from the plan (the URL is signed for this exact file)
//   createMultipartUpload        → the plan's uploadId (the server already created the upload)
//   signPart                     → presign/parts    (batched, just in time; part-signer.ts)
//   listParts                    → presign/parts    (`uploaded`, after a reload)
//   completeMultipartUpload      → presign/complete (the server completes, verifies, queues)
//   upload-success of a single   → presign/complete
//   abortMultipartUpload, removing a file, cancel → presign/abort (job cancelled)
//   upload-progress, pause, error → the job's card (progress, speed, paused, failed)
//
// Uppy's multipart `key` carries our job id: it is what Golden Retriever persists with the upload
// id, so a restored file leads back to its job (and its token, kept in the job store).
import AwsS3, { type AwsBody, type AwsS3Part, type AwsS3UploadParameters } from '@uppy/aws-s3';
import Uppy, { type Meta, type UppyFile } from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import GoldenRetriever, { type GoldenRetrieverOptions } from '@uppy/golden-retriever';
import {
  decideRetry,
  defaultRetryDelaysMs,
  defaultRetryPolicy,
  isSluiceApiError,
  selectPendingParts,
  sendableHeaders,
  type JobView,
  type LimitsResponse,
  type SluiceClient,
} from '../../src/client/index.js';
import { sleep } from '../../src/client/retry.js';
import { formatBytes } from './format.js';
import type { JobStore, StoredJob } from './job-store.js';
import { explainError, type Explanation } from './messages.js';
import type { UploadControls } from './jobs-panel.js';
import { PartSigner } from './part-signer.js';
import type { RetryReporter } from './server-status.js';
import { SpeedMeter, type UploadActivity, type UploadView } from './upload-state.js';

type SluiceUppy = Uppy<Meta, AwsBody>;
/** What the hooks need of a file; Uppy hands them files typed with its default body type. */
type SluiceFile = Pick<UppyFile<Meta, AwsBody>, 'id' | 'name' | 'type' | 'size' | 'data'>;

export interface UploaderEvents {
  /** A job exists for a file (its card can appear). */
  created(job: StoredJob): void;
  /** `complete` was called: the server owns the job now. */
  submitted(job: StoredJob, view: JobView | undefined): void;
  cancelled(job: StoredJob, view: JobView | undefined): void;
  /** Something about one job the page should say (the upload itself reports through Uppy). */
  notice(job: StoredJob, notice: Explanation): void;
  /** The server wants an API key (401 on create). */
  authRequired(): void;
  /** A file was refused before any byte was sent (by the server's limits, here or at `create`). */
  refused(filename: string, reason: Explanation): void;
  /** A refused file was removed or has since been accepted. */
  settled(filename: string): void;
  /** How the upload of a job's bytes is going: progress and speed, paused, failed, waiting after a reload. */
  progress(job: StoredJob, upload: UploadView): void;
}

export interface UploaderOptions {
  target: HTMLElement;
  client: () => SluiceClient;
  store: JobStore;
  limits: LimitsResponse | undefined;
  events: UploaderEvents;
  /** Told while an API call waits to be retried, so the page can say why nothing moves. */
  retries: RetryReporter;
}

/** `create` calls in flight at once when many files are dropped together. */
const createConcurrency = 4;
/** A single PUT URL this close to its expiry is not started: the job is replaced by a fresh one. */
const singleUrlExpiryMarginMs = 60_000;
/**
 * Golden Retriever keeps file bytes in IndexedDB so a reload can resume without asking for the file
 * again. Its default (10 MiB a file) would leave every multipart upload to be re-picked; above
 * this size the file is not copied (the Dashboard then asks for it again, and the upload resumes).
 */
const resumableCopyMaxFileBytes = 1024 * 1024 * 1024;
const resumableCopyMaxTotalBytes = 2 * 1024 * 1024 * 1024;

export function startUploader(options: UploaderOptions): { uppy: SluiceUppy; controls: UploadControls } {
  const { store, events } = options;
  const signers = new Map<string, PartSigner>();
  const meters = new Map<string, SpeedMeter>();
  const withRetries = <T>(call: () => Promise<T>): Promise<T> => retried(call, options.retries);

  const uppy: SluiceUppy = new Uppy<Meta, AwsBody>({
    // Golden Retriever stores state under this id: a stable one finds it again after a reload.
    id: 'sluice',
    autoProceed: false,
    restrictions: restrictionsFrom(options.limits),
    logger: quietLogger,
  });

  uppy.use(Dashboard, {
    inline: true,
    target: options.target,
    width: '100%',
    height: 360,
    theme: 'auto',
    proudlyDisplayPoweredByUppy: false,
    showRemoveButtonAfterComplete: true,
    // A file list that looks the same for one file as for many.
    singleFileFullScreen: false,
    note: noteFrom(options.limits),
  });

  // Golden Retriever hands `indexedDB` on to its IndexedDBStore, which reads these two limits
  // (lib/index.js, lib/IndexedDBStore.js); its option type names only the database fields.
  const resumableCopies: NonNullable<GoldenRetrieverOptions['indexedDB']> & { maxFileSize: number; maxTotalSize: number } = {
    maxFileSize: resumableCopyMaxFileBytes,
    maxTotalSize: resumableCopyMaxTotalBytes,
  };
  uppy.use(GoldenRetriever, { indexedDB: resumableCopies });

  async function createJob(file: SluiceFile): Promise<StoredJob> {
    const size = file.data instanceof Blob ? file.data.size : (file.size ?? 0);
    const contentType = file.type || 'application/octet-stream';
    const created = await withRetries(() => options.client().create({ filename: file.name, size, contentType }));
    const job = store.add({ jobId: created.jobId, token: created.token, filename: file.name, size, contentType, fileId: file.id, plan: created.upload });
    events.created(job);
    events.progress(job, { activity: 'starting', bytesUploaded: 0, bytesTotal: size });
    return job;
  }

  function jobFor(file: SluiceFile): StoredJob {
    const job = store.forFile(file.id);
    if (job === undefined) throw new Error(`No upload job for ${file.name}; remove the file and add it again.`);
    return job;
  }

  function jobByKey(key: string): StoredJob {
    const job = store.get(key);
    if (job === undefined) throw new Error('This upload’s job is no longer known to this page; remove the file and add it again.');
    return job;
  }

  function signerFor(job: StoredJob): PartSigner {
    const existing = signers.get(job.jobId);
    if (existing !== undefined) return existing;
    if (job.plan.kind !== 'multipart') throw new Error('Parts asked for a single-PUT upload.');
    // Retried here like every API call: Uppy's own retries of a signature (its retryDelays, a few
    // seconds in all) would give up during an outage the server answers with 503.
    const signer = new PartSigner((partNumbers) => withRetries(() => options.client().parts({ jobId: job.jobId, token: job.token, partNumbers })), job.plan.partCount);
    signers.set(job.jobId, signer);
    return signer;
  }

  /** Idempotent: Uppy and the page may both ask to abort the same upload. */
  async function abortJob(job: StoredJob): Promise<void> {
    if (store.get(job.jobId)?.phase !== 'uploading') return;
    const cancelled = store.update(job.jobId, { phase: 'cancelled', fileId: null }) ?? job;
    signers.delete(job.jobId);
    try {
      const { job: view } = await withRetries(() => options.client().abort({ jobId: job.jobId, token: job.token }));
      events.cancelled(cancelled, view);
    } catch (error) {
      events.cancelled(cancelled, undefined);
      events.notice(cancelled, explainError(error));
    }
  }

  /**
   * Every byte is stored: `complete` (after a single PUT, or for a restored file whose upload had
   * finished). The job keeps its file id, so after a reload the file is known to be done.
   */
  async function submit(job: StoredJob): Promise<void> {
    const submitted = store.update(job.jobId, { phase: 'submitted' }) ?? job;
    try {
      const { job: view } = await withRetries(() => options.client().complete({ jobId: job.jobId, token: job.token }));
      events.submitted(submitted, view);
    } catch (error) {
      // The bytes are stored; the sweep queues a job whose client never completed it (docs/architecture.md), so
      // the card keeps watching the job rather than giving up on it.
      events.submitted(submitted, undefined);
      events.notice(submitted, explainError(error));
    }
  }

  // One job per file, before any byte moves: the plan decides single or multipart and the part size.
  uppy.addPreProcessor(async (fileIDs) => {
    await forEachLimited(fileIDs, createConcurrency, async (fileId) => {
      const file = uppy.getFile(fileId);
      if (file === undefined || store.forFile(fileId) !== undefined) return;
      uppy.emit('preprocess-progress', file, { mode: 'indeterminate', message: 'Preparing the upload…' });
      try {
        await createJob(file);
        events.settled(file.name);
      } catch (error) {
        const reason = explainError(error);
        events.refused(file.name, reason);
        uppy.emit('upload-error', file, { name: 'UploadRefused', message: reason.title, details: reason.detail });
        if (isSluiceApiError(error) && error.code === 'UNAUTHORIZED') events.authRequired();
      } finally {
        uppy.emit('preprocess-complete', file);
      }
    });
  });

  uppy.use(AwsS3, {
    limit: 6,
    retryDelays: [...defaultRetryDelaysMs],
    shouldUseMultipart: (file) => store.forFile(file.id)?.plan.kind === 'multipart',
    // Uppy passes the file's bytes here, not the file; the part size must be the server's exactly.
    getChunkSize: (data) => {
      const file = uppy.getFiles().find((candidate) => candidate.data === data);
      const plan = file === undefined ? undefined : store.forFile(file.id)?.plan;
      if (plan?.kind !== 'multipart') throw new Error('No multipart plan for this file.');
      return plan.partSize;
    },
    getUploadParameters: async (file): Promise<AwsS3UploadParameters> => {
      let job = jobFor(file);
      if (job.plan.kind !== 'single') throw new Error('The server planned a multipart upload for this file.');
      // A URL from before a long pause or a reload may be past its expiry: a fresh job is cheap
      // below the multipart threshold, and the old one is cancelled.
      if ((presignedUrlExpiresAtMs(job.plan.url) ?? Number.POSITIVE_INFINITY) - singleUrlExpiryMarginMs <= Date.now()) {
        await abortJob(job);
        job = await createJob(file);
        if (job.plan.kind !== 'single') throw new Error('The server planned a multipart upload for this file.');
      }
      return { method: 'PUT', url: job.plan.url, headers: sendableHeaders(job.plan.headers) };
    },
    createMultipartUpload: (file) => {
      const job = jobFor(file);
      if (job.plan.kind !== 'multipart') throw new Error('The server planned a single upload for this file.');
      return { uploadId: job.plan.uploadId, key: job.jobId };
    },
    listParts: async (_file, { key }): Promise<AwsS3Part[]> => {
      const job = jobByKey(key);
      if (job.plan.kind !== 'multipart') throw new Error('Parts asked for a single-PUT upload.');
      const listing = await withRetries(() => options.client().parts({ jobId: job.jobId, token: job.token, partNumbers: [] }));
      // Parts of the wrong size (a torn upload) are not reported, so Uppy sends them again.
      const { done } = selectPendingParts(job.plan, job.size, listing.uploaded);
      signerFor(job).markStored(done.keys());
      return [...done].map(([partNumber, etag]) => ({ PartNumber: partNumber, ETag: etag }));
    },
    signPart: async (_file, { key, partNumber }): Promise<AwsS3UploadParameters> => {
      const signed = await signerFor(jobByKey(key)).get(partNumber);
      return { method: 'PUT', url: signed.url, headers: sendableHeaders(signed.headers ?? {}) };
    },
    completeMultipartUpload: async (_file, { key, parts }) => {
      const job = jobByKey(key);
      const completed = parts.flatMap((part) => (part.PartNumber === undefined || part.ETag === undefined ? [] : [{ partNumber: part.PartNumber, etag: part.ETag }]));
      const { job: view } = await withRetries(() => options.client().complete({ jobId: job.jobId, token: job.token, parts: completed }));
      signers.delete(job.jobId);
      events.submitted(store.update(job.jobId, { phase: 'submitted' }) ?? job, view);
      return {};
    },
    abortMultipartUpload: async (_file, { key }) => {
      const job = store.get(key);
      if (job !== undefined) await abortJob(job);
    },
  });

  uppy.on('upload-success', (file) => {
    const job = file === undefined ? undefined : store.forFile(file.id);
    if (job?.plan.kind === 'single') void submit(job);
  });
  uppy.on('restriction-failed', (file, error) => {
    if (file === undefined) return;
    const tooLarge = options.limits !== undefined && (file.size ?? 0) > options.limits.maxUploadBytes;
    events.refused(file.name, { title: tooLarge ? 'The file is too large' : 'This type of file is not accepted', detail: `${error.message}.` });
  });
  // Removing a file or cancelling everything: a single PUT has no abort hook in Uppy, so the job is
  // cancelled here (a multipart one may be too, by Uppy: abortJob runs once either way).
  uppy.on('file-removed', (file) => {
    events.settled(file.name);
    const job = store.forFile(file.id);
    if (job !== undefined) void abortJob(job);
  });

  // The upload's half of each card: progress and speed, pauses, failures. Uppy's status bar shows
  // the same numbers; the card must never say something else.
  const report = (file: SluiceFile | undefined, activity: UploadActivity, message?: string): void => {
    const job = file === undefined ? undefined : store.forFile(file.id);
    const current = file === undefined ? undefined : uppy.getFile(file.id);
    if (job === undefined || current === undefined) return;
    const bytesTotal = current.progress.bytesTotal ?? job.size;
    const bytesUploaded = current.progress.bytesUploaded || 0;
    const meter = meters.get(job.jobId) ?? new SpeedMeter();
    meters.set(job.jobId, meter);
    if (activity !== 'uploading') meter.restart();
    const bytesPerSecond = activity === 'uploading' ? meter.sample(bytesUploaded) : undefined;
    events.progress(job, {
      activity,
      bytesUploaded,
      bytesTotal,
      ...(bytesPerSecond === undefined ? {} : { bytesPerSecond }),
      ...(message === undefined ? {} : { message }),
    });
  };
  const activityOf = (file: SluiceFile): UploadActivity => (uppy.getFile(file.id)?.isPaused === true ? 'paused' : 'uploading');
  uppy.on('upload-progress', (file) => {
    if (file !== undefined) report(file, activityOf(file));
  });
  uppy.on('upload-pause', (file, isPaused) => report(file, isPaused ? 'paused' : 'uploading'));
  uppy.on('pause-all', () => uppy.getFiles().forEach((file) => report(file, 'paused')));
  uppy.on('resume-all', () => uppy.getFiles().forEach((file) => report(file, 'uploading')));
  uppy.on('upload-retry', (file) => report(file, 'retrying'));
  uppy.on('retry-all', (files) => files.forEach((file) => report(file, 'retrying')));
  uppy.on('upload-error', (file, error) => report(file, 'failed', error.message));

  // After a reload Golden Retriever brings back every file of the interrupted batch, the finished
  // ones included, and the Dashboard would offer to upload them all again. Only what is unfinished
  // stays: a file whose job went past its upload is taken out of the box (its card shows the job).
  uppy.on('restored', () => {
    for (const file of uppy.getFiles()) {
      const uploading = store.forFile(file.id);
      const finishedJob = uploading === undefined ? store.latestFor(file.id) : undefined;
      const started = file.progress.uploadStarted !== null && file.progress.uploadStarted !== undefined;
      if (uploading !== undefined && file.progress.uploadComplete) {
        // Every byte went up but the page was gone before `complete`: send it now.
        void submit(uploading).then(() => uppy.removeFile(file.id));
      } else if (uploading === undefined && (file.progress.uploadComplete || (started && finishedJob?.phase === 'submitted'))) {
        uppy.removeFile(file.id);
      } else if (uploading !== undefined) {
        report(file, file.isGhost ? 'needs-file' : 'ready');
      }
    }
  });

  const controls: UploadControls = {
    localFile(jobId) {
      const fileId = store.get(jobId)?.fileId;
      const data = fileId === null || fileId === undefined ? undefined : uppy.getFile(fileId)?.data;
      return data instanceof Blob ? data : undefined;
    },
    async cancel(jobId) {
      const job = store.get(jobId);
      if (job === undefined) return;
      const fileId = job.fileId;
      // Cancelled first, so taking the file out of the box does not cancel it a second time.
      await abortJob(job);
      if (fileId !== null && uppy.getFile(fileId) !== undefined) uppy.removeFile(fileId);
    },
  };

  return { uppy, controls };
}

/**
 * Uppy logs every failed or refused upload as a console error. The page shows each of them to the
 * person (upload notices, job cards, Uppy's own informer), so they are kept as warnings: a console
 * error then always means a fault in the page itself.
 */
const quietLogger = {
  debug: (): void => undefined,
  warn: (...args: unknown[]): void => console.warn('[Uppy]', ...args),
  error: (...args: unknown[]): void => console.warn('[Uppy]', ...args),
};

/**
 * Retries transient failures of API calls (network, 5xx, 429; 503 for longer, honouring
 * Retry-After) on the client's policy, and reports each wait.
 */
async function retried<T>(call: () => Promise<T>, reporter: RetryReporter): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      const result = await call();
      reporter.settled();
      return result;
    } catch (error) {
      if (!isSluiceApiError(error)) throw error;
      const decision = decideRetry(defaultRetryPolicy, error, failures, false);
      if (decision.action === 'fail') {
        reporter.settled();
        throw error;
      }
      reporter.retrying({ error, failures, delayMs: decision.delayMs });
      await sleep(decision.delayMs);
    }
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
}

/** When a SigV4 presigned URL stops working: `X-Amz-Date` (UTC, basic format) plus `X-Amz-Expires` seconds. */
export function presignedUrlExpiresAtMs(url: string): number | undefined {
  const query = new URL(url).searchParams;
  const signedAt = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date') ?? '');
  const expiresSeconds = Number(query.get('X-Amz-Expires'));
  if (signedAt === null || !Number.isFinite(expiresSeconds)) return undefined;
  const [, year, month, day, hour, minute, second] = signedAt.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(year, month - 1, day, hour, minute, second) + expiresSeconds * 1000;
}

function restrictionsFrom(limits: LimitsResponse | undefined): { maxFileSize: number | null; allowedFileTypes: string[] | null } {
  if (limits === undefined) return { maxFileSize: null, allowedFileTypes: null };
  const types = limits.allowedContentTypes.map((type) => type.trim().toLowerCase());
  return { maxFileSize: limits.maxUploadBytes, allowedFileTypes: types.includes('*/*') ? null : types };
}

function noteFrom(limits: LimitsResponse | undefined): string {
  if (limits === undefined) return 'Files go straight to storage and are processed one by one.';
  const types = limits.allowedContentTypes.includes('*/*') ? 'any type' : limits.allowedContentTypes.join(', ');
  return `Up to ${formatBytes(limits.maxUploadBytes)} per file · ${types}`;
}
