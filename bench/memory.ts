// The process/file worker's peak memory per file, from 100 MiB to 4 GiB (issue 10: "worker peak
// RSS flat and under 150 MB"). Each file is written to disk as it is generated, uploaded from
// there by offset (openFileSource, as the CLI does: never fs.openAsBlob, whose size wraps at 4 GiB
// on Node 20) and run by the real function on the local platform, each on a worker process started
// for it, so its VmHWM is that file's peak and not the highest of every job the worker ran.
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openFileSource } from '../src/client/file-source.js';
import { loadDatabaseConfig } from '../src/config.js';
import { createSql } from '../src/db/client.js';
import type { Platform } from '../src/local/platform.js';
import { processMemory } from '../src/local/processes.js';
import { createStorage, deleteObject, headObject } from '../src/storage/spaces.js';
import { generate, inputContentTypes, type InputKind } from './generate.js';
import { mebibyte, spread, stats } from './measure.js';
import { runBenchJob } from './system.js';

/** The issue's sizes; `--sizes` picks others, `--quick` only the first. */
export const memorySizesMiB = [100, 1024, 4096];
export const memoryKinds: readonly InputKind[] = ['csv', 'binary'];
/** Runs per file: three, one from 4 GiB (a 4 GiB CSV takes minutes to make, upload and profile). */
export const memoryRuns = (sizeBytes: number): number => (sizeBytes >= 4096 * mebibyte ? 1 : 3);

const mib = (bytes: number) => `${Math.round(bytes / mebibyte)} MiB`;

/**
 * Ends the worker `pid` (one the runtime started for this benchmark) and waits until it is gone.
 * The runtime reuses a warm idle worker of the same build and has no other way to retire one (a
 * redeploy of unchanged code keeps its workers), so this is how the next file gets a new process.
 * A worker that has exited is never handed an activation again (Worker.alive).
 */
async function endWorker(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  // Gone from /proc once reaped, which is when Node emits its 'exit' (a zombie still has an entry).
  while (existsSync(`/proc/${pid}`)) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * The anchor: a process/file worker that has started, initialized and run one activation that
 * claims nothing (a job id that does not exist), so it has loaded the bundle and connected to
 * Postgres but read no file. Its VmRSS and VmHWM, then it is ended.
 */
async function idleWorker(platform: Platform): Promise<{ resident: number; peak: number }> {
  const record = await platform.runtime.invoke('process/file', { jobId: randomUUID() });
  const pid = record.annotations.find((annotation) => annotation.key === 'workerPid')?.value;
  if (typeof pid !== 'number' || record.response.result.claimed !== false) throw new Error(`idle process/file activation: ${JSON.stringify(record.response.result)}`);
  const memory = processMemory(pid);
  if (memory === undefined) throw new Error(`idle worker ${pid} is gone`);
  await endWorker(pid);
  return { resident: memory.residentBytes, peak: memory.peakResidentBytes };
}

async function writeFile(file: string, kind: InputKind, sizeBytes: number): Promise<void> {
  await pipeline(Readable.from(generate(kind, sizeBytes)), createWriteStream(file));
}

export async function benchMemory(platform: Platform, sizesMiB: readonly number[], runsOf = memoryRuns): Promise<{ rows: Array<Record<string, string>>; notes: string[] }> {
  const db = createSql(loadDatabaseConfig(platform.env));
  const storage = createStorage({ ...platform.spaces, forcePathStyle: true });
  const directory = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-memory-'));
  const rows: Array<Record<string, string>> = [];
  const workers = new Set<number>();
  try {
    const idle = [];
    for (let run = 0; run < 3; run += 1) idle.push(await idleWorker(platform));
    const idlePeak = idle.map((worker) => worker.peak);
    rows.push({
      file: 'idle worker (started, one activation that claims nothing), 3 runs',
      'worker peak RSS (VmHWM)': spread(idlePeak, mib),
      'peak − idle peak': '—',
      'RSS after': spread(idle.map((worker) => worker.resident), mib),
      attempt: '—',
      'throughput (attempt)': '—',
      'stored object': '—',
    });
    const idleMedian = stats(idlePeak).median;
    for (const kind of memoryKinds) {
      for (const sizeMiB of sizesMiB) {
        const sizeBytes = sizeMiB * mebibyte;
        const file = path.join(directory, `bench-${sizeMiB}MiB.${kind}`);
        await writeFile(file, kind, sizeBytes);
        const peaks: number[] = [];
        const after: number[] = [];
        const attemptMs: number[] = [];
        try {
          for (let run = 0; run < runsOf(sizeBytes); run += 1) {
            const source = await openFileSource(file);
            let job;
            try {
              if (source.size !== sizeBytes) throw new Error(`${file} is ${source.size} bytes, not ${sizeBytes}`);
              job = await runBenchJob(platform, db, source, { filename: path.basename(file), contentType: inputContentTypes[kind] });
            } finally {
              await source.close();
            }
            // A new process for every file: started for this activation (it ran /init) and never seen before.
            if (!job.coldWorker || workers.has(job.workerPid)) throw new Error(`job ${job.jobId} ran on a worker that had run before (pid ${job.workerPid})`);
            workers.add(job.workerPid);
            const memory = processMemory(job.workerPid);
            if (memory === undefined) throw new Error(`worker ${job.workerPid} is gone`);
            await endWorker(job.workerPid);
            const stored = await headObject(storage, job.objectKey);
            if (stored?.size !== sizeBytes || job.bytes !== sizeBytes) {
              throw new Error(`${kind} ${sizeMiB} MiB: stored ${stored?.size ?? 'nothing'} bytes, process/file read ${job.bytes}, the file has ${sizeBytes}`);
            }
            await deleteObject(storage, job.objectKey);
            peaks.push(memory.peakResidentBytes);
            after.push(memory.residentBytes);
            attemptMs.push(job.attemptMs);
            console.log(`  memory: ${kind} ${sizeMiB} MiB run ${run + 1}: peak ${mib(memory.peakResidentBytes)}, attempt ${(job.attemptMs / 1000).toFixed(1)} s`);
          }
        } finally {
          await rm(file, { force: true });
        }
        rows.push({
          file: `${kind}, ${sizeMiB >= 1024 ? `${sizeMiB / 1024} GiB` : `${sizeMiB} MiB`}, ${peaks.length} run${peaks.length === 1 ? '' : 's'}`,
          'worker peak RSS (VmHWM)': spread(peaks, mib),
          'peak − idle peak': spread(
            peaks.map((peak) => peak - idleMedian),
            mib,
          ),
          'RSS after': spread(after, mib),
          attempt: spread(attemptMs, (ms) => `${(ms / 1000).toFixed(2)} s`),
          'throughput (attempt)': spread(
            attemptMs.map((ms) => sizeBytes / 1e6 / (ms / 1000)),
            (value) => `${value.toFixed(0)} MB/s`,
          ),
          'stored object': `${sizeBytes.toLocaleString('en-US')} B, as the file`,
        });
      }
    }
  } finally {
    storage.client.destroy();
    await db.end();
    await rm(directory, { recursive: true, force: true });
  }
  return {
    rows,
    notes: [
      'Peak RSS is the worker\'s VmHWM, read once its activation has ended; every file ran on a worker started for it (and each idle one on its own). The limit is 256 MB (process/file\'s limits.memory); the goal under 150 MB.',
    ],
  };
}
