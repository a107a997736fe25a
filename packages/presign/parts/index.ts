// POST presign/parts {jobId, token, partNumbers} → 200 {parts, uploaded, expiresAt}
import { webFunction } from '../../../src/http/web-function.js';
import { signParts } from '../../../src/jobs/parts.js';
import { partsRequestSchema } from '../../../src/jobs/schemas.js';
import { uploadServices } from '../../../src/jobs/services.js';
import { nudgeSweep } from '../../../src/jobs/sweep-trigger.js';

export const main = webFunction({
  methods: ['post'],
  fields: partsRequestSchema,
  handle: async (input) => ({ status: 200, body: await signParts(uploadServices(), input) }),
  afterReply: nudgeSweep,
});
