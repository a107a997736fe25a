// The whole system on the local platform: how long it takes to start, how fast the web functions
// answer warm, how fast bytes go up, and how long a file takes from `complete` to `succeeded` —
// with the worker's peak memory while it streams.
import { createClient, uploadFile, waitForJob } from '../src/client/index.js';
import { startPlatform, type Platform } from '../src/local/platform.js';
import { generateBlob, type InputKind } from './generate.js';
import { formatMs, mebibyte, mibPerSecond, peakSampler, percentile } from './measure.js';
import { residentBytes, workerPids } from '../test/helpers/processes.js';

const rootDir = new URL('..', import.meta.url).pathname;

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

/** From `complete` to `succeeded` for one file, with the worker process's peak RSS while it ran. */
export async function benchProcessing(platform: Platform, kind: InputKind, sizeBytes: number): Promise<Record<string, string>> {
  const client = createClient({ apiBase: platform.apiBase });
  const blob = await generateBlob(kind, sizeBytes);
  const sampler = peakSampler(() => Math.max(0, ...workerPids().map((pid) => residentBytes(pid) ?? 0)));
  const uploaded = await uploadFile(client, blob, { filename: `bench.${kind}`, contentType: blob.type });
  const started = performance.now();
  const job = await waitForJob(client, uploaded.jobId, uploaded.token, { intervalMs: 100 });
  const elapsedMs = performance.now() - started;
  const peak = sampler.stop();
  if (job.status !== 'succeeded') throw new Error(`bench job ended ${job.status}: ${JSON.stringify(job.error ?? {})}`);
  return {
    file: `${kind}, ${sizeBytes / mebibyte} MiB`,
    'complete → succeeded': `${(elapsedMs / 1000).toFixed(1)} s`,
    throughput: mibPerSecond(sizeBytes, elapsedMs),
    'worker peak RSS': `${Math.round(peak / mebibyte)} MiB`,
  };
}
