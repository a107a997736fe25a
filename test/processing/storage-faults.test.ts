// Storage that misbehaves, through a fault-injecting proxy in front of the local S3 server: every
// storage call gives up on a connection that stalls (no byte for STORAGE_STALL_SECONDS) instead of
// hanging until the function's time limit. A read that stalls or is cut mid-body resumes where it
// was, with Range and If-Match, so the analyzers see one continuous stream; one that keeps stalling
// ends the attempt as STORAGE_STALLED (not DEADLINE_REACHED). A hung HEAD costs the sweep seconds,
// and it still dispatches.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { singlePutUrlExpirySeconds } from '../../src/config.js';
import { markUploaded } from '../../src/jobs/transitions.js';
import { startProxiedSpaces, type ProxiedRequest, type ProxiedSpaces } from '../helpers/faulty-proxy.js';
import { eventsNamed, repeatToSize, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let stored: ProxiedSpaces;
let p: ProcessingPlatform;
const kibibyte = 1024;
/** Shorter than the default, so the tests are quick; a second still leaves room for a loaded machine. */
const stallSeconds = 1;
/** process/file's limit here: a read hanging until the deadline would end as DEADLINE_REACHED within it. */
const fileTimeoutMs = 15_000;

beforeAll(async () => {
  stored = await startProxiedSpaces();
  p = await startProcessingPlatform({ ...stored.env, STORAGE_STALL_SECONDS: String(stallSeconds), RETRY_BASE_DELAY_SECONDS: '0.2' });
  await p.holdActivitySweeps();
  await p.deployFileVariant('packages/process/file/index.ts', { timeoutMs: fileTimeoutMs });
});

afterAll(async () => {
  await p?.stop();
  await stored?.stop();
});

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function requestsFor(method: string, filename: string): ProxiedRequest[] {
  return stored.proxy.requests.filter((request) => request.method === method && request.path.endsWith(`/${filename}`));
}

describe('reads that stall or break mid-body', () => {
  it('a GET that stalls mid-body is resumed from the byte reached, with Range and If-Match, in the same attempt', async () => {
    const data = repeatToSize('id,name\n1,alpha\n2,beta\n', 1024 * kibibyte);
    const stall = stored.proxy.inject({ method: 'GET', path: '/stalls-once.csv', fault: { kind: 'stall-body', afterBytes: 256 * kibibyte } });
    const { jobId } = await p.upload(data, 'stalls-once.csv', 'text/csv', { sha256: sha256(data) });
    await stall.applied();

    await expect.poll(async () => (await p.job(jobId)).status, { timeout: 15_000, interval: 50 }).toBe('succeeded');
    const job = await p.job(jobId);
    // The declared SHA-256 matched: the analyzers saw every byte once, in order.
    expect(job).toMatchObject({ attempts: 1, errorCode: null });
    expect(job.result).toHaveProperty('file.sha256', sha256(data));
    const [first, resumed, ...more] = requestsFor('GET', 'stalls-once.csv');
    expect(more).toEqual([]);
    expect(first?.headers).toMatchObject({ 'if-match': job.objectEtag });
    expect(first?.headers.range).toBeUndefined();
    expect(resumed?.headers).toMatchObject({ range: `bytes=${256 * kibibyte}-`, 'if-match': job.objectEtag });
  });

  it('a connection closed mid-body is resumed the same way', async () => {
    const data = randomBytes(768 * kibibyte);
    stored.proxy.inject({ method: 'GET', path: '/cut-once.bin', fault: { kind: 'reset', afterBytes: 300_000 } });
    const { jobId } = await p.upload(data, 'cut-once.bin', 'application/octet-stream', { sha256: sha256(data) });

    await expect.poll(async () => (await p.job(jobId)).status, { timeout: 15_000, interval: 50 }).toBe('succeeded');
    expect(await p.job(jobId)).toMatchObject({ attempts: 1 });
    const gets = requestsFor('GET', 'cut-once.bin');
    expect(gets.map((request) => request.headers.range)).toEqual([undefined, 'bytes=300000-']);
  });

  it('503 SlowDown is retried with backoff by the client', async () => {
    const data = repeatToSize('a,b\n1,2\n', 64 * kibibyte);
    stored.proxy.inject({ method: 'GET', path: '/slow-down.csv', fault: { kind: 'slow-down' }, times: 2 });
    const { jobId } = await p.upload(data, 'slow-down.csv', 'text/csv');

    await expect.poll(async () => (await p.job(jobId)).status, { timeout: 15_000, interval: 50 }).toBe('succeeded');
    expect(await p.job(jobId)).toMatchObject({ attempts: 1 });
    expect(requestsFor('GET', 'slow-down.csv').map((request) => request.fault)).toEqual(['slow-down', 'slow-down', undefined]);
  });

  it('a GET that keeps stalling ends the attempt as STORAGE_STALLED, saying so, long before the time limit', async () => {
    const data = repeatToSize('a,b\n1,2\n', 512 * kibibyte);
    // Every request of the first attempt stalls (the first and three resumes); the retry's is served.
    stored.proxy.inject({ method: 'GET', path: '/always-stalls.csv', fault: { kind: 'stall-body', afterBytes: 64 * kibibyte }, times: 4 });
    const { jobId } = await p.upload(data, 'always-stalls.csv', 'text/csv');

    await expect.poll(async () => eventsNamed(await p.events(jobId), 'retry_scheduled').length, { timeout: 20_000, interval: 50 }).toBeGreaterThan(0);
    const [retry] = eventsNamed(await p.events(jobId), 'retry_scheduled');
    expect(retry?.attempt).toBe(1);
    expect(retry?.detail).toMatchObject({ code: 'STORAGE_STALLED', message: expect.stringMatching(/stalled/i) });
    expect(String(retry?.detail?.message)).toContain(`no byte for ${stallSeconds} s`);
    // The first request and its resumes, each cut by the stall: bounded, and each from where the last one stopped.
    const ranges = requestsFor('GET', 'always-stalls.csv').slice(0, 4).map((request) => request.headers.range);
    expect(ranges).toEqual([undefined, `bytes=${64 * kibibyte}-`, `bytes=${128 * kibibyte}-`, `bytes=${192 * kibibyte}-`]);

    const [claim] = eventsNamed(await p.events(jobId), 'claimed');
    await expect.poll(() => p.activation(claim?.activationId ?? ''), { timeout: 5_000, interval: 20 }).toBeDefined();
    const record = p.activation(claim?.activationId ?? '');
    expect(record?.response.result).toMatchObject({ outcome: 'retry_scheduled', failure: { code: 'STORAGE_STALLED' } });
    expect(record?.duration).toBeLessThan(fileTimeoutMs / 2);

    // The store answering again, the retry reads the file.
    await p.sweepUntil(jobId, 'succeeded');
  });
});

describe('a hung HEAD', () => {
  it('ends within seconds; the sweep stops looking in the bucket for this run and still dispatches', async () => {
    const waiting: string[] = [];
    for (const name of ['hung-head-1.bin', 'hung-head-2.bin']) {
      const { jobId } = await p.uploadWithoutComplete(randomBytes(1024), name, 'application/octet-stream');
      // Old enough for the sweep to look for its bytes: its upload URL has expired.
      await p.db`UPDATE jobs SET created_at = created_at - make_interval(secs => ${singlePutUrlExpirySeconds + 1}) WHERE id = ${jobId}`;
      waiting.push(jobId);
    }
    // Queued without a dispatch (a lost invoke): only the sweep will start it.
    const { jobId: queued } = await p.uploadWithoutComplete(repeatToSize('a,b\n1,2\n', 1024), 'waits-for-dispatch.csv', 'text/csv');
    expect(await markUploaded(p.db, queued, { activationId: 'test', codeVersion: null })).toBeDefined();

    const hung = stored.proxy.inject({ method: 'HEAD', path: /\/hung-head-\d\.bin$/, fault: { kind: 'stall' }, times: Number.POSITIVE_INFINITY });
    const startedAt = Date.now();
    const swept = await p.sweep();
    // One storage call's whole budget (retries included) is seconds, far from the sweep's 60 s limit.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(swept).toMatchObject({ skipped: false, dispatched: 1, uploadsQueued: 0, uploadsRejected: 0, errors: 1 });
    // The store not answering, the second upload was not tried: one dead store costs one call, not one per upload.
    expect(new Set(stored.proxy.requests.filter((request) => request.fault === 'stall').map((request) => request.path)).size).toBe(1);
    expect(hung.hits).toBeGreaterThan(0);
    await expect.poll(async () => (await p.job(queued)).status, { timeout: 15_000, interval: 50 }).toBe('succeeded');
    for (const jobId of waiting) expect((await p.job(jobId)).status).toBe('awaiting_upload');

    hung.remove();
    for (const jobId of waiting) await p.sweepUntil(jobId, 'succeeded');
  });
});
