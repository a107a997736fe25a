// The process/sweep entry point. Never throws (a throw discards the warm container, docs/platform-facts.md
// "Web functions"); a failure is a result with an `error` field, an application error.
import * as z from 'zod';
import { activationContext, processingConfig } from '../config.js';
import { sql } from '../db/client.js';
import { describeError, log } from '../log.js';
import { storage } from '../storage/spaces.js';
import { runSweep, type SweepResult } from './sweep.js';

/**
 * Non-strict: a scheduled trigger or an invoke may pass keys of its own; only `dryRun` is read.
 * `dryRun: true` is what `npm run smoke` sends with the dispatch access key: a blocking invoke
 * that proves the namespace accepts that key, and must change nothing.
 */
export const sweepParamsSchema = z.object({ dryRun: z.boolean('dryRun must be true or false').optional() });

export type SweepReply = SweepResult | { dryRun: true; ok: true } | { error: { code: string; message: string } };

export async function sweepMain(params: unknown = {}): Promise<SweepReply> {
  const parsed = sweepParamsSchema.safeParse(params ?? {});
  if (!parsed.success) {
    return { error: { code: 'VALIDATION_FAILED', message: parsed.error.issues.map((issue) => issue.message).join('; ') } };
  }
  // Before any configuration, database or storage is touched: a dry run reaches none of them.
  if (parsed.data.dryRun === true) return { dryRun: true, ok: true };
  try {
    return await runSweep({ db: sql(), storage: storage(), config: processingConfig(), activation: activationContext() });
  } catch (error) {
    log.error('process/sweep failed', describeError(error));
    return { error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
  }
}
