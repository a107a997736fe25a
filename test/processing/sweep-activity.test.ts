// Scheduled triggers are a limited preview on DigitalOcean, so API activity starts sweeps too: a
// call that finds the last sweep older than a minute invokes process/sweep asynchronously, exactly
// one caller per minute gets to, and the sweeps row lease keeps two sweeps from ever overlapping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;

beforeAll(async () => {
  p = await startProcessingPlatform();
});

afterAll(async () => {
  await p?.stop();
});

interface SweepsRow {
  lastStartedAt: Date;
  lastFinishedAt: Date | null;
  lockedBy: string | null;
  lastResult: Record<string, unknown> | null;
}

async function sweepsRow(): Promise<SweepsRow> {
  const rows = await p.db<SweepsRow[]>`SELECT last_started_at, last_finished_at, locked_by, last_result FROM sweeps WHERE name = 'main'`;
  const row = rows[0];
  if (row === undefined) throw new Error('no sweeps row');
  return row;
}

describe('sweeps started by activity', () => {
  it('starts one when an API call finds the last sweep older than a minute, and only then', async () => {
    // A fresh deployment has never swept: the first API call starts one.
    expect((await sweepsRow()).lastFinishedAt).toBeNull();
    const created = await p.client.create({ filename: 'a.txt', size: 3, contentType: 'text/plain' });
    await expect.poll(async () => (await sweepsRow()).lastFinishedAt, { timeout: 10_000, interval: 50 }).not.toBeNull();
    const first = await sweepsRow();
    // The new upload is its client's for now (its URL is still valid): the sweep leaves it be.
    expect(first.lastResult).toMatchObject({ uploadsWaiting: 0, uploadsQueued: 0, errors: 0 });
    expect(first.lockedBy).toBeNull();

    // Within the minute, calls start nothing (the start is decided before the call answers).
    await p.client.status({ jobId: created.jobId, token: created.token });
    await p.client.status({ jobId: created.jobId, token: created.token });
    expect((await sweepsRow()).lastStartedAt).toEqual(first.lastStartedAt);

    // A minute later, the next call starts the next sweep.
    await p.db`UPDATE sweeps SET last_started_at = now() - interval '61 seconds'`;
    await p.client.status({ jobId: created.jobId, token: created.token });
    await expect.poll(async () => (await sweepsRow()).lastFinishedAt?.getTime(), { timeout: 10_000, interval: 50 }).toBeGreaterThan(
      first.lastFinishedAt?.getTime() ?? 0,
    );
  });

  it('never runs two sweeps at once: a sweep finding the lease held does nothing', async () => {
    await p.db`UPDATE sweeps SET locked_until = now() + interval '1 minute', locked_by = 'another-sweep'`;
    expect(await p.sweep()).toEqual({ skipped: true, reason: 'another sweep holds the lease' });
    expect((await sweepsRow()).lockedBy).toBe('another-sweep');

    // A lease that lapsed (its sweep was killed) is taken over.
    await p.db`UPDATE sweeps SET locked_until = now() - interval '1 second'`;
    expect(await p.sweep()).toMatchObject({ skipped: false, errors: 0 });
    expect((await sweepsRow()).lockedBy).toBeNull();
  });
});
