// Real services for the core tests: a PostgreSQL 17 server with the project's migrations, and the
// local S3 server. Each test file starts its own and stops it in afterAll.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadUploadConfig } from '../../src/config.js';
import { randomUUID } from 'node:crypto';
import { newJobToken } from '../../src/auth/job-tokens.js';
import { createSql, type Sql } from '../../src/db/client.js';
import type { NewJob } from '../../src/db/jobs.js';
import { migrate } from '../../src/db/migrate.js';
import { startLocalPostgres } from '../../src/local/postgres.js';
import { ApiError } from '../../src/errors.js';
import type { UploadServices } from '../../src/jobs/services.js';
import { startLocalSpaces } from '../../src/local/spaces.js';
import { createStorage, type Storage } from '../../src/storage/spaces.js';

export interface CoreServices {
  db: Sql;
  databaseUrl: string;
  storage?: Storage;
  stop(): Promise<void>;
}

export async function startCoreServices(options: { spaces?: boolean } = {}): Promise<CoreServices> {
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-core-'));
  const postgres = await startLocalPostgres({ dataDir: path.join(workDir, 'pg'), persistent: false });
  // The server takes verified TLS only, as Managed PostgreSQL does.
  await migrate(postgres.url, { caCert: postgres.caCert });
  const db = createSql({ url: postgres.url, caCert: postgres.caCert }, { max: 4 });
  const spaces = options.spaces
    ? await startLocalSpaces({ directory: path.join(workDir, 's3'), bucket: 'sluice-core', allowedOrigins: [] })
    : undefined;
  return {
    db,
    databaseUrl: postgres.url,
    ...(spaces
      ? {
          storage: createStorage({
            endpoint: spaces.endpoint,
            region: spaces.region,
            bucket: spaces.bucket,
            accessKeyId: spaces.accessKeyId,
            secretAccessKey: spaces.secretAccessKey,
            forcePathStyle: true,
          }),
        }
      : {}),
    async stop() {
      await db.end();
      await spaces?.stop();
      await postgres.stop();
      await fs.rm(workDir, { recursive: true, force: true });
    },
  };
}

/** Upload services over the started Postgres and S3 server. No invoke API: dispatch fails softly and jobs stay queued. */
export function uploadServicesFor(core: CoreServices, env: Record<string, string>): UploadServices {
  if (!core.storage) throw new Error('start the core services with spaces: true');
  return {
    db: core.db,
    storage: core.storage,
    config: loadUploadConfig(env),
    activation: { apiHost: undefined, apiKey: undefined, accessKey: undefined, activationId: 'act-test', codeVersion: 'test', deadlineMs: undefined },
    maxConcurrentJobs: 10,
  };
}

let clientCounter = 0;
/**
 * Headers of a new client IP, so the per-client limits of one test do not touch another: an entry
 * the client wrote itself, then the address the edge appended (the one that counts).
 */
export function freshClient(): Record<string, string> {
  clientCounter += 1;
  return { 'x-forwarded-for': `172.16.0.1, 10.0.${Math.floor(clientCounter / 250)}.${clientCounter % 250}` };
}

/** The ApiError a promise rejects with (fails the test when it resolves or rejects otherwise). */
export async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

/**
 * The fields of a single-PUT job as `create` would insert them, with a fresh id and token; tests
 * override what they are about. The token is returned for the calls that need it.
 */
export function newJobFields(overrides: Partial<NewJob> = {}): { fields: NewJob; token: string } {
  const id = overrides.id ?? randomUUID();
  const filename = overrides.filename ?? 'a.txt';
  const { token, tokenHash } = newJobToken();
  return {
    token,
    fields: {
      id,
      filename,
      objectKey: `uploads/${id}/${filename}`,
      size: 10,
      contentType: 'text/plain',
      sha256: null,
      tokenHash,
      clientId: 'ip:127.0.0.1',
      uploadKind: 'single',
      uploadId: null,
      partSize: null,
      partCount: null,
      maxAttempts: 3,
      uploadWindowSeconds: 3600,
      ...overrides,
    },
  };
}
