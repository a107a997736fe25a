// The same job invoked five times at once (a retried invoke, a sweep racing `complete`): one
// activation claims it and records one result; the other four return at once without touching it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markUploaded } from '../../src/jobs/transitions.js';
import { bytes } from '../analyzers/fixtures.js';
import { eventsNamed, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;

beforeAll(async () => {
  p = await startProcessingPlatform();
  await p.holdActivitySweeps();
});

afterAll(async () => {
  await p?.stop();
});

describe('duplicate invocations', () => {
  it('give one claim, one result and four no-ops', async () => {
    // Bytes up, then queued without the dispatch `complete` would make, so these five are the only activations.
    const { jobId } = await p.uploadWithoutComplete(bytes('a,b\n1,2\n3,4\n'), 'twice.csv', 'text/csv');
    expect(await markUploaded(p.db, jobId, { activationId: 'test', codeVersion: null })).toBeDefined();

    const results = await Promise.all(Array.from({ length: 5 }, () => p.processFile(jobId)));

    const claimed = results.filter((result) => result.claimed === true);
    expect(claimed).toEqual([expect.objectContaining({ jobId, claimed: true, attempt: 1, outcome: 'succeeded' })]);
    expect(results.filter((result) => result.claimed === false)).toEqual(
      Array.from({ length: 4 }, () => ({ jobId, claimed: false, reason: 'not_claimable' })),
    );
    const job = await p.job(jobId);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(job.result).toHaveProperty('csv.rows', 2);
    const events = await p.events(jobId);
    expect(eventsNamed(events, 'claimed')).toHaveLength(1);
    expect(eventsNamed(events, 'succeeded')).toHaveLength(1);

    // A late duplicate after the result changes nothing either.
    expect(await p.processFile(jobId)).toEqual({ jobId, claimed: false, reason: 'not_claimable' });
    expect((await p.events(jobId)).length).toBe(events.length);
  });
});
