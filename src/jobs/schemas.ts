// The request schemas of the five calls. The wire shapes are written once, in the shared
// src/client/schemas.ts (docs/api.md); the server tightens them here: strict objects (a
// misspelt field is a 400, not silently ignored), a non-empty size, a syntactically valid media
// type (it becomes a signed header), bounded names and tokens. Limits that are configuration (size,
// types) are checked after parsing, because they have their own codes (413, 415).
import * as z from 'zod';
import * as wire from '../client/schemas.js';
import { maxPartCount, maxPartNumbersPerCall, maxRawFilenameBytes } from '../config.js';
import { maxContentTypeChars, mediaTypePattern } from './content-types.js';
import { utf8Bytes } from './filename.js';

const jobId = z.uuid('jobId must be a job id (UUID)');
/** Tokens are 43 base64url characters; the bound only keeps junk short. */
const token = z.string('token is required').min(1, 'token is required').max(200, 'token is not a job token');
const partNumber = z.int('part numbers are whole numbers').min(1).max(maxPartCount);

export const createRequestSchema = wire.createRequestSchema
  .extend({
    filename: z
      .string('filename is required')
      .min(1, 'filename is required')
      .refine((name) => utf8Bytes(name) <= maxRawFilenameBytes, `filename is longer than ${maxRawFilenameBytes} bytes`),
    size: z
      .number('size must be a number of bytes')
      .int('size must be a whole number of bytes')
      .min(1, 'size must be at least 1 byte: empty files are not accepted'),
    contentType: z
      .string('contentType is required')
      .max(maxContentTypeChars, 'contentType is too long')
      .regex(mediaTypePattern, 'contentType must be a media type like text/csv'),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hex digits')
      .transform((hex) => hex.toLowerCase())
      .optional(),
  })
  .strict();
export type CreateRequest = z.infer<typeof createRequestSchema>;

const capability = { jobId, token };

export const partsRequestSchema = wire.partsRequestSchema
  .extend({
    ...capability,
    partNumbers: z
      .array(partNumber, 'partNumbers must be a list of part numbers')
      .max(maxPartNumbersPerCall, `at most ${maxPartNumbersPerCall} part numbers per call`)
      .refine((numbers) => new Set(numbers).size === numbers.length, 'partNumbers must not repeat'),
  })
  .strict();
export type PartsRequest = z.infer<typeof partsRequestSchema>;

export const completeRequestSchema = wire.completeRequestSchema
  .extend({
    ...capability,
    parts: z
      .array(z.strictObject({ partNumber, etag: wire.etagSchema }))
      .max(maxPartCount)
      .optional(),
  })
  .strict();
export type CompleteRequest = z.infer<typeof completeRequestSchema>;

/** abort and status. */
export const jobRequestSchema = wire.jobCapabilitySchema.extend(capability).strict();
export type JobRequest = z.infer<typeof jobRequestSchema>;
