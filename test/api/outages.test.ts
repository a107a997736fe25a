// A hung database or store is a server-side outage, answered as one: 503 SERVICE_UNAVAILABLE with
// Retry-After, within seconds, long before the web function's 10 s limit, after which the platform
// would answer 400 ("There was an error processing your request."), which no client retries. Once
// the service answers again, the same call succeeds; the typed client waits out the 503s itself.
//
// Postgres is paused for real (SIGSTOP of the postmaster and every backend: connections stay open
// and nothing answers, as with a hung server or a dead network path). The in-process S3 server
// cannot be stopped that way, so it sits behind the fault-injecting proxy, which holds every
// request it is told to stall and never answers it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, uploadFile, type RetryNotice, type SluiceClient } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startLocalPostgres, type LocalPostgres } from '../../src/local/postgres.js';
import { startProxiedSpaces, type ProxiedSpaces } from '../helpers/faulty-proxy.js';
import { startTestPlatform } from '../helpers/platform.js';
import { pauseProcessTree, postmasterPid } from '../helpers/processes.js';
import { postRaw } from './support.js';

/** Generous: the point is "seconds, not the 10 s limit", not a performance figure. */
const answerWithinMs = 8_000;

let workDir: string;
let database: LocalPostgres;
let store: ProxiedSpaces;
let platform: Platform;
let client: SluiceClient;
let resumePostgres: () => void = () => undefined;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-outages-'));
  database = await startLocalPostgres({ dataDir: path.join(workDir, 'postgres'), persistent: false });
  store = await startProxiedSpaces({ bucket: 'sluice-outages' });
  platform = await startTestPlatform({ env: { DATABASE_URL: database.url, DATABASE_CA_CERT: database.caCert, ...store.env } });
  client = createClient({ apiBase: platform.apiBase });
});

afterEach(() => {
  // A failed assertion must not leave a service stopped for the next test or for the teardown.
  resumePostgres();
  store?.proxy.clear();
});

afterAll(async () => {
  await platform?.stop();
  await store?.stop();
  await database?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

function pausePostgres(): void {
  resumePostgres = pauseProcessTree(postmasterPid(path.join(workDir, 'postgres')));
}

const createRequest = { filename: 'outage.txt', size: 5, contentType: 'text/plain' };

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; elapsedMs: number }> {
  const started = performance.now();
  const result = await call();
  return { result, elapsedMs: performance.now() - started };
}

function expectServiceUnavailable(answer: { status: number; headers: Headers; json: unknown }): void {
  expect(answer.status).toBe(503);
  expect(answer.json).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE', message: expect.any(String) } });
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
}

describe('a paused database', () => {
  it('is a 503 with Retry-After within seconds, on a warm connection and on a new one; once it resumes, the same call succeeds', async () => {
    // Warm: the worker holds an open connection, on which the next query will get no answer.
    expect((await postRaw(platform.apiBase, 'create', createRequest)).status).toBe(201);
    pausePostgres();

    const onOpenConnection = await timed(() => postRaw(platform.apiBase, 'create', createRequest));
    expectServiceUnavailable(onOpenConnection.result);
    expect(onOpenConnection.elapsedMs).toBeLessThan(answerWithinMs);

    // The timed-out connection was dropped: this call connects afresh and the handshake hangs.
    const onNewConnection = await timed(() => postRaw(platform.apiBase, 'create', createRequest));
    expectServiceUnavailable(onNewConnection.result);
    expect(onNewConnection.elapsedMs).toBeLessThan(answerWithinMs);

    resumePostgres();
    expect((await postRaw(platform.apiBase, 'create', createRequest)).status).toBe(201);
  });

  it('is waited out by the typed client: uploadFile says it is retrying after the 503, honours Retry-After, and succeeds', async () => {
    pausePostgres();
    const notices: RetryNotice[] = [];
    const uploaded = await uploadFile(client, new Blob(['hello'], { type: 'text/plain' }), {
      filename: 'retried.txt',
      onRetry: (notice) => {
        notices.push(notice);
        // The outage ends while the client waits.
        resumePostgres();
      },
    });
    expect(notices[0]).toMatchObject({ failures: 1, error: { status: 503, code: 'SERVICE_UNAVAILABLE' } });
    expect(notices[0]?.delayMs).toBeGreaterThanOrEqual((notices[0]?.error.retryAfterSeconds ?? 1) * 1_000);
    expect(uploaded.job.filename).toBe('retried.txt');
    expect(uploaded.job.status).not.toBe('awaiting_upload');
  });
});

describe('a paused store', () => {
  it('is a 503 with Retry-After within seconds; once it answers again, the same call succeeds', async () => {
    const created = await client.create({ filename: 'stored.txt', size: 5, contentType: 'text/plain' });
    if (created.upload.kind !== 'single') throw new Error('expected a single PUT');
    const put = await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: 'hello' });
    expect(put.status).toBe(200);
    await put.arrayBuffer();

    // `complete` checks the object (HEAD): the store now takes every request and answers none.
    const hung = store.proxy.inject({ fault: { kind: 'stall' }, times: Infinity });
    const complete = () => postRaw(platform.apiBase, 'complete', { jobId: created.jobId, token: created.token });
    const paused = await timed(complete);
    expectServiceUnavailable(paused.result);
    expect(paused.elapsedMs).toBeLessThan(answerWithinMs);
    expect(hung.hits).toBeGreaterThan(0);

    store.proxy.clear();
    expect((await complete()).status).toBe(202);
  });
});
