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
import { spacesConfig, storageMaxAttempts, type SpacesConfig } from '../config.js';

export interface Storage {
  client: S3Client;
  bucket: string;
}

/** Fail over to the SDK's retry quickly when a connection cannot even be opened. */
const connectionTimeoutMs = 3_000;
/** Socket inactivity limit; generous because GetObject streams feed slow analyzers. */
const socketTimeoutMs = 30_000;

export function createStorage(config: SpacesConfig): Storage {
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    // DigitalOcean hosts serve virtual-hosted style; anything else (the local S3 server) needs paths.
    forcePathStyle: config.forcePathStyle,
    // SDK ≥ 3.729 would add CRC32 checksums by default: a presigned PUT would then carry the
    // checksum of an empty body and fail, and streamed uploads go aws-chunked, which Spaces and
    // the local server reject (PLATFORM-FACTS "Spaces").
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Standard mode backs off and retries 5xx and throttling, which includes Spaces' 503 SlowDown.
    retryMode: 'standard',
    maxAttempts: storageMaxAttempts,
    requestHandler: { connectionTimeout: connectionTimeoutMs, requestTimeout: socketTimeoutMs },
  });
  return { client, bucket: config.bucket };
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

export interface PresignPutOptions {
  key: string;
  contentType: string;
  contentLength: number;
  expiresInSeconds: number;
}

/**
 * A single PUT URL that only accepts exactly `contentLength` bytes of `contentType`: both headers
 * are in X-Amz-SignedHeaders, so the store refuses any other length or type (DESIGN "HTTP API").
 */
export function presignPut(s: Storage, o: PresignPutOptions): Promise<string> {
  return getSignedUrl(
    s.client,
    new PutObjectCommand({ Bucket: s.bucket, Key: o.key, ContentType: o.contentType, ContentLength: o.contentLength }),
    { expiresIn: o.expiresInSeconds, signableHeaders: new Set(['content-type', 'content-length']) },
  );
}

export async function createMultipartUpload(s: Storage, key: string, contentType: string): Promise<string> {
  const answer = await s.client.send(new CreateMultipartUploadCommand({ Bucket: s.bucket, Key: key, ContentType: contentType }));
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
      const page = await s.client.send(
        new ListPartsCommand({ Bucket: s.bucket, Key: key, UploadId: uploadId, ...(marker === undefined ? {} : { PartNumberMarker: marker }) }),
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
    await s.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: s.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
      }),
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
    await s.client.send(new AbortMultipartUploadCommand({ Bucket: s.bucket, Key: key, UploadId: uploadId }));
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
    const head = await s.client.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key }));
    return { size: head.ContentLength ?? 0, contentType: head.ContentType, etag: head.ETag };
  } catch (error) {
    if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchKey' || httpStatus(error) === 404) return undefined;
    throw error;
  }
}

/** Idempotent (S3 DeleteObject succeeds for a missing key). */
export async function deleteObject(s: Storage, key: string): Promise<void> {
  await s.client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key }));
}

/** Removes whatever an upload left in the bucket: its multipart upload, if any, and any object at its key. Idempotent. */
export async function removeUpload(s: Storage, key: string, uploadId: string | null): Promise<void> {
  if (uploadId !== null) await abortMultipartUpload(s, key, uploadId);
  await deleteObject(s, key);
}

/** The object's bytes as one stream, for processing it once without buffering (issue 4). */
export async function openObjectStream(s: Storage, key: string, signal?: AbortSignal): Promise<Readable> {
  const answer = await s.client.send(new GetObjectCommand({ Bucket: s.bucket, Key: key }), signal ? { abortSignal: signal } : {});
  if (!answer.Body) throw new Error(`GetObject ${key}: no body`);
  return answer.Body as Readable;
}
