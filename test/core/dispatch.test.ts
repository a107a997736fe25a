// Dispatch through the OpenWhisk REST invoke API of the local functions runtime: accepted,
// refused, throttled and unreachable invokes never throw, and each outcome is a job event with the
// job left queued when the invoke did not go out.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/db/client.js';
import { redispatchAfterSeconds } from '../../src/config.js';
import { countBusyJobs, pickDispatchable, releaseReservation } from '../../src/db/dispatch.js';
import { findJob, insertJob, listJobEvents } from '../../src/db/jobs.js';
import { dispatchJob, invokeAsync, processFileAction } from '../../src/jobs/dispatch.js';
import { claimJob, markUploaded } from '../../src/jobs/transitions.js';
import { startFunctionsRuntime, type FunctionsRuntime } from '../../src/local/functions/runtime.js';
import { loadProject } from '../../src/local/project.js';
import { rootDir } from '../helpers/paths.js';
import { newJobFields, startCoreServices, type CoreServices } from './support.js';

let core: CoreServices;
let runtime: FunctionsRuntime;
let throttledRuntime: FunctionsRuntime;
beforeAll(async () => {
  core = await startCoreServices();
  const project = loadProject(rootDir, { unresolved: 'placeholder' });
  runtime = await startFunctionsRuntime({ project, triggers: false });
  throttledRuntime = await startFunctionsRuntime({ project, triggers: false, maxInvocationsPerMinute: 1 });
});
afterAll(async () => {
  await runtime?.stop();
  await throttledRuntime?.stop();
  await core?.stop();
});

const actor: Actor = { activationId: 'act-complete', codeVersion: 'v1' };

async function queuedJob(): Promise<string> {
  const { fields } = newJobFields({ size: 1, uploadWindowSeconds: 60 });
  await insertJob(core.db, fields, actor);
  await markUploaded(core.db, fields.id, actor);
  return fields.id;
}

describe('invokeAsync', () => {
  it('starts process/file with the namespace access key, without waiting, and returns the activation id', async () => {
    const outcome = await invokeAsync({ apiHost: runtime.apiHost, apiKey: undefined, accessKey: runtime.accessKey }, processFileAction, { jobId: 'x' });
    expect(outcome).toMatchObject({ ok: true });
    if (!outcome.ok || outcome.activationId === null) throw new Error('no activation id');
    await expect.poll(() => runtime.activation(outcome.activationId as string)?.name, { timeout: 10_000 }).toContain('file');
  });

  it('prefers the access key to __OW_API_KEY, which is only the fallback', async () => {
    // The local runtime, like DigitalOcean since the 2026 key change, does not take __OW_API_KEY.
    expect(await invokeAsync({ apiHost: runtime.apiHost, apiKey: runtime.apiKey, accessKey: runtime.accessKey }, processFileAction, {})).toMatchObject({ ok: true });
    expect(await invokeAsync({ apiHost: runtime.apiHost, apiKey: runtime.apiKey, accessKey: undefined }, processFileAction, {})).toMatchObject({
      ok: false,
      reason: 'unauthorized',
      status: 401,
      credential: '__OW_API_KEY',
    });
    const lenient = await startFunctionsRuntime({ project: loadProject(rootDir, { unresolved: 'placeholder' }), triggers: false, acceptActivationKeys: true });
    try {
      expect(await invokeAsync({ apiHost: lenient.apiHost, apiKey: lenient.apiKey, accessKey: undefined }, processFileAction, {})).toMatchObject({ ok: true });
    } finally {
      await lenient.stop();
    }
  });

  it('reports a wrong key, a throttled namespace and an unreachable host without throwing', async () => {
    const wrongKey = await invokeAsync({ apiHost: runtime.apiHost, apiKey: undefined, accessKey: `dof_v1_${randomUUID()}:nope` }, processFileAction, {});
    expect(wrongKey).toMatchObject({ ok: false, reason: 'unauthorized', status: 401, credential: 'FUNCTIONS_ACCESS_KEY' });

    const throttled = { apiHost: throttledRuntime.apiHost, apiKey: undefined, accessKey: throttledRuntime.accessKey };
    expect((await invokeAsync(throttled, processFileAction, {})).ok).toBe(true);
    expect(await invokeAsync(throttled, processFileAction, {})).toMatchObject({ ok: false, reason: 'throttled', status: 429 });

    expect(await invokeAsync({ apiHost: 'http://127.0.0.1:9', apiKey: undefined, accessKey: 'a:b' }, processFileAction, {})).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(await invokeAsync({ apiHost: undefined, apiKey: undefined, accessKey: undefined }, processFileAction, {})).toMatchObject({ ok: false, reason: 'not_configured' });
    expect(await invokeAsync({ apiHost: runtime.apiHost, apiKey: undefined, accessKey: undefined }, processFileAction, {})).toMatchObject({ ok: false, reason: 'not_configured' });
  });
});

describe('dispatchJob', () => {
  // Each test's job is the only one due: the jobs earlier tests left queued are pushed out of the way.
  beforeEach(async () => {
    await core.db`UPDATE jobs SET run_after = now() + interval '1 hour' WHERE status = 'queued'`;
  });

  it('records the dispatch, by the dispatcher, before the invoke goes out', async () => {
    const jobId = await queuedJob();
    const outcome = await dispatchJob(jobId, { db: core.db, context: runtime, actor, maxConcurrentJobs: 100 });
    expect(outcome).toBe('dispatched');
    expect((await findJob(core.db, jobId))?.dispatchedAt).toBeInstanceOf(Date);
    const events = await listJobEvents(core.db, jobId);
    expect(events.map((event) => event.event)).toEqual(['created', 'uploaded', 'dispatched']);
    expect(events.at(-1)).toMatchObject({ fromStatus: 'queued', toStatus: 'queued', attempt: 0, activationId: 'act-complete', codeVersion: 'v1' });
  });

  it('leaves the job queued and names the refused key when the Functions API says 401', async () => {
    const jobId = await queuedJob();
    const context = { apiHost: runtime.apiHost, apiKey: undefined, accessKey: 'dof_v1_revoked:secret' };
    const outcome = await dispatchJob(jobId, { db: core.db, context, actor, maxConcurrentJobs: 100 });
    expect(outcome).toBe('unauthorized');
    expect(await findJob(core.db, jobId)).toMatchObject({ status: 'queued', dispatchedAt: null });
    expect((await listJobEvents(core.db, jobId)).at(-1)).toMatchObject({
      event: 'dispatch_failed',
      detail: { reason: 'unauthorized', status: 401, credential: 'FUNCTIONS_ACCESS_KEY' },
    });
  });

  it('leaves the job queued and says why when the Functions API cannot be reached', async () => {
    const jobId = await queuedJob();
    const context = { apiHost: 'http://127.0.0.1:9', apiKey: undefined, accessKey: runtime.accessKey };
    expect(await dispatchJob(jobId, { db: core.db, context, actor, maxConcurrentJobs: 100 })).toBe('invoke_failed');
    expect(await findJob(core.db, jobId)).toMatchObject({ status: 'queued', dispatchedAt: null });
    expect((await listJobEvents(core.db, jobId)).at(-1)).toMatchObject({ event: 'dispatch_failed', detail: { reason: 'unreachable' } });
  });

  it('does not invoke beyond the concurrency cap', async () => {
    const busy = await queuedJob();
    await claimJob(core.db, busy, { leaseSeconds: 60, actor });
    const jobId = await queuedJob();
    expect(await dispatchJob(jobId, { db: core.db, context: runtime, actor, maxConcurrentJobs: 1 })).toBe('capped');
    expect((await findJob(core.db, jobId))?.dispatchedAt).toBeNull();
  });

  it('starts nothing for a job an activation already has', async () => {
    const jobId = await queuedJob();
    await claimJob(core.db, jobId, { leaseSeconds: 60, actor });
    expect(await dispatchJob(jobId, { db: core.db, context: runtime, actor, maxConcurrentJobs: 100 })).toBe('not_queued');
    expect((await listJobEvents(core.db, jobId)).map((event) => event.event)).not.toContain('dispatched');
  });

  it('starts the oldest due job first: a new upload never jumps the queue', async () => {
    const waiting = await queuedJob();
    const fresh = await queuedJob();
    expect(await dispatchJob(fresh, { db: core.db, context: runtime, actor, maxConcurrentJobs: 100 })).toBe('dispatched');
    expect((await listJobEvents(core.db, waiting)).map((event) => event.event)).toContain('dispatched');
    expect((await listJobEvents(core.db, fresh)).map((event) => event.event)).not.toContain('dispatched');
  });

  it('lets concurrent dispatchers reserve each due job once, and no more jobs than the cap allows', async () => {
    const jobIds: string[] = [];
    // One after the other, so their run_after order is the array's.
    for (let index = 0; index < 20; index += 1) jobIds.push(await queuedJob());
    const busyBefore = await countBusyJobs(core.db, redispatchAfterSeconds);
    const free = 5;
    // Eight pickers at once (on the client's four connections), each wanting three: together they may take five.
    const picks = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        pickDispatchable(core.db, {
          actor: { activationId: `act-picker-${index}`, codeVersion: 'v1' },
          maxConcurrentJobs: busyBefore + free,
          limit: 3,
          redispatchAfterSeconds,
        }),
      ),
    );
    const reserved = picks.flatMap((pick) => pick.picked.map((job) => job.id));
    expect(reserved).toHaveLength(free);
    expect(new Set(reserved).size).toBe(free);
    expect(reserved.every((id) => jobIds.includes(id))).toBe(true);
    // Oldest due first: the first five queued.
    expect([...reserved].sort()).toEqual(jobIds.slice(0, free).sort());
    for (const id of reserved) expect((await listJobEvents(core.db, id)).filter((event) => event.event === 'dispatched')).toHaveLength(1);
    // The cap is reached: nobody gets more until a reservation is given back.
    expect(await pickDispatchable(core.db, { actor, maxConcurrentJobs: busyBefore + free, limit: 3, redispatchAfterSeconds })).toEqual({ picked: [], free: 0 });
    const [first] = picks.flatMap((pick) => pick.picked);
    if (first === undefined) throw new Error('nothing reserved');
    await releaseReservation(core.db, first);
    expect((await pickDispatchable(core.db, { actor, maxConcurrentJobs: busyBefore + free, limit: 3, redispatchAfterSeconds })).picked).toEqual([first]);
  });

  it('never throws, even when the database is gone', async () => {
    const { createSql } = await import('../../src/db/client.js');
    const closed = createSql({ url: core.databaseUrl, caCert: undefined });
    await closed.end();
    expect(await dispatchJob(randomUUID(), { db: closed, context: runtime, actor, maxConcurrentJobs: 1 })).toBe('error');
  });
});
