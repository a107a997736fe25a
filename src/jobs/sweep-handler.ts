// The process/sweep entry point. Never throws (a throw discards the warm container, PLATFORM-FACTS
// "Web functions"); a failure is a result with an `error` field, an application error.
import { activationContext, processingConfig } from '../config.js';
import { sql } from '../db/client.js';
import { describeError, log } from '../log.js';
import { storage } from '../storage/spaces.js';
import { runSweep, type SweepResult } from './sweep.js';

export async function sweepMain(): Promise<SweepResult | { error: { code: string; message: string } }> {
  try {
    return await runSweep({ db: sql(), storage: storage(), config: processingConfig(), activation: activationContext() });
  } catch (error) {
    log.error('process/sweep failed', describeError(error));
    return { error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
  }
}
