// Shared by the processing tests: the whole local platform (real Postgres, the SigV4-verifying S3
// server, the functions runtime running the built bundles), a database client to read job rows and
// events, uploads through the typed client, sweeps on demand, and process/file variants deployed
// the way a real deploy arrives (a new bundle for the function, running activations untouched).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient, uploadFile, type SluiceClient } from '../../src/client/index.js';
import { loadDatabaseConfig } from '../../src/config.js';
import { createSql, type Sql } from '../../src/db/client.js';
import { findJob, listJobEvents, type JobEventRow, type JobRow } from '../../src/db/jobs.js';
import { createStorage, type Storage } from '../../src/storage/spaces.js';
import { buildFunction, describeBundle } from '../../src/local/build.js';
import type { ActivationRecord } from '../../src/local/functions/runtime.js';
import type { Platform } from '../../src/local/platform.js';
import { bundlePath, loadProject, type FunctionSpec, type Project } from '../../src/local/project.js';
import { expect } from 'vitest';
import { rootDir, startTestPlatform, type TestPlatformOptions } from '../helpers/platform.js';

export interface UploadedJob {
  jobId: string;
  token: string;
}

export interface ProcessingPlatform {
  platform: Platform;
  /** The project's own database client (camelCased rows, as src/db returns them). */
  db: Sql;
  /** The project's S3 client on the platform's bucket. */
  storage: Storage;
  client: SluiceClient;
  upload(data: Uint8Array, filename: string, contentType: string, options?: { sha256?: string }): Promise<UploadedJob>;
  /** Every byte (or part) goes up, then the client vanishes: `complete` is never called. */
  uploadWithoutComplete(data: Uint8Array, filename: string, contentType: string): Promise<UploadedJob>;
  job(jobId: string): Promise<JobRow>;
  events(jobId: string): Promise<JobEventRow[]>;
  /** One process/sweep activation, run to the end. */
  sweep(): Promise<Record<string, unknown>>;
  /** Sweeps (every 200 ms here, every minute deployed) until the job reaches `status`; fails after `timeoutMs`. */
  sweepUntil(jobId: string, status: JobRow['status'], timeoutMs?: number): Promise<void>;
  /** process/file for a job, run to the end; its result. */
  processFile(jobId: string): Promise<Record<string, unknown>>;
  activation(activationId: string): ActivationRecord | undefined;
  /**
   * Runs a tiny job through process/file and returns the pid of the worker process that ran it,
   * now idle and warm: the next process/file activation runs in it (the runtime reuses a warm
   * worker of the same build), which is how a test can watch or kill the process of a job.
   */
  warmFileWorker(): Promise<number>;
  /**
   * Makes the activity-started sweep (any API call, once a minute) wait, so a test decides when
   * sweeps run. The sweeps row is the same guard production uses.
   */
  holdActivitySweeps(): Promise<void>;
  /** Redeploys process/file from a test entry (see deployFileVariant); returns the new build id. */
  deployFileVariant(entry: string, options?: { timeoutMs?: number }): Promise<string>;
  /** Back to the project's own bundles; returns process/file's build id. */
  redeployProject(): Promise<string>;
  stop(): Promise<void>;
}

export async function startProcessingPlatform(env: Record<string, string> = {}, options: Omit<TestPlatformOptions, 'env'> = {}): Promise<ProcessingPlatform> {
  const platform = await startTestPlatform({ ...options, env });
  // The functions' own database settings (DATABASE_URL, DATABASE_CA_CERT): the local Postgres
  // takes verified TLS only.
  const db = createSql(loadDatabaseConfig(platform.env), { max: 3 });
  const storage = createStorage({ ...platform.spaces, forcePathStyle: true });
  const client = createClient({ apiBase: platform.apiBase });
  const variantDirs: string[] = [];

  const upload = async (data: Uint8Array, filename: string, contentType: string, options: { sha256?: string } = {}): Promise<UploadedJob> => {
    const file = new File([new Uint8Array(data)], filename, { type: contentType });
    const result = await uploadFile(client, file, { ...(options.sha256 ? { sha256: options.sha256 } : {}) });
    return { jobId: result.jobId, token: result.token };
  };

  const invoke = async (name: string, params: object): Promise<Record<string, unknown>> => {
    const record = await platform.runtime.invoke(name, params, { blocking: true });
    return record.response.result;
  };

  return {
    platform,
    db,
    storage,
    client,
    upload,
    async uploadWithoutComplete(data, filename, contentType) {
      const vanishing = createClient({
        apiBase: platform.apiBase,
        fetch: (input, init) => {
          const url = input instanceof Request ? input.url : String(input);
          if (url.endsWith('/presign/complete')) return Promise.reject(new Error('the client went away before complete'));
          return globalThis.fetch(input, init);
        },
      });
      let created: UploadedJob | undefined;
      const file = new File([new Uint8Array(data)], filename, { type: contentType });
      await expect(
        uploadFile(vanishing, file, { retryDelaysMs: [], onCreated: (state) => (created = { jobId: state.jobId, token: state.token }) }),
      ).rejects.toThrow();
      if (created === undefined) throw new Error('the job was not created');
      return created;
    },
    async job(jobId) {
      const job = await findJob(db, jobId);
      if (job === undefined) throw new Error(`no job ${jobId}`);
      return job;
    },
    events: (jobId) => listJobEvents(db, jobId),
    sweep: () => invoke('process/sweep', {}),
    async sweepUntil(jobId, status, timeoutMs = 20_000) {
      await expect
        .poll(
          async () => {
            await invoke('process/sweep', {});
            return (await findJob(db, jobId))?.status;
          },
          { timeout: timeoutMs, interval: 200 },
        )
        .toBe(status);
    },
    processFile: (jobId) => invoke('process/file', { jobId }),
    activation: (activationId) => platform.runtime.activation(activationId),
    async warmFileWorker() {
      const { jobId } = await upload(new TextEncoder().encode('warm\n'), 'warm.txt', 'text/plain');
      await expect.poll(async () => (await findJob(db, jobId))?.status, { timeout: 15_000, interval: 50 }).toBe('succeeded');
      const claimed = (await listJobEvents(db, jobId)).find((event) => event.event === 'claimed');
      // The record exists once the activation has ended and its worker is idle again.
      await expect.poll(() => platform.runtime.activation(claimed?.activationId ?? ''), { timeout: 5_000, interval: 20 }).toBeDefined();
      const pid = workerPid(platform.runtime.activation(claimed?.activationId ?? ''));
      if (pid === undefined) throw new Error('no workerPid annotation');
      return pid;
    },
    async holdActivitySweeps() {
      await db`UPDATE sweeps SET last_started_at = now() + interval '1 day'`;
    },
    async deployFileVariant(entry, options = {}) {
      const directory = await mkdtemp(path.join(os.tmpdir(), 'sluice-variant-'));
      variantDirs.push(directory);
      const { project, variant } = await buildFileVariant(platform, directory, entry, options.timeoutMs);
      await platform.runtime.deploy(project);
      return variant.buildId;
    },
    async redeployProject() {
      await platform.redeploy();
      const project = loadProject(rootDir, { variables: platform.env });
      return describeBundle('process/file', bundlePath(fileSpec(project))).buildId;
    },
    async stop() {
      await db.end();
      storage.client.destroy();
      await platform.stop();
      for (const directory of variantDirs) await rm(directory, { recursive: true, force: true });
    },
  };
}

function fileSpec(project: Project): FunctionSpec {
  const spec = project.functions.find((fn) => fn.qualifiedName === 'process/file');
  if (spec === undefined) throw new Error('project.yml has no process/file');
  return spec;
}

/**
 * Bundles `entry` (a test fixture exporting `main`) exactly as the build bundles a function, into a
 * temporary function directory, and returns the project with process/file pointing at it — the
 * same project.yml otherwise, optionally with another `limits.timeout`.
 */
async function buildFileVariant(
  platform: Platform,
  directory: string,
  entry: string,
  timeoutMs: number | undefined,
): Promise<{ project: Project; variant: { buildId: string } }> {
  const project = loadProject(rootDir, { variables: platform.env });
  await writeFile(path.join(directory, 'index.ts'), `export { main } from ${JSON.stringify(path.resolve(rootDir, entry))};\n`);
  const spec: FunctionSpec = { ...fileSpec(project), directory, includes: ['index.js'], ...(timeoutMs === undefined ? {} : { timeoutMs }) };
  const built = await buildFunction(spec);
  return {
    project: { ...project, functions: project.functions.map((fn) => (fn.qualifiedName === 'process/file' ? spec : fn)) },
    variant: { buildId: built.buildId },
  };
}

/** The pid of the worker process an activation ran in (annotation of the local runtime). */
export function workerPid(record: ActivationRecord | undefined): number | undefined {
  const value = record?.annotations.find((annotation) => annotation.key === 'workerPid')?.value;
  return typeof value === 'number' ? value : undefined;
}

/** Events of one kind, in order. */
export function eventsNamed(events: readonly JobEventRow[], name: string): JobEventRow[] {
  return events.filter((event) => event.event === name);
}

/** `line` repeated to exactly `size` bytes (the last copy cut short). */
export function repeatToSize(line: string, size: number): Uint8Array {
  const unit = Buffer.from(line);
  const data = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += unit.length) unit.copy(data, offset, 0, Math.min(unit.length, size - offset));
  return data;
}
