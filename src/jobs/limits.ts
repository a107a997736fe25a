// presign/limits: what the page checks before uploading (issue 5), straight from the
// configuration. Public and harmless: the same limits are enforced by `create` anyway.
import type { UploadConfig } from '../config.js';

export interface LimitsView {
  maxUploadBytes: number;
  /** As configured, wildcards kept (`image/*`). */
  allowedContentTypes: string[];
  multipartThresholdBytes: number;
  /** True when `create` needs `Authorization: Bearer <key>`. */
  authRequired: boolean;
}

export function limitsView(config: UploadConfig): LimitsView {
  return {
    maxUploadBytes: config.maxUploadBytes,
    allowedContentTypes: config.allowedContentTypes,
    multipartThresholdBytes: config.multipartThresholdBytes,
    authRequired: !config.allowAnonymousUploads,
  };
}
