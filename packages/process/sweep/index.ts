// process/sweep {}: the reconciler (src/jobs/sweep.ts), every minute from the scheduled trigger in
// project.yml and when API activity finds the last sweep older than a minute.
import { sweepMain } from '../../../src/jobs/sweep-handler.js';

export const main = sweepMain;
