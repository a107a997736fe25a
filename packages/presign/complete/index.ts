// POST presign/complete {jobId, token, parts?} → 202 {job}
import { webFunction } from '../../../src/http/web-function.js';
import { completeUpload } from '../../../src/jobs/complete.js';
import { completeRequestSchema } from '../../../src/jobs/schemas.js';
import { uploadServices } from '../../../src/jobs/services.js';
import { nudgeSweep } from '../../../src/jobs/sweep-trigger.js';

export const main = webFunction({
  methods: ['post'],
  fields: completeRequestSchema,
  handle: async (input) => ({ status: 202, body: { job: await completeUpload(uploadServices(), input) } }),
  afterReply: nudgeSweep,
});
