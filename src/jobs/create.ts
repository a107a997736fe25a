// presign/create: validate, authenticate, count against the client's limits, then make the job and
// the way to upload its bytes (one presigned PUT, or a multipart upload whose part URLs come from
// presign/parts). The object key is the server's: uploads/<jobId>/<sanitised filename>.
import { randomUUID } from 'node:crypto';
import { maxAttemptsDefault, singlePutUrlExpirySeconds, uploadWindowSeconds } from '../config.js';
import { authenticate, clientId } from '../auth/api-keys.js';
import { newJobToken } from '../auth/job-tokens.js';
import { consumeUploadAllowance } from '../auth/limits.js';
import { insertJob } from '../db/jobs.js';
import { ApiError } from '../errors.js';
import { createMultipartUpload, presignPut } from '../storage/spaces.js';
import { isContentTypeAllowed } from './content-types.js';
import { sanitizeFilename } from './filename.js';
import type { CreateRequest } from './schemas.js';
import { actorOf, type UploadServices } from './services.js';
import { planUpload } from './upload-plan.js';

export type UploadInstructions =
  | { kind: 'single'; method: 'PUT'; url: string; headers: Record<string, string>; expiresAt: string }
  | { kind: 'multipart'; uploadId: string; partSize: number; partCount: number };

export interface CreatedUpload {
  jobId: string;
  /** The job's capability: returned once, stored only hashed. */
  token: string;
  /** Until when the bytes may arrive. */
  expiresAt: string;
  upload: UploadInstructions;
}

export async function createUpload(
  services: UploadServices,
  request: CreateRequest,
  headers: Record<string, string>,
): Promise<CreatedUpload> {
  const { config } = services;
  const caller = authenticate(headers, config);
  const filename = sanitizeFilename(request.filename);
  if (filename === undefined) {
    throw new ApiError('VALIDATION_FAILED', 'Invalid request: filename has no usable characters.', {
      details: { issues: [{ path: 'filename', message: 'no usable characters' }] },
    });
  }
  if (request.size > config.maxUploadBytes) {
    throw new ApiError('SIZE_LIMIT_EXCEEDED', `The file is larger than the limit of ${config.maxUploadBytes} bytes.`, {
      details: { maxBytes: config.maxUploadBytes },
    });
  }
  if (!isContentTypeAllowed(request.contentType, config.allowedContentTypes)) {
    throw new ApiError('CONTENT_TYPE_NOT_ALLOWED', `Files of type ${request.contentType} are not accepted.`, {
      details: { allowed: config.allowedContentTypes },
    });
  }
  const client = clientId(caller, headers);
  // Counted before anything is created, so a refused request leaves nothing behind. A storage
  // failure after this point costs the client one slot — acceptable for a rare 500.
  await consumeUploadAllowance(services.db, client, request.size, config);

  const jobId = randomUUID();
  const objectKey = `uploads/${jobId}/${filename}`;
  const plan = planUpload(request.size, config.multipartThresholdBytes);
  const uploadId = plan.kind === 'multipart' ? await createMultipartUpload(services.storage, objectKey, request.contentType) : null;
  const { token, tokenHash } = newJobToken();
  const job = await insertJob(
    services.db,
    {
      id: jobId,
      filename,
      objectKey,
      size: request.size,
      contentType: request.contentType,
      sha256: request.sha256 ?? null,
      tokenHash,
      clientId: client,
      uploadKind: plan.kind,
      uploadId,
      partSize: plan.kind === 'multipart' ? plan.partSize : null,
      partCount: plan.kind === 'multipart' ? plan.partCount : null,
      maxAttempts: maxAttemptsDefault,
      uploadWindowSeconds,
    },
    actorOf(services),
  );

  let upload: UploadInstructions;
  if (plan.kind === 'multipart' && uploadId !== null) {
    upload = { kind: 'multipart', uploadId, partSize: plan.partSize, partCount: plan.partCount };
  } else {
    const url = await presignPut(services.storage, {
      key: objectKey,
      contentType: request.contentType,
      contentLength: request.size,
      expiresInSeconds: singlePutUrlExpirySeconds,
    });
    upload = {
      kind: 'single',
      method: 'PUT',
      url,
      // Content-Length is signed too; HTTP clients set it from the body (browsers refuse to let
      // scripts set it), so it is not listed here.
      headers: { 'Content-Type': request.contentType },
      expiresAt: new Date(Date.now() + singlePutUrlExpirySeconds * 1000).toISOString(),
    };
  }
  return { jobId, token, expiresAt: job.expiresAt.toISOString(), upload };
}
