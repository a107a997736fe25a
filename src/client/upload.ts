// uploadFile: create a job, send the bytes straight to the store (one presigned PUT, or a multipart
// upload with parts signed just in time and sent in parallel), then `complete`. Resumable from
// {jobId, token} after a reload, cancellable through an AbortSignal, retried per a policy given as
// data (retry.ts). Isomorphic: Blob, fetch and AbortSignal only.
import type { SluiceClient } from './api.js';
import { describe } from './api.js';
import { clientErrorCodes, parseRetryAfterSeconds, SluiceApiError } from './errors.js';
import { nextSignBatch, partByteRange, planFitsSize, selectPendingParts } from './plan.js';
import { decideRetry, defaultRetryPolicy, PauseGate, sleep, type RetryNotice, type RetryPolicy } from './retry.js';
import type { JobView, MultipartUploadPlan, PartsResponse, SignedPart, SingleUploadPlan, UploadPlan } from './schemas.js';
import { maxPartsPerSignRequest } from './schemas.js';

/**
 * Anything that can hand out byte ranges: a Blob/File or an adapter. In Node, open files with
 * `openFileSource` (./file-source.ts), not `fs.openAsBlob`, whose size is wrong above 4 GiB on Node 20.
 */
export interface UploadSourceLike {
  readonly size: number;
  readonly type?: string;
  readonly name?: string;
  slice(start: number, end: number): Blob | ArrayBuffer | Uint8Array<ArrayBuffer> | Promise<Blob | ArrayBuffer | Uint8Array<ArrayBuffer>>;
}
export type UploadSource = Blob | UploadSourceLike;

export interface UploadProgress {
  /** Bytes the store has confirmed (whole parts; fetch reports no finer upload progress). */
  bytesSent: number;
  bytesTotal: number;
  partsDone: number;
  partCount: number;
  /** The part that has just been stored; absent on the first event and for a single PUT. */
  part?: { partNumber: number; size: number };
}

/** What a caller persists to resume after a reload (like Uppy's Golden Retriever keeps uploadId). */
export interface UploadState {
  jobId: string;
  token: string;
  /** The plan `create` returned; without it, resume relies on `parts` echoing partSize/partCount. */
  upload?: UploadPlan;
}

export interface UploadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
  /** Called once the job exists, before any byte is sent: persist this to resume later. */
  onCreated?: (state: Required<UploadState>) => void;
  /** Parts in flight at once (Uppy's default limit is also small; each holds one part's connection). */
  partConcurrency?: number;
  retryDelaysMs?: readonly number[];
  /** Delays for 503 (the server's database or store is down for now); see defaultUnavailableRetryDelaysMs. */
  unavailableRetryDelaysMs?: readonly number[];
  shouldRetry?: (status: number) => boolean;
  maxRetryAfterMs?: number;
  /** Called before each wait for a retry, so the caller can say what is happening instead of looking stuck. */
  onRetry?: (notice: RetryNotice) => void;
  /** Part URLs signed per `parts` call, at most 100. */
  signBatchSize?: number;
  /** Continue the upload of an existing job instead of creating one. */
  resume?: UploadState;
  /** On cancel through `signal`, also call `abort` so the job is cancelled and its parts freed. Default true; pass false to pause (resume later). */
  abortJobOnCancel?: boolean;
  /** Defaults to the File's name; required for a Blob without one. */
  filename?: string;
  /** Defaults to the Blob's type, else application/octet-stream. */
  contentType?: string;
  sha256?: string;
}

export interface UploadResult {
  jobId: string;
  token: string;
  job: JobView;
}

export const defaultPartConcurrency = 4;
/** Enough to keep 4 parallel parts fed for a few rounds, few enough that URLs are used long before they expire. */
export const defaultSignBatchSize = 16;
/** A cached part URL this close to its expiry is re-signed rather than risked. */
export const partUrlExpiryMarginMs = 30_000;
const defaultContentType = 'application/octet-stream';

/** Browsers forbid setting these (fetch computes them); the signature still covers the real values. */
const headersSetByFetch = new Set(['content-length', 'host', 'connection']);

/** A presigned request's headers without the ones fetch sets itself (and a browser refuses from scripts). */
export function sendableHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !headersSetByFetch.has(name.toLowerCase())));
}

interface Context {
  client: SluiceClient;
  policy: RetryPolicy;
  onRetry: ((notice: RetryNotice) => void) | undefined;
  gate: PauseGate;
  /** Aborts on the caller's cancel and when a sibling request has failed for good. */
  signal: AbortSignal;
}

export async function uploadFile(client: SluiceClient, file: UploadSource, options: UploadOptions = {}): Promise<UploadResult> {
  const userSignal = options.signal;
  userSignal?.throwIfAborted();
  const policy: RetryPolicy = {
    retryDelaysMs: options.retryDelaysMs ?? defaultRetryPolicy.retryDelaysMs,
    unavailableRetryDelaysMs: options.unavailableRetryDelaysMs ?? defaultRetryPolicy.unavailableRetryDelaysMs,
    shouldRetry: options.shouldRetry ?? defaultRetryPolicy.shouldRetry,
    maxRetryAfterMs: options.maxRetryAfterMs ?? defaultRetryPolicy.maxRetryAfterMs,
  };
  const ctx: Context = { client, policy, onRetry: options.onRetry, gate: new PauseGate(), signal: userSignal ?? new AbortController().signal };
  let state: UploadState | undefined = options.resume;
  try {
    if (state === undefined) {
      const filename = options.filename ?? ('name' in file && typeof file.name === 'string' ? file.name : undefined);
      if (filename === undefined) {
        throw new SluiceApiError({ status: 0, code: clientErrorCodes.fileMismatch, message: 'A filename is needed: pass options.filename for a Blob without a name.' });
      }
      const contentType = options.contentType ?? (file.type !== undefined && file.type !== '' ? file.type : defaultContentType);
      const request = { filename, size: file.size, contentType, ...(options.sha256 === undefined ? {} : { sha256: options.sha256 }) };
      // Retried like the rest: if an answer was lost, the retry makes a second job, and the first
      // one, never uploaded, is expired by the sweep. Better than failing an upload on one blip.
      // The request itself is not cancelled: a create the server has received makes a job whether
      // or not its answer is read, and only the answer lets that job be aborted (the catch below).
      const created = await withRetry(ctx, () => client.create(request));
      state = { jobId: created.jobId, token: created.token, upload: created.upload };
      options.onCreated?.({ jobId: created.jobId, token: created.token, upload: created.upload });
      const job = await sendAndComplete(ctx, file, created.jobId, created.token, created.upload, options);
      return { jobId: created.jobId, token: created.token, job };
    }
    const job = await resumeUpload(ctx, file, state, options);
    return { jobId: state.jobId, token: state.token, job };
  } catch (error) {
    if (userSignal?.aborted && state !== undefined && (options.abortJobOnCancel ?? true)) {
      // Best effort and without the aborted signal: the cancel itself must not be cancelled. A
      // failure here leaves the job to expire through the sweep, so it is not worth surfacing.
      await client.abort({ jobId: state.jobId, token: state.token }).catch(() => undefined);
    }
    throw error;
  }
}

async function resumeUpload(ctx: Context, file: UploadSource, state: UploadState, options: UploadOptions): Promise<JobView> {
  const { jobId, token } = state;
  const { job } = await withRetry(ctx, () => ctx.client.status({ jobId, token }, { signal: ctx.signal }));
  if (job.size !== file.size) {
    throw new SluiceApiError({ status: 0, code: clientErrorCodes.fileMismatch, message: `The job is for ${job.size} bytes; this file has ${file.size}.` });
  }
  // Past awaiting_upload with its bytes accepted (a lost answer to `complete`): nothing to send.
  if (job.status === 'queued' || job.status === 'processing' || job.status === 'succeeded' || job.status === 'failed') return job;
  if (job.status !== 'awaiting_upload') {
    throw new SluiceApiError({ status: 0, code: clientErrorCodes.resumeNotPossible, message: `The job is ${job.status}; upload the file again as a new job.` });
  }
  if (job.uploadKind === 'multipart') {
    // `parts` with no numbers lists what the store holds, and echoes the plan.
    const listing = await withRetry(ctx, () => ctx.client.parts({ jobId, token, partNumbers: [] }, { signal: ctx.signal }));
    const plan = state.upload?.kind === 'multipart' ? state.upload : listing.partSize !== undefined && listing.partCount !== undefined ? { partSize: listing.partSize, partCount: listing.partCount } : undefined;
    if (plan === undefined) {
      throw new SluiceApiError({ status: 0, code: clientErrorCodes.resumeNotPossible, message: 'The part size is unknown: pass resume.upload as create returned it.' });
    }
    return uploadMultipart(ctx, file, jobId, token, plan, listing.uploaded, options);
  }
  // A single PUT may have finished before the reload: completing first avoids sending it twice.
  try {
    return (await withRetry(ctx, () => ctx.client.complete({ jobId, token }, { signal: ctx.signal }))).job;
  } catch (error) {
    if (!(error instanceof SluiceApiError && error.status === 409)) throw error;
  }
  if (state.upload?.kind !== 'single') {
    throw new SluiceApiError({
      status: 0,
      code: clientErrorCodes.resumeNotPossible,
      message: 'The file was not uploaded yet and only create returns its PUT URL: pass resume.upload as create returned it.',
    });
  }
  return sendAndComplete(ctx, file, jobId, token, state.upload, options);
}

async function sendAndComplete(
  ctx: Context,
  file: UploadSource,
  jobId: string,
  token: string,
  plan: UploadPlan,
  options: UploadOptions,
): Promise<JobView> {
  if (plan.kind === 'multipart') return uploadMultipart(ctx, file, jobId, token, plan, [], options);
  await uploadSingle(ctx, file, plan, options);
  return (await withRetry(ctx, () => ctx.client.complete({ jobId, token }, { signal: ctx.signal }))).job;
}

async function uploadSingle(ctx: Context, file: UploadSource, plan: SingleUploadPlan, options: UploadOptions): Promise<void> {
  options.onProgress?.({ bytesSent: 0, bytesTotal: file.size, partsDone: 0, partCount: 1 });
  // A single URL comes from `create` and cannot be re-signed: a 403 here is final.
  await withRetry(ctx, async () => putObject(ctx, plan.url, await readRange(file, 0, file.size), plan.headers, 'PUT object'));
  options.onProgress?.({ bytesSent: file.size, bytesTotal: file.size, partsDone: 1, partCount: 1 });
}

async function uploadMultipart(
  ctx: Context,
  file: UploadSource,
  jobId: string,
  token: string,
  plan: Pick<MultipartUploadPlan, 'partSize' | 'partCount'>,
  uploaded: PartsResponse['uploaded'],
  options: UploadOptions,
): Promise<JobView> {
  if (!planFitsSize(plan, file.size)) {
    throw new SluiceApiError({
      status: 0,
      code: clientErrorCodes.fileMismatch,
      message: `The plan (${plan.partCount} parts of ${plan.partSize} bytes) does not fit a file of ${file.size} bytes.`,
    });
  }
  const { done, pending, bytesDone } = selectPendingParts(plan, file.size, uploaded);
  let bytesSent = bytesDone;
  options.onProgress?.({ bytesSent, bytesTotal: file.size, partsDone: done.size, partCount: plan.partCount });

  // One failure that is not retried stops the siblings too, so the caller hears about it at once.
  const failure = new AbortController();
  const partCtx: Context = { ...ctx, signal: AbortSignal.any([ctx.signal, failure.signal]) };
  // Not retried on its own: a failed signing fails the part attempt, which the part's own retry
  // loop repeats, so the delays are not multiplied by nesting two loops.
  const signer = new PartUrlSigner(
    (partNumbers) => ctx.client.parts({ jobId, token, partNumbers }, { signal: partCtx.signal }),
    pending,
    (partNumber) => done.has(partNumber),
    Math.min(options.signBatchSize ?? defaultSignBatchSize, maxPartsPerSignRequest),
  );

  const queue = [...pending];
  const sendPart = async (partNumber: number): Promise<void> => {
    const range = partByteRange(partNumber, plan.partSize, file.size);
    const etag = await withRetry(
      partCtx,
      async () => {
        const signed = await signer.get(partNumber);
        const response = await putObject(partCtx, signed.url, await readRange(file, range.start, range.end), signed.headers ?? {}, `PUT part ${partNumber}`);
        const value = response.headers.get('etag');
        if (value === null || value === '') {
          throw new SluiceApiError({
            status: response.status,
            code: clientErrorCodes.etagMissing,
            message: `Part ${partNumber} was stored but its ETag is not readable: the bucket's CORS must expose ETag.`,
          });
        }
        return value;
      },
      () => signer.invalidate(partNumber),
    );
    done.set(partNumber, etag);
    bytesSent += range.end - range.start;
    options.onProgress?.({
      bytesSent,
      bytesTotal: file.size,
      partsDone: done.size,
      partCount: plan.partCount,
      part: { partNumber, size: range.end - range.start },
    });
  };

  let firstError: unknown;
  const worker = async (): Promise<void> => {
    for (let partNumber = queue.shift(); partNumber !== undefined; partNumber = queue.shift()) {
      try {
        await sendPart(partNumber);
      } catch (error) {
        if (firstError === undefined) firstError = error;
        failure.abort(error);
        return;
      }
    }
  };
  const workerCount = Math.max(1, Math.min(options.partConcurrency ?? defaultPartConcurrency, queue.length));
  await Promise.all(Array.from({ length: workerCount }, worker));
  // A cancel makes every worker fail with the cancel's reason; report that rather than a side effect.
  if (ctx.signal.aborted) throw ctx.signal.reason;
  if (firstError !== undefined) throw firstError;

  const parts = [...done.entries()].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
  return (await withRetry(ctx, () => ctx.client.complete({ jobId, token, parts }, { signal: ctx.signal }))).job;
}

/**
 * Signs part URLs just in time, a batch at a time, shared by the parallel part senders: a part
 * that needs a URL signs itself and the next few, concurrent askers for the same batch wait for
 * the one request, and a URL the store refused (403: expired) is dropped with its whole batch,
 * since they were signed together and expire together.
 */
class PartUrlSigner {
  private readonly cache = new Map<number, { part: SignedPart; batch: number; expiresAtMs: number }>();
  private readonly inflight = new Map<number, Promise<void>>();
  private batchCount = 0;

  constructor(
    private readonly sign: (partNumbers: number[]) => Promise<PartsResponse>,
    private readonly order: readonly number[],
    private readonly isDone: (partNumber: number) => boolean,
    private readonly batchSize: number,
  ) {}

  async get(partNumber: number): Promise<SignedPart> {
    const cached = this.cache.get(partNumber);
    if (cached !== undefined && cached.expiresAtMs - partUrlExpiryMarginMs > Date.now()) return cached.part;
    const pending = this.inflight.get(partNumber);
    if (pending !== undefined) {
      await pending;
      const signed = this.cache.get(partNumber);
      if (signed !== undefined) return signed.part;
    }
    const batch = nextSignBatch(this.order, partNumber, (candidate) => this.needsUrl(candidate), this.batchSize);
    const request = this.signBatch(batch);
    for (const number of batch) this.inflight.set(number, request);
    try {
      await request;
    } finally {
      for (const number of batch) if (this.inflight.get(number) === request) this.inflight.delete(number);
    }
    // Freshly signed: used even if the clocks disagree about its expiry, so this cannot loop.
    const signed = this.cache.get(partNumber);
    if (signed === undefined) {
      throw new SluiceApiError({ status: 200, code: clientErrorCodes.invalidResponse, message: `presign/parts did not sign part ${partNumber}.` });
    }
    return signed.part;
  }

  invalidate(partNumber: number): void {
    const entry = this.cache.get(partNumber);
    if (entry === undefined) return;
    for (const [number, other] of this.cache) if (other.batch === entry.batch) this.cache.delete(number);
  }

  private needsUrl(partNumber: number): boolean {
    if (this.isDone(partNumber) || this.inflight.has(partNumber)) return false;
    const cached = this.cache.get(partNumber);
    return cached === undefined || cached.expiresAtMs - partUrlExpiryMarginMs <= Date.now();
  }

  private async signBatch(partNumbers: number[]): Promise<void> {
    const response = await this.sign(partNumbers);
    const batch = ++this.batchCount;
    const parsedExpiry = Date.parse(response.expiresAt);
    const expiresAtMs = Number.isNaN(parsedExpiry) ? 0 : parsedExpiry;
    for (const part of response.parts) this.cache.set(part.partNumber, { part, batch, expiresAtMs });
  }
}

/**
 * Runs one request under the retry policy. `resign` is given for a part upload: a refusal by the
 * store (not by the API) drops the part's URL so the next attempt signs a fresh one.
 */
async function withRetry<T>(ctx: Context, attempt: () => Promise<T>, resign?: () => void): Promise<T> {
  for (let failures = 1; ; failures++) {
    ctx.signal.throwIfAborted();
    await ctx.gate.wait(ctx.signal);
    try {
      return await attempt();
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (!(error instanceof SluiceApiError)) throw error;
      const fromStore = error.code === clientErrorCodes.storage;
      const decision = decideRetry(ctx.policy, error, failures, resign !== undefined && fromStore);
      if (decision.action === 'fail') throw error;
      if (decision.pauseAll) ctx.gate.pauseFor(decision.delayMs);
      if (decision.resign) resign?.();
      ctx.onRetry?.({ error, failures, delayMs: decision.delayMs });
      await sleep(decision.delayMs, ctx.signal);
    }
  }
}

async function readRange(file: UploadSource, start: number, end: number): Promise<Blob> {
  // Blob.slice without a type gives an untyped Blob, so fetch adds no Content-Type of its own.
  const chunk = await file.slice(start, end);
  const blob = chunk instanceof Blob ? chunk : new Blob([chunk]);
  if (blob.size !== end - start) {
    throw new SluiceApiError({ status: 0, code: clientErrorCodes.fileMismatch, message: `Reading bytes ${start}..${end} gave ${blob.size} bytes: the file changed.` });
  }
  return blob;
}

async function putObject(ctx: Context, url: string, body: Blob, headers: Record<string, string>, what: string): Promise<Response> {
  let response: Response;
  try {
    response = await ctx.client.fetch(url, { method: 'PUT', body, headers: sendableHeaders(headers), signal: ctx.signal });
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw new SluiceApiError({ status: 0, code: clientErrorCodes.network, message: `${what}: no response (${describe(error)})`, cause: error });
  }
  // Read the body either way so the connection can be reused (and an error can be explained).
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    const storeCode = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    const storeMessage = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
    const retryAfterSeconds = parseRetryAfterSeconds(response.headers.get('retry-after'));
    throw new SluiceApiError({
      status: response.status,
      code: clientErrorCodes.storage,
      message: `${what}: the store answered ${response.status}${storeCode === undefined ? '' : ` ${storeCode}`}${storeMessage === undefined ? '' : `: ${storeMessage}`}`,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  return response;
}
