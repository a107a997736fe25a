// The process/file entry point, as a factory so a variant bundle can wire the same handler with a
// different analyzer list (the test fixtures deploy one, the way a bad deploy would arrive).
//
// It never throws: a thrown error in the Node runtime discards the warm container (docs/platform-facts.md
// "Web functions"). A result with an `error` field marks the activation an application error
// (visible in the activation list) while the container stays warm.
import { object, uuid } from 'zod';
import type { Analyzer } from '../analyzers/types.js';
import { activationContext, processingConfig } from '../config.js';
import { sql } from '../db/client.js';
import { describeError, log } from '../log.js';
import { storage } from '../storage/spaces.js';
import { processFile, type ProcessResult } from './process-file.js';

/** Non-strict: the platform may add keys of its own; only jobId matters. */
export const processFileParamsSchema = object({ jobId: uuid('jobId must be a job id (UUID)') });

export type ProcessFileReply = ProcessResult | { error: { code: string; message: string } };

export function createProcessFileMain(options: { analyzers?: readonly Analyzer[] } = {}): (params: unknown) => Promise<ProcessFileReply> {
  return async (params: unknown) => {
    const parsed = processFileParamsSchema.safeParse(params);
    if (!parsed.success) {
      return { error: { code: 'VALIDATION_FAILED', message: parsed.error.issues.map((issue) => issue.message).join('; ') } };
    }
    try {
      return await processFile(
        {
          db: sql(),
          storage: storage(),
          config: processingConfig(),
          activation: activationContext(),
          ...(options.analyzers ? { analyzers: options.analyzers } : {}),
        },
        parsed.data.jobId,
      );
    } catch (error) {
      // Only the claim (or the configuration) can get here: nothing was claimed, nothing to release.
      log.error('process/file: could not start', { jobId: parsed.data.jobId, ...describeError(error) });
      return { error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
    }
  };
}
