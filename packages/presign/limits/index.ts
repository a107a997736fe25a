// GET or POST presign/limits → 200 {maxUploadBytes, allowedContentTypes, multipartThresholdBytes, authRequired}
import * as z from 'zod';
import { uploadConfig } from '../../../src/config.js';
import { webFunction } from '../../../src/http/web-function.js';
import { limitsView } from '../../../src/jobs/limits.js';

export const main = webFunction({
  methods: ['get', 'post'],
  fields: z.strictObject({}),
  handle: async () => ({ status: 200, body: limitsView(uploadConfig()), headers: { 'Cache-Control': 'max-age=60' } }),
});
