// The typed client of the upload API, for the web page, scripts, the CLI and the tests.
export { createClient, type ApiFunctionName, type CallOptions, type ClientOptions, type FetchLike, type SluiceClient } from './api.js';
export { clientErrorCodes, isSluiceApiError, parseRetryAfterSeconds, SluiceApiError, type SluiceApiErrorFields } from './errors.js';
export { nextSignBatch, partByteRange, planFitsSize, selectPendingParts, type ByteRange, type ResumeSelection } from './plan.js';
export {
  decideRetry,
  defaultMaxRetryAfterMs,
  defaultRetryDelaysMs,
  defaultRetryPolicy,
  defaultShouldRetry,
  defaultUnavailableRetryDelaysMs,
  type RetryDecision,
  type RetryNotice,
  type RetryPolicy,
} from './retry.js';
export {
  defaultPartConcurrency,
  defaultSignBatchSize,
  sendableHeaders,
  uploadFile,
  type UploadOptions,
  type UploadProgress,
  type UploadResult,
  type UploadSource,
  type UploadSourceLike,
  type UploadState,
} from './upload.js';
export { defaultPollIntervalMs, waitForJob, type WaitOptions } from './wait.js';
export * from './schemas.js';
