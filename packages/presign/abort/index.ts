// POST presign/abort {jobId, token} → 200 {job}
import { webFunction } from '../../../src/http/web-function.js';
import { abortUpload } from '../../../src/jobs/abort.js';
import { jobRequestSchema } from '../../../src/jobs/schemas.js';
import { uploadServices } from '../../../src/jobs/services.js';
import { nudgeSweep } from '../../../src/jobs/sweep-trigger.js';

export const main = webFunction({
  methods: ['post'],
  fields: jobRequestSchema,
  handle: async (input) => ({ status: 200, body: { job: await abortUpload(uploadServices(), input) } }),
  afterReply: nudgeSweep,
});
