// POST presign/create {filename, size, contentType, sha256?} → 201 {jobId, token, expiresAt, upload}
import { authenticate } from '../../../src/auth/api-keys.js';
import { uploadConfig } from '../../../src/config.js';
import { webFunction } from '../../../src/http/web-function.js';
import { createUpload } from '../../../src/jobs/create.js';
import { createRequestSchema } from '../../../src/jobs/schemas.js';
import { uploadServices } from '../../../src/jobs/services.js';
import { nudgeSweep } from '../../../src/jobs/sweep-trigger.js';

export const main = webFunction({
  methods: ['post'],
  authorize: (request) => void authenticate(request.headers, uploadConfig()),
  fields: createRequestSchema,
  handle: async (input, request) => ({ status: 201, body: await createUpload(uploadServices(), input, request.headers) }),
  afterReply: nudgeSweep,
});
