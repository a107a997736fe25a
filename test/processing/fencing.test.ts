// Fencing, at the level of process/file's core (processFile) against a real Postgres and the local
// S3 server: an attempt that lost its job to a newer claim — its lease lapsed while it stalled —
// changes nothing when it finishes: no result, no rejection, no retry, and above all no deletion
// of the bytes the newer attempt is reading. A heartbeat that finds the job taken stops the read.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzers as defaultAnalyzers } from '../../src/analyzers/index.js';
import { fileAnalyzer } from '../../src/analyzers/file.js';
import type { Analyzer } from '../../src/analyzers/types.js';
import type { ActivationContext, ProcessingConfig } from '../../src/config.js';
import { insertJob, listJobEvents, type JobRow } from '../../src/db/jobs.js';
import { headObject, type Storage } from '../../src/storage/spaces.js';
import { processFile, type ProcessServices } from '../../src/jobs/process-file.js';
import { claimJob, markUploaded } from '../../src/jobs/transitions.js';
import { newJobFields, startCoreServices, type CoreServices } from '../core/support.js';

let services: CoreServices;
let storage: Storage;

beforeAll(async () => {
  services = await startCoreServices({ spaces: true });
  if (services.storage === undefined) throw new Error('no storage');
  storage = services.storage;
});
afterAll(async () => {
  await services?.stop();
});

const config: ProcessingConfig = {
  maxConcurrentJobs: 10,
  allowedContentTypes: ['*/*'],
  leaseSeconds: 30,
  heartbeatSeconds: 10,
  retryBaseDelaySeconds: 1,
};

function activation(name: string): ActivationContext {
  return { activationId: `act-${name}`, codeVersion: `build-${name}`, apiHost: undefined, apiKey: undefined, accessKey: undefined, deadlineMs: undefined };
}

function attempt(name: string, analyzers: readonly Analyzer[], overrides: Partial<ProcessingConfig> = {}): ProcessServices {
  return { db: services.db, storage, config: { ...config, ...overrides }, activation: activation(name), analyzers };
}

/** An analyzer that holds the read at its first chunk until the test opens it: an attempt stalled (GC pause, partition). */
function gate(options: { thenThrow?: boolean } = {}) {
  let enter = (): void => undefined;
  let open = (): void => undefined;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  const analyzer: Analyzer = {
    name: 'gate',
    accepts: () => true,
    create: () => ({
      async write() {
        enter();
        await opened;
        if (options.thenThrow) throw new Error('failure after the stall');
      },
      finish: async () => ({}),
    }),
  };
  return { analyzer, entered, open };
}

async function queuedJobWithObject(data: Uint8Array, options: { sha256?: string } = {}): Promise<JobRow> {
  const { fields } = newJobFields({ filename: 'data.txt', size: data.length, maxAttempts: 5, ...options });
  await storage.client.send(new PutObjectCommand({ Bucket: storage.bucket, Key: fields.objectKey, Body: data, ContentType: 'text/plain' }));
  const api = { activationId: 'act-api', codeVersion: 'build-api' };
  const job = await insertJob(services.db, fields, api);
  await markUploaded(services.db, job.id, api);
  return job;
}

/** What the sweep would see for a stalled attempt: its lease in the past (without waiting for it). */
async function lapseLease(jobId: string): Promise<void> {
  await services.db`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = ${jobId}`;
}

async function row(jobId: string) {
  const rows = await services.db<{ status: string; attempts: number; activationId: string; result: unknown; errorCode: string | null }[]>`
    SELECT status, attempts, activation_id, result, error_code FROM jobs WHERE id = ${jobId}`;
  return rows[0];
}

const text = new TextEncoder().encode('one line\nanother line\n');

describe('a stale attempt after a newer claim', () => {
  it('cannot reject the job, and does not delete the object the newer attempt reads', async () => {
    const job = await queuedJobWithObject(text, { sha256: 'f'.repeat(64) });
    const stalled = gate();
    const zombie = processFile(attempt('A', [fileAnalyzer, stalled.analyzer]), job.id);
    await stalled.entered;

    await lapseLease(job.id);
    const newer = await claimJob(services.db, job.id, { leaseSeconds: 30, actor: { activationId: 'act-B', codeVersion: 'build-B' } });
    expect(newer?.attempts).toBe(2);

    stalled.open();
    // Without the fence, A would now reject the job (its sha256 is wrong) and delete the object.
    expect(await zombie).toMatchObject({ claimed: true, attempt: 1, outcome: 'fence_lost' });
    expect(await row(job.id)).toMatchObject({ status: 'processing', attempts: 2, activationId: 'act-B', errorCode: null });
    expect(await headObject(storage, job.objectKey)).toBeDefined();
    const events = await listJobEvents(services.db, job.id);
    expect(events.map((event) => event.event)).toEqual(['created', 'uploaded', 'claimed', 'claimed']);
  });

  it('cannot record a second result: the newer attempt’s result stands', async () => {
    const job = await queuedJobWithObject(text);
    const stalled = gate();
    const zombie = processFile(attempt('A', [fileAnalyzer, stalled.analyzer]), job.id);
    await stalled.entered;

    await lapseLease(job.id);
    const newer = await processFile(attempt('B', defaultAnalyzers), job.id);
    expect(newer).toMatchObject({ claimed: true, attempt: 2, outcome: 'succeeded' });
    const stored = (await row(job.id))?.result;

    stalled.open();
    expect(await zombie).toMatchObject({ attempt: 1, outcome: 'fence_lost' });
    expect(await row(job.id)).toMatchObject({ status: 'succeeded', attempts: 2, activationId: 'act-B', result: stored });
    expect(stored).toHaveProperty('text');
    expect(stored).not.toHaveProperty('gate');
    const events = await listJobEvents(services.db, job.id);
    expect(events.filter((event) => event.event === 'succeeded')).toEqual([expect.objectContaining({ attempt: 2, activationId: 'act-B', codeVersion: 'build-B' })]);
  });

  it('cannot schedule a retry or fail the job with its own error', async () => {
    const job = await queuedJobWithObject(text);
    const stalled = gate({ thenThrow: true });
    const zombie = processFile(attempt('A', [fileAnalyzer, stalled.analyzer]), job.id);
    await stalled.entered;

    await lapseLease(job.id);
    expect(await claimJob(services.db, job.id, { leaseSeconds: 30, actor: { activationId: 'act-B', codeVersion: 'build-B' } })).toBeDefined();
    stalled.open();
    expect(await zombie).toMatchObject({ attempt: 1, outcome: 'fence_lost', failure: { code: 'ANALYZER_CRASHED' } });
    expect(await row(job.id)).toMatchObject({ status: 'processing', attempts: 2, activationId: 'act-B', errorCode: null });
    const events = await listJobEvents(services.db, job.id);
    expect(events.map((event) => event.event)).not.toContain('retry_scheduled');
  });

  it('stops reading when a heartbeat finds the job taken', async () => {
    // 4 MiB read at ~1 MiB/s would take about 4 s; the heartbeat every 0.2 s notices the loss first.
    const data = new Uint8Array(4 * 1024 * 1024).fill(0x61);
    const job = await queuedJobWithObject(data);
    let chunks = 0;
    const slow: Analyzer = {
      name: 'slow',
      accepts: () => true,
      create: () => ({
        async write(chunk) {
          chunks += 1;
          await new Promise((resolve) => setTimeout(resolve, chunk.byteLength / 1024));
        },
        finish: async () => ({}),
      }),
    };
    const started = Date.now();
    const running = processFile(attempt('A', [fileAnalyzer, slow], { leaseSeconds: 1, heartbeatSeconds: 0.2 }), job.id);
    await expect.poll(() => chunks, { interval: 20 }).toBeGreaterThan(0);

    await lapseLease(job.id);
    expect(await claimJob(services.db, job.id, { leaseSeconds: 30, actor: { activationId: 'act-B', codeVersion: 'build-B' } })).toBeDefined();
    const result = await running;
    expect(result).toMatchObject({ claimed: true, attempt: 1, outcome: 'fence_lost' });
    expect(result).not.toHaveProperty('bytes');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await row(job.id)).toMatchObject({ status: 'processing', attempts: 2, activationId: 'act-B' });
  });
});
