// process/file {jobId}: one attempt at one job (src/jobs/process-file.ts). Invoked asynchronously
// by presign/complete and process/sweep; a duplicate invocation is a no-op.
import { createProcessFileMain } from '../../../src/jobs/process-file-handler.js';

export const main = createProcessFileMain();
