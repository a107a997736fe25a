// process/file reads the object as one stream and never holds the file: the worker process's
// resident memory while it processes a 150 MiB file stays within a bound far below the file's size.
// (The benchmark measures larger files; this keeps the test short.)
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../../src/client/index.js';
import { residentBytes } from '../helpers/processes.js';
import { repeatToSize, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;
let directory: string;
const mebibyte = 1024 * 1024;
const fileBytes = 150 * mebibyte;
/** Generous: a worker's baseline is ~60–90 MiB here; buffering the file would add 150 MiB or more. */
const maxWorkerRssBytes = 160 * mebibyte;

beforeAll(async () => {
  p = await startProcessingPlatform();
  await p.holdActivitySweeps();
  directory = await mkdtemp(path.join(os.tmpdir(), 'sluice-memory-'));
});

afterAll(async () => {
  await p?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});


describe('memory while processing a large file', () => {
  it('keeps the worker’s RSS bounded', async () => {
    const file = path.join(directory, 'lines.txt');
    await writeFile(file, repeatToSize('a line of plain text, with some words in it\n', fileBytes));
    const pid = await p.warmFileWorker();
    const baseline = residentBytes(pid);

    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rss = residentBytes(pid);
        if (rss !== undefined) samples.push(rss);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const blob = await openAsBlob(file, { type: 'text/plain' });
    const { jobId } = await uploadFile(p.client, blob, { filename: 'lines.txt' });
    await expect.poll(async () => (await p.job(jobId)).status, { timeout: 25_000, interval: 100 }).toBe('succeeded');
    sampling = false;
    await sampler;

    const job = await p.job(jobId);
    expect(job.result).toHaveProperty('file.size', fileBytes);
    expect(job.result).toHaveProperty('text.lines', Math.ceil(fileBytes / 44));
    // It ran in the watched worker.
    const claim = (await p.events(jobId)).find((event) => event.event === 'claimed');
    await expect.poll(() => p.activation(claim?.activationId ?? ''), { timeout: 5_000 }).toBeDefined();
    expect(p.activation(claim?.activationId ?? '')?.annotations).toContainEqual({ key: 'workerPid', value: pid });

    const peak = Math.max(...samples);
    const events = await p.events(jobId);
    const processingMs = (events.find((event) => event.event === 'succeeded')?.at.getTime() ?? 0) - (claim?.at.getTime() ?? 0);
    console.log(
      `process/file worker RSS: baseline ${((baseline ?? 0) / mebibyte).toFixed(1)} MiB, peak ${(peak / mebibyte).toFixed(1)} MiB ` +
        `over ${samples.length} samples for a ${fileBytes / mebibyte} MiB file read in ${processingMs} ms`,
    );
    expect(samples.length).toBeGreaterThan(10);
    expect(peak).toBeLessThan(maxWorkerRssBytes);
  });
});
