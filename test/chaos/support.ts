// Shared by the chaos scenarios (npm run test:chaos): the whole local platform, uploads through the
// typed client with their SHA-256 declared, the worker processes the runtime starts (to kill or
// pause them), and one check of the invariants every scenario states, made from the database and
// the store, never from logs:
//
//   - no lost job: every upload the client saw accepted has its job;
//   - settled: no job left queued, processing or awaiting its upload;
//   - exactly once: each job succeeded with one 'succeeded' event and one result;
//   - bytes intact: the result's SHA-256 and size are the uploaded bytes', and so are the stored
//     object's, read back from the bucket.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { JobStatus } from '../../src/db/jobs.js';
import { isRunning } from '../helpers/processes.js';
import { startProcessingPlatform, type ProcessingPlatform } from '../processing/support.js';
import type { TestPlatformOptions } from '../helpers/platform.js';

export interface ChaosPlatform extends ProcessingPlatform {
  /** Live worker processes running process/file (any build), as the runtime reported starting them. */
  fileWorkers(): number[];
  /** When the runtime switched to new bundles (epoch ms), one per deploy, in order. */
  deployedAt(): number[];
}

const workerStarted = /functions: started worker pid (\d+) for (\S+) \(build (\w+)\)/;

export async function startChaosPlatform(env: Record<string, string>, options: Omit<TestPlatformOptions, 'env' | 'log'> = {}): Promise<ChaosPlatform> {
  const fileWorkerPids = new Set<number>();
  const deploys: number[] = [];
  const p = await startProcessingPlatform(env, {
    ...options,
    log: (line) => {
      const match = workerStarted.exec(line);
      if (match?.[2] === 'process/file') fileWorkerPids.add(Number(match[1]));
      if (line.startsWith('functions: deployed ')) deploys.push(Date.now());
    },
  });
  const initialDeploys = deploys.length;
  return Object.assign(p, {
    fileWorkers: () => [...fileWorkerPids].filter((pid) => isRunning(pid)),
    deployedAt: () => deploys.slice(initialDeploys),
  });
}

export interface Upload {
  jobId: string;
  token: string;
  filename: string;
  size: number;
  sha256: string;
}

export function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A small text file, distinct per index, uploaded with its SHA-256 declared (process/file rejects other bytes). */
export async function uploadText(p: ProcessingPlatform, filename: string, body: string): Promise<Upload> {
  const data = new TextEncoder().encode(body);
  const sha256 = sha256Of(data);
  const { jobId, token } = await p.upload(data, filename, 'text/plain', { sha256 });
  return { jobId, token, filename, size: data.length, sha256 };
}

const unsettled: readonly JobStatus[] = ['queued', 'processing', 'awaiting_upload'];

export interface SettleOptions {
  timeoutMs: number;
  /** Run a sweep this often while waiting, standing in for the scheduled trigger (every minute deployed). */
  sweepEveryMs?: number;
}

/** Waits until none of the jobs is queued, processing or awaiting its upload; fails after `timeoutMs`. */
export async function settle(p: ProcessingPlatform, uploads: readonly Upload[], o: SettleOptions): Promise<number> {
  const started = Date.now();
  let lastSweep = started;
  const jobIds = uploads.map((upload) => upload.jobId);
  try {
    await pollUnsettled();
  } catch (error) {
    // Which jobs, and how far each got: what a CI log needs to tell a stuck job from a slow machine.
    console.log(`not settled after ${o.timeoutMs} ms:\n${await describeUnsettled(p, jobIds)}`);
    throw error;
  }
  return Date.now() - started;

  async function pollUnsettled(): Promise<void> {
    await expect
    .poll(
      async () => {
        if (o.sweepEveryMs !== undefined && Date.now() - lastSweep >= o.sweepEveryMs) {
          lastSweep = Date.now();
          await p.sweep().catch(() => undefined);
        }
        const rows = await p.db<{ count: number }[]>`
          SELECT count(*)::int AS count FROM jobs
          WHERE id = ANY(${p.db.array(jobIds)}::uuid[]) AND status IN ${p.db([...unsettled])}`;
        return rows[0]?.count;
      },
      { timeout: o.timeoutMs, interval: 250 },
    )
    .toBe(0);
  }
}

/** One line per unsettled job: status, attempts, reservation, lease, and its last events. */
async function describeUnsettled(p: ProcessingPlatform, jobIds: readonly string[]): Promise<string> {
  const rows = await p.db<{ id: string; filename: string; status: string; attempts: number; dispatchedAt: Date | null; leaseExpiresAt: Date | null; runAfter: Date }[]>`
    SELECT id, filename, status, attempts, dispatched_at, lease_expires_at, run_after FROM jobs
    WHERE id = ANY(${p.db.array([...jobIds])}::uuid[]) AND status IN ${p.db([...unsettled])}`;
  const lines: string[] = [];
  for (const row of rows) {
    const events = await p.db<{ event: string; attempt: number; at: Date; activationId: string | null }[]>`
      SELECT event, attempt, at, activation_id FROM job_events WHERE job_id = ${row.id} ORDER BY at DESC, id DESC LIMIT 5`;
    const history = events
      .reverse()
      .map((event) => `${event.event}#${event.attempt}@${event.at.toISOString().slice(11, 23)}${event.activationId === null ? '' : ` (${event.activationId.slice(0, 8)})`}`)
      .join(' → ');
    lines.push(
      `  ${row.filename}: ${row.status}, attempts ${row.attempts}, dispatched ${row.dispatchedAt?.toISOString() ?? '-'}, lease ${row.leaseExpiresAt?.toISOString() ?? '-'}, run after ${row.runAfter.toISOString()}; ${history}`,
    );
  }
  return lines.join('\n');
}

export interface InvariantReport {
  jobs: number;
  /** Attempts per job beyond the first (retries, kills): how much the chaos cost. */
  extraAttempts: number;
}

/** The invariants above, for these uploads, once settled. */
export async function expectInvariants(p: ProcessingPlatform, uploads: readonly Upload[]): Promise<InvariantReport> {
  const jobIds = uploads.map((upload) => upload.jobId);
  expect(new Set(jobIds).size, 'one job per upload').toBe(uploads.length);
  const rows = await p.db<{ id: string; status: JobStatus; attempts: number; maxAttempts: number; result: Record<string, Record<string, unknown>> | null }[]>`
    SELECT id, status, attempts, max_attempts, result FROM jobs WHERE id = ANY(${p.db.array(jobIds)}::uuid[])`;
  const byId = new Map(rows.map((row) => [row.id, row]));
  const succeededEvents = await p.db<{ jobId: string; count: number }[]>`
    SELECT job_id, count(*)::int AS count FROM job_events
    WHERE job_id = ANY(${p.db.array(jobIds)}::uuid[]) AND event = 'succeeded' GROUP BY job_id`;
  const successes = new Map(succeededEvents.map((row) => [row.jobId, row.count]));
  let extraAttempts = 0;
  for (const upload of uploads) {
    const job = byId.get(upload.jobId);
    expect(job, `job ${upload.jobId} (${upload.filename}) is lost`).toBeDefined();
    if (job === undefined) continue;
    expect(job.status, `${upload.filename}: status`).toBe('succeeded');
    expect(successes.get(upload.jobId), `${upload.filename}: 'succeeded' events`).toBe(1);
    expect(job.attempts).toBeLessThanOrEqual(job.maxAttempts);
    extraAttempts += job.attempts - 1;
    expect(job.result?.file, `${upload.filename}: result`).toMatchObject({ sha256: upload.sha256, size: upload.size });
  }
  // Nothing anywhere is left in flight, the scenario's jobs or any other.
  const stuck = await p.db<{ count: number }[]>`SELECT count(*)::int AS count FROM jobs WHERE status IN ('queued', 'processing')`;
  expect(stuck[0]?.count, 'jobs left queued or processing').toBe(0);
  await expectStoredBytes(p, uploads);
  return { jobs: uploads.length, extraAttempts };
}

/** The objects in the bucket are the uploaded bytes (read back and hashed), a few at a time. */
async function expectStoredBytes(p: ProcessingPlatform, uploads: readonly Upload[]): Promise<void> {
  const keys = await p.db<{ id: string; objectKey: string }[]>`
    SELECT id, object_key FROM jobs WHERE id = ANY(${p.db.array(uploads.map((upload) => upload.jobId))}::uuid[])`;
  const keyOf = new Map(keys.map((row) => [row.id, row.objectKey]));
  for (let index = 0; index < uploads.length; index += 8) {
    await Promise.all(
      uploads.slice(index, index + 8).map(async (upload) => {
        const object = await p.storage.client.send(new GetObjectCommand({ Bucket: p.storage.bucket, Key: keyOf.get(upload.jobId) }));
        const bytes = await object.Body?.transformToByteArray();
        expect(bytes === undefined ? undefined : sha256Of(bytes), `${upload.filename}: stored bytes`).toBe(upload.sha256);
      }),
    );
  }
}

/** A random pick, for the scenarios that hit workers at random. */
export function pickRandom<T>(items: readonly T[]): T | undefined {
  return items[Math.floor(Math.random() * items.length)];
}
