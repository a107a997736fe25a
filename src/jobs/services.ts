// What the upload operations need, gathered in one object so handlers build it from the
// environment and tests build it from the services they started (real Postgres and S3 server).
import {
  activationContext,
  processingConfig,
  uploadConfig,
  type ActivationContext,
  type UploadConfig,
} from '../config.js';
import { sql, type Actor, type Sql } from '../db/client.js';
import { storage, type Storage } from '../storage/spaces.js';

export interface UploadServices {
  db: Sql;
  storage: Storage;
  config: UploadConfig;
  /** Where and as whom process/file is invoked; apiHost/apiKey unset → jobs wait for the sweep. */
  activation: ActivationContext;
  maxConcurrentJobs: number;
}

/** The running function's services: shared clients, this activation's identity. */
export function uploadServices(): UploadServices {
  return {
    db: sql(),
    storage: storage(),
    config: uploadConfig(),
    activation: activationContext(),
    maxConcurrentJobs: processingConfig().maxConcurrentJobs,
  };
}

/** Who is writing, for job events: this activation and the code version it runs (sweep and process/file too). */
export function actorOf(services: { activation: Pick<ActivationContext, 'activationId' | 'codeVersion'> }): Actor {
  return { activationId: services.activation.activationId ?? null, codeVersion: services.activation.codeVersion ?? null };
}
