// The whole system on the local platform: how long it takes to start, how fast the web functions
// answer warm, how fast bytes go up, and how long a file takes from `complete` to `succeeded` —
// with the worker's peak memory while it streams.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createClient, uploadFile, type UploadSource } from '../src/client/index.js';
import { loadDatabaseConfig } from '../src/config.js';
import { createSql, type Sql } from '../src/db/client.js';
import { startPlatform, type Platform } from '../src/local/platform.js';
import { generateBlob, type InputKind } from './generate.js';
import { formatMs, mebibyte, mibPerSecond, percentile, spread } from './measure.js';
import { processMemory } from '../src/local/processes.js';

const rootDir = new URL('..', import.meta.url).pathname;
const execFileAsync = promisify(execFile);

export async function startBenchPlatform(env: Record<string, string> = {}): Promise<{ platform: Platform; startMs: number }> {
  const started = performance.now();
  const platform = await startPlatform({
    rootDir,
    ports: { web: 0, functions: 0, spaces: 0, postgres: 0 },
    triggers: false,
    env: { UPLOADS_PER_HOUR: '1000000', ...env },
  });
  return { platform, startMs: performance.now() - started };
}

/**
 * Web-function latency over HTTP: the first call of each function (a cold worker: process start,
 * /init, first connection to Postgres) and then `calls` warm ones, one after another.
 */
export async function benchLatency(platform: Platform, calls: number): Promise<Array<Record<string, string>>> {
  const client = createClient({ apiBase: platform.apiBase });
  const rows: Array<Record<string, string>> = [];
  const createOne = () => client.create({ filename: 'bench.csv', size: 1024, contentType: 'text/csv' });
  // The very first call of each function meets a cold worker; the job it creates serves `status`.
  const coldCreateStarted = performance.now();
  const created = await createOne();
  const coldCreateMs = performance.now() - coldCreateStarted;
  const scenarios: Array<[string, () => Promise<unknown>, number | undefined]> = [
    ['presign/create (single PUT plan)', createOne, coldCreateMs],
    ['presign/status (job with events)', () => client.status({ jobId: created.jobId, token: created.token }), undefined],
  ];
  for (const [name, call, measuredColdMs] of scenarios) {
    let firstMs = measuredColdMs;
    if (firstMs === undefined) {
      const coldStarted = performance.now();
      await call();
      firstMs = performance.now() - coldStarted;
    }
    const samples: number[] = [];
    for (let index = 0; index < calls; index++) {
      const started = performance.now();
      await call();
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    rows.push({
      call: name,
      first: formatMs(firstMs),
      p50: formatMs(percentile(samples, 0.5)),
      p95: formatMs(percentile(samples, 0.95)),
      p99: formatMs(percentile(samples, 0.99)),
      calls: String(calls),
    });
  }
  return rows;
}

/**
 * Bytes up through the typed client, create to complete: a file just under the multipart threshold
 * (one presigned PUT) and one of `sizeBytes` above it (multipart, parts in parallel).
 */
export async function benchUpload(platform: Platform, sizeBytes: number): Promise<Array<Record<string, string>>> {
  const client = createClient({ apiBase: platform.apiBase });
  const thresholdBytes = Number(platform.env.MULTIPART_THRESHOLD_BYTES);
  const rows: Array<Record<string, string>> = [];
  for (const size of [thresholdBytes - mebibyte, sizeBytes]) {
    const blob = await generateBlob('binary', size);
    const started = performance.now();
    const result = await uploadFile(client, blob, { filename: 'upload.bin', contentType: blob.type });
    const elapsedMs = performance.now() - started;
    const created = await client.status({ jobId: result.jobId, token: result.token });
    rows.push({
      upload: `${(size / mebibyte).toFixed(0)} MiB`,
      kind: size < thresholdBytes ? 'one presigned PUT' : 'multipart, 4 parts in flight',
      time: `${(elapsedMs / 1000).toFixed(2)} s`,
      throughput: mibPerSecond(size, elapsedMs),
      'job after complete': created.job.status,
    });
  }
  return rows;
}

/** How often the job row is looked at while a benchmark job runs. */
const jobPollMs = 10;
/** Processing runs per kind: each is an upload, its job run to the end, and a plain GET of the object. */
export const processingRuns = 3;

/** The time a plain GET of `key` takes from a process of its own (bench/plain-get.ts). */
async function plainGetMs(platform: Platform, key: string, sizeBytes: number): Promise<number> {
  const script = new URL('./plain-get.ts', import.meta.url).pathname;
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script, JSON.stringify({ spaces: platform.spaces, key })], {
    cwd: rootDir,
  });
  const { ms, bytes } = JSON.parse(stdout) as { ms: number; bytes: number };
  if (bytes !== sizeBytes) throw new Error(`plain GET of ${key} read ${bytes} bytes of ${sizeBytes}`);
  return ms;
}

/** One benchmark job: uploaded, run by process/file to the end, and what its activation reported. */
export interface BenchJob {
  jobId: string;
  objectKey: string;
  /** `complete` answered → `succeeded` seen in Postgres (dispatch included). */
  endToEndMs: number;
  /** Claim → result written, as process/file reports it. */
  attemptMs: number;
  /** The bytes process/file read, as it reports them. */
  bytes: number;
  /** The worker process that ran the attempt, and whether it started for it (its /init was in this activation). */
  workerPid: number;
  coldWorker: boolean;
}

/**
 * Uploads `source` through the typed client and waits until process/file has run its job to the
 * end; throws unless it succeeded. The job is watched in Postgres (its own process), not through
 * presign/status: every status call would go through the runtime in this process, which also
 * runs the local S3 server the worker is reading from. An attempt whose activation ended without a recorded outcome (a worker
 * killed at its memory limit leaves the job `processing` until its lease lapses) fails at once.
 */
export async function runBenchJob(platform: Platform, db: Sql, source: UploadSource, options: { filename: string; contentType: string }): Promise<BenchJob> {
  const client = createClient({ apiBase: platform.apiBase });
  const uploaded = await uploadFile(client, source, options);
  const started = performance.now();
  let endToEndMs: number | undefined;
  for (;;) {
    const [state] = await db<{ status: string; activationId: string | null; objectKey: string; errorMessage: string | null }[]>`
      SELECT status, activation_id, object_key, error_message FROM jobs WHERE id = ${uploaded.jobId}`;
    if (state === undefined) throw new Error(`bench job ${uploaded.jobId} is gone`);
    if (state.status === 'succeeded') endToEndMs ??= performance.now() - started;
    // The record appears once the activation has ended (after its hand-off of the slot).
    const record = state.activationId === null ? undefined : platform.runtime.activation(state.activationId);
    if (record !== undefined && endToEndMs !== undefined) {
      const reported = record.response.result;
      const workerPid = record.annotations.find((annotation) => annotation.key === 'workerPid')?.value;
      if (typeof reported.durationMs !== 'number' || typeof workerPid !== 'number') throw new Error(`process/file activation of job ${uploaded.jobId} reported no duration or worker`);
      return {
        jobId: uploaded.jobId,
        objectKey: state.objectKey,
        endToEndMs,
        attemptMs: reported.durationMs,
        bytes: typeof reported.bytes === 'number' ? reported.bytes : Number.NaN,
        workerPid,
        coldWorker: record.annotations.some((annotation) => annotation.key === 'initTime'),
      };
    }
    // Ended without success: retried or failed (its error recorded), or killed before it could record anything.
    if (record !== undefined && state.status !== 'succeeded') {
      throw new Error(`bench job ${uploaded.jobId} is ${state.status} after its attempt: ${state.errorMessage ?? JSON.stringify(record.response.result)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, jobPollMs));
  }
}

/**
 * `runs` files of one kind, each from `complete` to `succeeded`, with the worker process's peak
 * RSS (VmHWM: since the worker started, so over every job it ran), against a plain GET of the
 * same object in the same run, from a process of its own as the worker is. Two process/file
 * figures: end to end (complete answered → succeeded seen, dispatch included) and the attempt
 * itself (claim → result written, as process/file reports it). The ratios are GET time ÷
 * process/file time per run: 1.0× is as fast as only reading the bytes. (bench/memory.ts has each
 * file's own peak, on a fresh worker, up to 4 GiB.)
 */
export async function benchProcessing(platform: Platform, kind: InputKind, sizeBytes: number, runs = processingRuns): Promise<Record<string, string>> {
  const db = createSql(loadDatabaseConfig(platform.env));
  const endToEndMs: number[] = [];
  const attemptMs: number[] = [];
  const getMs: number[] = [];
  let peak = 0;
  try {
    for (let run = 0; run < runs; run += 1) {
      const blob = await generateBlob(kind, sizeBytes);
      const job = await runBenchJob(platform, db, blob, { filename: `bench.${kind}`, contentType: blob.type });
      endToEndMs.push(job.endToEndMs);
      attemptMs.push(job.attemptMs);
      // The kernel's own peak (VmHWM), read once afterwards: sampling /proc every few ms from this
      // process, which also runs the local S3 server, slowed the very GET being measured.
      peak = Math.max(peak, processMemory(job.workerPid)?.peakResidentBytes ?? 0);
      getMs.push(await plainGetMs(platform, job.objectKey, sizeBytes));
    }
  } finally {
    await db.end();
  }
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const times = (value: number) => `${value.toFixed(2)}×`;
  return {
    file: `${kind}, ${sizeBytes / mebibyte} MiB, ${runs} runs`,
    'complete → succeeded': spread(endToEndMs, seconds),
    'attempt (claim → result)': spread(attemptMs, seconds),
    'plain GET, same object': spread(getMs, seconds),
    'throughput (attempt)': spread(attemptMs.map((ms) => sizeBytes / 1e6 / (ms / 1000)), (value) => `${value.toFixed(0)} MB/s`),
    'GET ÷ attempt': spread(attemptMs.map((ms, index) => (getMs[index] as number) / ms), times),
    'GET ÷ end to end': spread(endToEndMs.map((ms, index) => (getMs[index] as number) / ms), times),
    'worker peak RSS': `${Math.round(peak / mebibyte)} MiB`,
  };
}
