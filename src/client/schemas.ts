// The wire format of the upload API (docs/api.md, binding), written once and shared: the
// server (src/http, packages/presign) parses requests with the request schemas and types its
// responses with the response types; the client (src/client) validates every response with the
// response schemas. Runs in browsers and Node alike, so nothing here may import node: modules.
//
// Request schemas describe the shape only. Business rules (filename sanitising, size and type limits,
// quotas) belong to the server, which may refine these schemas; the client deliberately does not
// check them so that the server stays the one authority.
import * as z from 'zod';

/** S3 allows part numbers 1..10,000 (docs/platform-facts.md "Spaces"). */
export const maxPartNumber = 10_000;
/** `parts` signs at most this many part URLs per call (issue 3). */
export const maxPartsPerSignRequest = 100;
/** Bound on every free-form string a request may carry, so a hostile body cannot cost much to parse. */
export const maxRequestStringLength = 4_096;

export const jobStatuses = [
  'awaiting_upload',
  'queued',
  'processing',
  'succeeded',
  'failed',
  'rejected',
  'cancelled',
  'expired',
] as const;
export const jobStatusSchema = z.enum(jobStatuses);
export type JobStatus = z.infer<typeof jobStatusSchema>;

/** Statuses a job never leaves (docs/architecture.md "Job state machine"). */
export const terminalJobStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'rejected', 'cancelled', 'expired'];

export const jobIdSchema = z.uuid();
/** The per-job capability returned once by `create`; opaque to clients. */
export const jobTokenSchema = z.string().min(1).max(256);
export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits');
export const partNumberSchema = z.int().min(1).max(maxPartNumber);
/** S3 ETags as returned by UploadPart, quotes included (`"…"`). */
export const etagSchema = z.string().min(1).max(256);

// ---- requests ----------------------------------------------------------------------------------

export const createRequestSchema = z.object({
  filename: z.string().max(maxRequestStringLength),
  size: z.int().nonnegative(),
  contentType: z.string().max(maxRequestStringLength),
  sha256: sha256HexSchema.optional(),
});
export type CreateRequest = z.infer<typeof createRequestSchema>;

export const jobCapabilitySchema = z.object({ jobId: jobIdSchema, token: jobTokenSchema });
export type JobCapability = z.infer<typeof jobCapabilitySchema>;

/** An empty `partNumbers` is allowed: it only lists the parts already uploaded (resume). */
export const partsRequestSchema = jobCapabilitySchema.extend({
  partNumbers: z
    .array(partNumberSchema)
    .max(maxPartsPerSignRequest)
    .refine((numbers) => new Set(numbers).size === numbers.length, 'partNumbers must not repeat'),
});
export type PartsRequest = z.infer<typeof partsRequestSchema>;

export const completedPartSchema = z.object({ partNumber: partNumberSchema, etag: etagSchema });
export type CompletedPart = z.infer<typeof completedPartSchema>;

/** `parts` is optional: the server can list the uploaded parts itself (ListParts). */
export const completeRequestSchema = jobCapabilitySchema.extend({
  parts: z.array(completedPartSchema).max(maxPartNumber).optional(),
});
export type CompleteRequest = z.infer<typeof completeRequestSchema>;

export const abortRequestSchema = jobCapabilitySchema;
export type AbortRequest = z.infer<typeof abortRequestSchema>;

export const statusRequestSchema = jobCapabilitySchema;
export type StatusRequest = z.infer<typeof statusRequestSchema>;

export const retryRequestSchema = jobCapabilitySchema;
export type RetryRequest = z.infer<typeof retryRequestSchema>;

// ---- responses ---------------------------------------------------------------------------------
// Loose objects: a server may add fields without breaking older clients.

export const singleUploadPlanSchema = z.looseObject({
  kind: z.literal('single'),
  method: z.literal('PUT'),
  url: z.url(),
  /** Send exactly these with the PUT: they are signed (Content-Type, and Content-Length, which fetch sets from the body). */
  headers: z.record(z.string(), z.string()),
});
export type SingleUploadPlan = z.infer<typeof singleUploadPlanSchema>;

export const multipartUploadPlanSchema = z.looseObject({
  kind: z.literal('multipart'),
  uploadId: z.string().min(1),
  partSize: z.int().positive(),
  partCount: z.int().min(1).max(maxPartNumber),
});
export type MultipartUploadPlan = z.infer<typeof multipartUploadPlanSchema>;

export const uploadPlanSchema = z.discriminatedUnion('kind', [singleUploadPlanSchema, multipartUploadPlanSchema]);
export type UploadPlan = z.infer<typeof uploadPlanSchema>;

export const createResponseSchema = z.looseObject({
  jobId: jobIdSchema,
  token: jobTokenSchema,
  expiresAt: z.string(),
  upload: uploadPlanSchema,
});
export type CreateResponse = z.infer<typeof createResponseSchema>;

export const signedPartSchema = z.looseObject({
  partNumber: partNumberSchema,
  url: z.url(),
  /** Extra headers the part URL was signed with, if any (none by default). */
  headers: z.record(z.string(), z.string()).optional(),
});
export type SignedPart = z.infer<typeof signedPartSchema>;

export const uploadedPartSchema = z.looseObject({
  partNumber: partNumberSchema,
  etag: etagSchema,
  size: z.int().nonnegative(),
});
export type UploadedPart = z.infer<typeof uploadedPartSchema>;

export const partsResponseSchema = z.looseObject({
  parts: z.array(signedPartSchema),
  uploaded: z.array(uploadedPartSchema),
  /** When the URLs in `parts` stop working. */
  expiresAt: z.string(),
  /** If a server echoes the plan, a client can resume knowing only jobId and token (the current one does not). */
  partSize: z.int().positive().optional(),
  partCount: z.int().min(1).max(maxPartNumber).optional(),
});
export type PartsResponse = z.infer<typeof partsResponseSchema>;

export const jobEventSchema = z.looseObject({
  at: z.string(),
  /** What happened ('created', 'uploaded', 'dispatched', 'claimed', …). */
  event: z.string(),
  from: jobStatusSchema.nullable(),
  to: jobStatusSchema,
  attempt: z.int().nonnegative(),
  activationId: z.string().nullable(),
  codeVersion: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type JobEvent = z.infer<typeof jobEventSchema>;

export const jobErrorSchema = z.looseObject({ code: z.string(), message: z.string() });

/** The job as `complete`, `abort`, `retry` and `status` show it (src/jobs/view.ts builds it on the server). */
export const jobViewSchema = z.looseObject({
  id: jobIdSchema,
  status: jobStatusSchema,
  filename: z.string(),
  size: z.int().nonnegative(),
  contentType: z.string(),
  sha256: z.string().nullable(),
  uploadKind: z.enum(['single', 'multipart']),
  attempts: z.int().nonnegative(),
  maxAttempts: z.int().nonnegative(),
  /** The code version of the latest attempt. */
  buildId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Until when the bytes may arrive (awaiting_upload). */
  expiresAt: z.string(),
  /** When a queued job is due (retries wait here). */
  runAfter: z.string(),
  finishedAt: z.string().nullable(),
  /** The analyzers' summaries once succeeded, else null. */
  result: z.unknown(),
  /** The last error: final for failed/rejected/expired, the reason of the pending retry while queued. */
  error: jobErrorSchema.nullable(),
  events: z.array(jobEventSchema),
  /** `status` only, while the file is stored: a short-lived signed GET URL that downloads it under its filename. */
  downloadUrl: z.url().optional(),
  /** When `downloadUrl` stops working. */
  downloadExpiresAt: z.string().optional(),
});
export type JobView = z.infer<typeof jobViewSchema>;

export const jobResponseSchema = z.looseObject({ job: jobViewSchema });
export type JobResponse = z.infer<typeof jobResponseSchema>;

/** `limits`: what a page checks before uploading; `create` enforces the same limits anyway. */
export const limitsResponseSchema = z.looseObject({
  maxUploadBytes: z.int().positive(),
  /** As configured, wildcards kept (`image/*`, `*\/*`). */
  allowedContentTypes: z.array(z.string()),
  multipartThresholdBytes: z.int().positive(),
  /** True when `create` needs `Authorization: Bearer <key>`. */
  authRequired: z.boolean(),
});
export type LimitsResponse = z.infer<typeof limitsResponseSchema>;

/** docs/api.md "Errors": a stable upper-snake code and a human sentence. */
export const errorResponseSchema = z.looseObject({
  error: z.looseObject({
    code: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
    message: z.string(),
    requestId: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
