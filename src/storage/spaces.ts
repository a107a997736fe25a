// The S3 client for DigitalOcean Spaces, and every object operation the project makes. Clients
// never choose keys or talk to the bucket except through URLs presigned here.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import {
  objectReadMaxResumes,
  spacesConfig,
  storageCallTimeoutMs,
  storageConnectTimeoutMs,
  storageMaxAttempts,
  storageStallSecondsDefault,
  type SpacesConfig,
} from '../config.js';
import { log } from '../log.js';

export interface Storage {
  client: S3Client;
  bucket: string;
  /** How long without a byte a request counts as stalled (STORAGE_STALL_SECONDS), for messages. */
  stallSeconds: number;
}

/**
 * The store did not answer as it should, with a stable code:
 * - STORAGE_TIMEOUT: no connection, a stalled answer, or a call over its time budget (the store
 *   is down or overloaded: try again later);
 * - STORAGE_UNREACHABLE: connections refused or cut, after the SDK's own retries;
 * - STORAGE_STALLED / STORAGE_INTERRUPTED: a read of an object kept stalling, or kept being cut,
 *   after every resume allowed;
 * - OBJECT_CHANGED: the object is no longer the one pinned by its ETag (412 on If-Match).
 * The SDK's error, when there is one, is the `cause`.
 */
export type StorageErrorCode = 'STORAGE_TIMEOUT' | 'STORAGE_UNREACHABLE' | 'STORAGE_STALLED' | 'STORAGE_INTERRUPTED' | 'OBJECT_CHANGED';

export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** The store is down for now (timeouts, refused connections, or 5xx after the SDK's retries), not "this request is wrong". */
export function isStorageUnavailable(error: unknown): boolean {
  if (error instanceof StorageError) return error.code !== 'OBJECT_CHANGED';
  return error instanceof S3ServiceException && error.$fault === 'server';
}

/** Node's socket errors for a peer that is down, or that dropped the connection. */
const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** How a request failed, if the connection (not the store's answer) is what failed. */
function connectionFailure(error: unknown): 'stalled' | 'cut' | undefined {
  if (!(error instanceof Error)) return undefined;
  // @smithy/node-http-handler names its connect, socket (stall) and request timeouts TimeoutError.
  if (error.name === 'TimeoutError') return 'stalled';
  if ('code' in error && typeof error.code === 'string' && connectionErrorCodes.has(error.code)) return 'cut';
  return undefined;
}

export function createStorage(config: SpacesConfig): Storage {
  const stallSeconds = config.stallSeconds ?? storageStallSecondsDefault;
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    // DigitalOcean hosts serve virtual-hosted style; anything else (the local S3 server) needs paths.
    forcePathStyle: config.forcePathStyle,
    // SDK ≥ 3.729 would add CRC32 checksums by default: a presigned PUT would then carry the
    // checksum of an empty body and fail, and streamed uploads go aws-chunked, which Spaces and
    // the local server reject (docs/platform-facts.md "Spaces").
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Standard mode backs off and retries 5xx and throttling, which includes Spaces' 503 SlowDown.
    retryMode: 'standard',
    maxAttempts: storageMaxAttempts,
    // @smithy/node-http-handler 4.x (docs/platform-facts.md "Spaces"): `connectionTimeout` bounds
    // the TCP connect and `socketTimeout` any silence of the socket, both failing the request
    // (TimeoutError, which the SDK retries); `requestTimeout`, the time to the answer's headers
    // (a store trickling bytes never looks silent), only logs a warning unless
    // `throwOnRequestTimeout` is set.
    requestHandler: {
      connectionTimeout: storageConnectTimeoutMs,
      socketTimeout: stallSeconds * 1000,
      requestTimeout: storageCallTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  return { client, bucket: config.bucket, stallSeconds };
}

let shared: Storage | undefined;

/** The container's client, created on first use and reused while warm (like the database client). */
export function storage(): Storage {
  shared ??= createStorage(spacesConfig());
  return shared;
}

function errorName(error: unknown): string | undefined {
  return error instanceof S3ServiceException ? error.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/**
 * One storage call other than the streamed read, within storageCallTimeoutMs in all, the SDK's
 * retries included: each try is bounded by the stall and connect timeouts, but four of them in a
 * row would not be. A store that does not answer fails as StorageError; the store's own answers
 * (404, NoSuchUpload, …) come through as the SDK's errors.
 */
async function call<T>(s: Storage, operation: string, send: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
  const abortSignal = AbortSignal.timeout(storageCallTimeoutMs);
  try {
    return await send({ abortSignal });
  } catch (error) {
    if (abortSignal.aborted) {
      throw new StorageError('STORAGE_TIMEOUT', `${operation}: the store did not answer within ${storageCallTimeoutMs / 1000} s.`, { cause: error });
    }
    const failure = connectionFailure(error);
    if (failure === 'stalled') {
      throw new StorageError('STORAGE_TIMEOUT', `${operation}: no connection, or no answer for ${s.stallSeconds} s, on every try.`, { cause: error });
    }
    if (failure === 'cut') throw new StorageError('STORAGE_UNREACHABLE', `${operation}: the store refused or dropped the connection on every try.`, { cause: error });
    throw error;
  }
}

export interface PresignPutOptions {
  key: string;
  contentType: string;
  contentLength: number;
  expiresInSeconds: number;
}

/**
 * A single PUT URL that only accepts exactly `contentLength` bytes of `contentType`: both headers
 * are in X-Amz-SignedHeaders, so the store refuses any other length or type (docs/api.md).
 */
export function presignPut(s: Storage, o: PresignPutOptions): Promise<string> {
  return getSignedUrl(
    s.client,
    new PutObjectCommand({ Bucket: s.bucket, Key: o.key, ContentType: o.contentType, ContentLength: o.contentLength }),
    { expiresIn: o.expiresInSeconds, signableHeaders: new Set(['content-type', 'content-length']) },
  );
}

export interface PresignGetOptions {
  key: string;
  /** The name the browser saves the file under (Content-Disposition: attachment). */
  filename: string;
  expiresInSeconds: number;
  /** Signed as of this time (the URL expires `expiresInSeconds` after it), so repeated calls can get the same URL. */
  signedAt: Date;
}

/**
 * A GET URL for one object, for the holder of its job only (presign/status). The store answers it
 * with `Content-Disposition: attachment` and the original filename (response-content-disposition
 * is part of the signature, so it cannot be changed into `inline` for a page of someone else's).
 */
export function presignGet(s: Storage, o: PresignGetOptions): Promise<string> {
  return getSignedUrl(
    s.client,
    new GetObjectCommand({ Bucket: s.bucket, Key: o.key, ResponseContentDisposition: attachmentDisposition(o.filename) }),
    { expiresIn: o.expiresInSeconds, signingDate: o.signedAt },
  );
}

/**
 * RFC 6266. An ASCII name goes in `filename` as a quoted string; any other name also goes in
 * `filename*` (RFC 8187 UTF-8 percent-encoding), with `filename` an ASCII stand-in for clients that
 * read only that. `filename*` only when needed: its `''` is signed as %27%27, which Spaces and S3
 * verify, but the local stand-in (s3rver re-encodes query values with encodeURIComponent, which
 * leaves `'` as is) refuses as SignatureDoesNotMatch.
 */
export function attachmentDisposition(filename: string): string {
  const quoted = (name: string): string => `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  if (/^[\x20-\x7e]*$/.test(filename)) return `attachment; filename=${quoted(filename)}`;
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename=${quoted(fallback)}; filename*=UTF-8''${encoded}`;
}

export async function createMultipartUpload(s: Storage, key: string, contentType: string): Promise<string> {
  const answer = await call(s, 'CreateMultipartUpload', (options) =>
    s.client.send(new CreateMultipartUploadCommand({ Bucket: s.bucket, Key: key, ContentType: contentType }), options),
  );
  if (!answer.UploadId) throw new Error(`CreateMultipartUpload ${key}: no UploadId in the answer`);
  return answer.UploadId;
}

export interface PresignPartOptions {
  key: string;
  uploadId: string;
  partNumber: number;
  /** Each part's exact length is signed, so the parts can only add up to the declared size. */
  contentLength: number;
  expiresInSeconds: number;
}

export function presignUploadPart(s: Storage, o: PresignPartOptions): Promise<string> {
  return getSignedUrl(
    s.client,
    new UploadPartCommand({ Bucket: s.bucket, Key: o.key, UploadId: o.uploadId, PartNumber: o.partNumber, ContentLength: o.contentLength }),
    { expiresIn: o.expiresInSeconds, signableHeaders: new Set(['content-length']) },
  );
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** Every part uploaded so far (all pages), or undefined when the upload no longer exists (completed or aborted). */
export async function listUploadedParts(s: Storage, key: string, uploadId: string): Promise<UploadedPart[] | undefined> {
  const parts: UploadedPart[] = [];
  let marker: string | undefined;
  try {
    for (;;) {
      const page = await call(s, 'ListParts', (options) =>
        s.client.send(
          new ListPartsCommand({ Bucket: s.bucket, Key: key, UploadId: uploadId, ...(marker === undefined ? {} : { PartNumberMarker: marker }) }),
          options,
        ),
      );
      for (const part of page.Parts ?? []) {
        if (part.PartNumber !== undefined && part.ETag !== undefined) {
          parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0 });
        }
      }
      if (!page.IsTruncated || page.NextPartNumberMarker === undefined) break;
      marker = page.NextPartNumberMarker;
    }
  } catch (error) {
    if (errorName(error) === 'NoSuchUpload' || httpStatus(error) === 404) return undefined;
    throw error;
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

export type CompleteOutcome =
  | { kind: 'completed' }
  /** Already completed (a repeated `complete`) or aborted: the caller checks the object. */
  | { kind: 'no_such_upload' }
  /** The parts given do not make a complete upload (missing, wrong ETag, too small). */
  | { kind: 'invalid_parts'; reason: string };

export async function completeMultipartUpload(
  s: Storage,
  key: string,
  uploadId: string,
  parts: readonly { partNumber: number; etag: string }[],
): Promise<CompleteOutcome> {
  try {
    await call(s, 'CompleteMultipartUpload', (options) =>
      s.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: s.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
        }),
        options,
      ),
    );
    return { kind: 'completed' };
  } catch (error) {
    const name = errorName(error);
    if (name === 'NoSuchUpload' || httpStatus(error) === 404) return { kind: 'no_such_upload' };
    if (name === 'InvalidPart' || name === 'InvalidPartOrder' || name === 'EntityTooSmall') {
      return { kind: 'invalid_parts', reason: name };
    }
    throw error;
  }
}

/** Idempotent: an upload that is already gone is fine. */
export async function abortMultipartUpload(s: Storage, key: string, uploadId: string): Promise<void> {
  try {
    await call(s, 'AbortMultipartUpload', (options) => s.client.send(new AbortMultipartUploadCommand({ Bucket: s.bucket, Key: key, UploadId: uploadId }), options));
  } catch (error) {
    if (errorName(error) === 'NoSuchUpload' || httpStatus(error) === 404) return;
    throw error;
  }
}

export interface ObjectHead {
  size: number;
  contentType: string | undefined;
  etag: string | undefined;
}

/** The object's metadata, or undefined when there is no object at `key`. */
export async function headObject(s: Storage, key: string): Promise<ObjectHead | undefined> {
  try {
    const head = await call(s, 'HeadObject', (options) => s.client.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key }), options));
    return { size: head.ContentLength ?? 0, contentType: head.ContentType, etag: head.ETag };
  } catch (error) {
    if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchKey' || httpStatus(error) === 404) return undefined;
    throw error;
  }
}

/** Idempotent (S3 DeleteObject succeeds for a missing key). */
export async function deleteObject(s: Storage, key: string): Promise<void> {
  await call(s, 'DeleteObject', (options) => s.client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key }), options));
}

/** Removes whatever an upload left in the bucket: its multipart upload, if any, and any object at its key. Idempotent. */
export async function removeUpload(s: Storage, key: string, uploadId: string | null): Promise<void> {
  if (uploadId !== null) await abortMultipartUpload(s, key, uploadId);
  await deleteObject(s, key);
}

export interface ObjectReadOptions {
  /**
   * The ETag `complete` recorded. Every request carries it as If-Match, so the bytes cannot change
   * under the reader: a replaced object fails as OBJECT_CHANGED. Absent (a job queued before ETags
   * were recorded), the first answer's ETag pins the resumed ranges.
   */
  etag?: string;
  /** The size `complete` checked: a body that ends short of it is resumed. */
  size: number;
  signal?: AbortSignal;
}

/**
 * The object's bytes as one stream, read once without buffering (docs/processing.md). A request
 * that stalls (no byte for `stallSeconds`) or is cut mid-body is resumed from the byte reached
 * with `Range: bytes=<offset>-` and the same If-Match, at most objectReadMaxResumes times, so the
 * consumer sees one continuous stream of the pinned object's bytes and no byte twice. Then it fails
 * as StorageError STORAGE_STALLED or STORAGE_INTERRUPTED, saying where; a missing object comes
 * through as the SDK's NoSuchKey. Nothing is requested until the first chunk is asked for.
 */
export async function* readObject(s: Storage, key: string, options: ObjectReadOptions): AsyncGenerator<Uint8Array> {
  const { size, signal } = options;
  let pin = options.etag;
  let offset = 0;
  let resumes = 0;
  for (;;) {
    let body: Readable | undefined;
    // The caller's abort (deadline, lost lease) must not wait for a stall to notice it.
    const stop = () => body?.destroy();
    signal?.addEventListener('abort', stop, { once: true });
    let failure: { kind: 'stalled' | 'cut'; cause?: unknown };
    try {
      const answer = await s.client.send(
        new GetObjectCommand({ Bucket: s.bucket, Key: key, ...(pin === undefined ? {} : { IfMatch: pin }), ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) }),
        signal ? { abortSignal: signal } : {},
      );
      if (!answer.Body) throw new Error(`GetObject ${key}: no body`);
      body = answer.Body as Readable;
      if (offset > 0 && answer.ContentRange?.startsWith(`bytes ${offset}-`) !== true) {
        throw new Error(`GetObject ${key}: asked for bytes from ${offset}, answered ${answer.ContentRange ?? 'without Content-Range'}`);
      }
      pin ??= answer.ETag;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        offset += chunk.length;
        yield chunk;
      }
      if (offset >= size) return;
      failure = { kind: 'cut' };
    } catch (error) {
      if (signal?.aborted) throw error;
      if (errorName(error) === 'PreconditionFailed' || httpStatus(error) === 412) {
        throw new StorageError(
          'OBJECT_CHANGED',
          `The object was replaced after it was checked: its ETag is no longer ${pin ?? 'the one recorded'}.`,
          { cause: error },
        );
      }
      const kind = connectionFailure(error);
      if (kind === undefined) throw error;
      failure = { kind, cause: error };
    } finally {
      signal?.removeEventListener('abort', stop);
      body?.destroy();
    }
    const what = failure.kind === 'stalled' ? `stalled (no byte for ${s.stallSeconds} s)` : 'was cut off';
    if (resumes >= objectReadMaxResumes) {
      throw new StorageError(
        failure.kind === 'stalled' ? 'STORAGE_STALLED' : 'STORAGE_INTERRUPTED',
        `Reading the file from storage ${what} at byte ${offset} of ${size}, after ${resumes} resumed reads that failed too.`,
        { cause: failure.cause },
      );
    }
    resumes += 1;
    log.warn('storage: resuming a read', { key, offset, size, resume: resumes, reason: what });
  }
}
