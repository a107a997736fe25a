// GET or POST presign/status {jobId, token} → 200 {job} (with downloadUrl while the file is stored)
import { sql } from '../../../src/db/client.js';
import { webFunction } from '../../../src/http/web-function.js';
import { jobRequestSchema } from '../../../src/jobs/schemas.js';
import { jobStatus } from '../../../src/jobs/status.js';
import { nudgeSweep } from '../../../src/jobs/sweep-trigger.js';
import { storage } from '../../../src/storage/spaces.js';

export const main = webFunction({
  methods: ['get', 'post'],
  fields: jobRequestSchema,
  handle: async (input) => ({ status: 200, body: { job: await jobStatus({ db: sql(), storage: storage() }, input) } }),
  afterReply: nudgeSweep,
});
