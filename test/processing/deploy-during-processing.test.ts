// The mission's point: a deploy never cuts a job short. A slow job is running on build A; build B
// is deployed mid-way. The running activation finishes on A — one attempt, its result A's — and
// the next job runs on B. The builds are recorded with every event (code_version) and the job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes } from '../analyzers/fixtures.js';
import { eventsNamed, repeatToSize, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;
let buildA: string;

beforeAll(async () => {
  p = await startProcessingPlatform();
  await p.holdActivitySweeps();
  // Build A: process/file with a throttled read (4 MiB/s), so a job stays in flight for seconds.
  buildA = await p.deployFileVariant('test/fixtures/slow-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
});

describe('a deploy while a job is processing', () => {
  it('lets the running job finish on the old build and runs the next one on the new', async () => {
    const slow = await p.upload(repeatToSize('id,label\n7,seven\n', 8 * 1024 * 1024), 'slow.csv', 'text/csv');
    await expect.poll(async () => (await p.job(slow.jobId)).status, { timeout: 10_000, interval: 20 }).toBe('processing');
    expect(eventsNamed(await p.events(slow.jobId), 'claimed')[0]?.codeVersion).toBe(buildA);

    const buildB = await p.redeployProject();
    expect(buildB).not.toBe(buildA);
    const deployedAt = Date.now();
    expect((await p.job(slow.jobId)).status).toBe('processing');

    const next = await p.upload(bytes('id,label\n8,eight\n'), 'next.csv', 'text/csv');
    await expect.poll(async () => (await p.job(next.jobId)).status, { timeout: 10_000, interval: 50 }).toBe('succeeded');
    await expect.poll(async () => (await p.job(slow.jobId)).status, { timeout: 15_000, interval: 50 }).toBe('succeeded');

    // The slow job: one attempt, claimed and finished by build A, after the deploy.
    const slowJob = await p.job(slow.jobId);
    expect(slowJob).toMatchObject({ attempts: 1, buildId: buildA });
    expect(slowJob.result).toHaveProperty('throttle');
    const slowEvents = await p.events(slow.jobId);
    expect(eventsNamed(slowEvents, 'claimed').map((event) => event.codeVersion)).toEqual([buildA]);
    const finished = eventsNamed(slowEvents, 'succeeded')[0];
    expect(finished?.codeVersion).toBe(buildA);
    expect(finished?.at.getTime()).toBeGreaterThan(deployedAt);
    // The job row is written before the activation returns; its record appears once it has.
    await expect.poll(() => p.activation(finished?.activationId ?? '')?.version, { timeout: 5_000, interval: 20 }).toBe(buildA);

    // The next job: build B from the start (B has no throttle analyzer).
    const nextJob = await p.job(next.jobId);
    expect(nextJob).toMatchObject({ attempts: 1, buildId: buildB });
    expect(nextJob.result).not.toHaveProperty('throttle');
    expect(eventsNamed(await p.events(next.jobId), 'succeeded').map((event) => event.codeVersion)).toEqual([buildB]);
    const { job: view } = await p.client.status(next);
    expect(view.buildId).toBe(buildB);
  });
});
