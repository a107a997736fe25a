// Scenario 1: two deploys while 100 jobs are uploaded and processed (A → B → the project's own
// process/file), as `doctl serverless deploy` would ship them mid-run. Invariants, besides the
// common ones (no lost job, settled, exactly once, bytes intact):
//   - an attempt finishes on the build it started on (its claim and its result have one code
//     version, and the result's `scripted.version` is that build's);
//   - jobs were in flight across each deploy and finished on the old build after it;
//   - every attempt started after a deploy (its job reserved for dispatch after it) ran the new
//     build or a later one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../helpers/concurrency.js';
import { loadEvents } from '../helpers/job-timeline.js';
import { expectInvariants, settle, startChaosPlatform, uploadText, type ChaosPlatform } from './support.js';

const jobCount = 100;
const holdMs = 800;

let p: ChaosPlatform;

beforeAll(async () => {
  p = await startChaosPlatform({ MAX_CONCURRENT_JOBS: '8' });
  await p.holdActivitySweeps();
});

afterAll(async () => {
  await p?.stop();
});

async function succeededCount(jobIds: readonly string[]): Promise<number> {
  const rows = await p.db<{ count: number }[]>`SELECT count(*)::int AS count FROM jobs WHERE id = ANY(${p.db.array([...jobIds])}::uuid[]) AND status = 'succeeded'`;
  return rows[0]?.count ?? 0;
}

describe('deploys during processing', () => {
  it('let in-flight attempts finish on the old build and start later ones on the new', async () => {
    const buildA = await p.deployFileVariant('test/fixtures/scripted-process/index.ts');
    const jobIds: string[] = [];
    const uploading = mapWithConcurrency(Array.from({ length: jobCount }, (_, index) => index), 8, async (index) => {
      const upload = await uploadText(p, `deploy-${index}-hold${holdMs}ms.txt`, `job ${index} of the redeploy run\n`);
      jobIds.push(upload.jobId);
      return upload;
    });

    const deploys: { build: string; before: number; after: number }[] = [];
    for (const [threshold, deploy] of [
      [25, () => p.deployFileVariant('test/fixtures/scripted-process/v2.ts')],
      [60, () => p.redeployProject()],
    ] as const) {
      await expect.poll(() => succeededCount(jobIds), { timeout: 90_000, interval: 100 }).toBeGreaterThanOrEqual(threshold);
      const build = await deploy();
      // The moment the runtime switched bundles (its log line; the database has the same clock here).
      const at = p.deployedAt().at(-1) ?? 0;
      deploys.push({ build, before: at, after: at });
    }
    const uploads = await uploading;
    await settle(p, uploads, { timeoutMs: 90_000 });
    await expectInvariants(p, uploads);

    const builds = [buildA, ...deploys.map((deploy) => deploy.build)];
    expect(new Set(builds).size).toBe(3);
    const versionOf = new Map([
      [buildA, 'a'],
      [deploys[0]?.build, 'b'],
    ]);
    const events = await loadEvents(p.db, jobIds);
    const results = new Map(
      (await p.db<{ id: string; result: { scripted?: { version?: string } } }[]>`SELECT id, result FROM jobs WHERE id = ANY(${p.db.array(jobIds)}::uuid[])`).map((row) => [row.id, row.result]),
    );
    const acrossDeploy = deploys.map(() => 0);
    for (const jobId of jobIds) {
      const own = events.filter((event) => event.jobId === jobId);
      const claim = own.filter((event) => event.event === 'claimed').at(-1);
      const success = own.find((event) => event.event === 'succeeded');
      // One build per attempt, and the result says which.
      expect(success?.codeVersion, jobId).toBe(claim?.codeVersion);
      expect(results.get(jobId)?.scripted?.version, jobId).toBe(versionOf.get(claim?.codeVersion ?? ''));
      const claimedAt = claim?.at.getTime() ?? 0;
      // The reservation is made before the invoke: one made after a deploy started an activation of the new code.
      const dispatchedAt = own.filter((event) => event.event === 'dispatched' && event.at.getTime() <= claimedAt).at(-1)?.at.getTime() ?? 0;
      deploys.forEach((deploy, index) => {
        // Started after the deploy: the new build or a later one. (One started before may claim after it, on the old.)
        if (dispatchedAt > deploy.after) expect(builds.indexOf(claim?.codeVersion ?? ''), jobId).toBeGreaterThanOrEqual(index + 1);
        // In flight across it: claimed before, finished after, on the old build.
        if (claimedAt < deploy.before && (success?.at.getTime() ?? 0) > deploy.after) {
          expect(builds.indexOf(claim?.codeVersion ?? ''), jobId).toBeLessThanOrEqual(index);
          acrossDeploy[index] = (acrossDeploy[index] ?? 0) + 1;
        }
      });
    }
    console.log(`redeploys: ${acrossDeploy.join(' and ')} jobs were in flight across the two deploys and finished on the build they started on`);
    for (const count of acrossDeploy) expect(count).toBeGreaterThan(0);
  }, 180_000);
});
