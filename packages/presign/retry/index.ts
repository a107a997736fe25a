// POST presign/retry {jobId, token} → 202 {job}: a failed job queued again with a fresh attempt budget
import { webFunction } from '../../../src/http/web-function.js';
import { retryJob } from '../../../src/jobs/retry.js';
import { jobRequestSchema } from '../../../src/jobs/schemas.js';
import { uploadServices } from '../../../src/jobs/services.js';
import { nudgeSweep } from '../../../src/jobs/sweep-trigger.js';

export const main = webFunction({
  methods: ['post'],
  fields: jobRequestSchema,
  handle: async (input) => ({ status: 202, body: { job: await retryJob(uploadServices(), input) } }),
  afterReply: nudgeSweep,
});
