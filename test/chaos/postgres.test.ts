// Scenario 3: Postgres stopped and started again mid-run (shorter than the lease), then paused
// (SIGSTOP of the server and its backends: hung, not refusing) mid-run for longer than the lease,
// while 80 jobs drain at MAX_CONCURRENT_JOBS = 8. The common invariants hold (no lost job, settled,
// exactly once, bytes intact); printed: how long after the database was back the first job was
// claimed again, and how many attempts the outages cost.
//
// The server is this test's own, passed to the platform as DATABASE_URL, so the test can stop and
// start it on the same data and port. An outage shorter than the lease is bridged: attempts keep
// their leases, retry their final write until it lands, and hand their slots on. A longer one costs
// the attempts in flight their jobs; those are taken back once the database answers: by the
// heartbeats and handoffs of activations that lived through it, else by the sweep (run here every
// 10 s in place of the scheduled trigger's minute).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPostgres, type LocalPostgres } from '../../src/local/postgres.js';
import { mapWithConcurrency } from '../helpers/concurrency.js';
import { descendants } from '../helpers/processes.js';
import { expectInvariants, settle, startChaosPlatform, uploadText, type ChaosPlatform } from './support.js';

const jobCount = 80;
const holdMs = 1_000;
const leaseSeconds = 6;
/** The stop is bridged (shorter than the lease); the pause is not (longer), so the recovery is exercised. */
const stopMs = 3_000;
const pauseMs = (leaseSeconds + 2) * 1000;

let workDir: string;
let postgres: LocalPostgres;
let port: number;
let p: ChaosPlatform;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-chaos-pg-'));
  postgres = await startLocalPostgres({ dataDir: path.join(workDir, 'pg'), persistent: true });
  port = Number(new URL(postgres.url).port);
  p = await startChaosPlatform({
    DATABASE_URL: postgres.url,
    DATABASE_CA_CERT: postgres.caCert,
    MAX_CONCURRENT_JOBS: '8',
    LEASE_SECONDS: String(leaseSeconds),
    HEARTBEAT_SECONDS: '1.5',
    RETRY_BASE_DELAY_SECONDS: '1',
  });
  await p.holdActivitySweeps();
  await p.deployFileVariant('test/fixtures/scripted-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
  await postgres?.stop();
  await rm(workDir, { recursive: true, force: true });
});

async function succeeded(jobIds: readonly string[]): Promise<number> {
  const rows = await p.db<{ count: number }[]>`SELECT count(*)::int AS count FROM jobs WHERE id = ANY(${p.db.array([...jobIds])}::uuid[]) AND status = 'succeeded'`;
  return rows[0]?.count ?? 0;
}

/** The postmaster and every backend it forked: pausing only the postmaster would leave open connections served. */
function serverProcesses(): number[] {
  const pid = Number(readFileSync(path.join(workDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return [pid, ...descendants(pid)];
}

/** Standing in for the scheduled trigger (every minute deployed), as in settle(). */
const sweepEveryMs = 10_000;

/** Milliseconds from `since` (epoch ms) to the first claim after it, by the database's clock (the same machine's). */
async function firstClaimAfter(jobIds: readonly string[], since: number): Promise<number> {
  let at: number | undefined;
  let lastSweep = since;
  await expect
    .poll(
      async () => {
        if (Date.now() - lastSweep >= sweepEveryMs) {
          lastSweep = Date.now();
          await p.sweep().catch(() => undefined);
        }
        const rows = await p.db<{ at: Date }[]>`
          SELECT min(at) AS at FROM job_events
          WHERE job_id = ANY(${p.db.array([...jobIds])}::uuid[]) AND event = 'claimed' AND at > ${new Date(since)}`;
        at = rows[0]?.at?.getTime();
        return at;
      },
      { timeout: 60_000, interval: 250 },
    )
    .toBeDefined();
  return (at ?? since) - since;
}

describe('Postgres stopped, then paused, mid-run', () => {
  it('loses no job and records each result once', async () => {
    const uploads = await mapWithConcurrency(Array.from({ length: jobCount }, (_, index) => index), 8, (index) =>
      uploadText(p, `pg-${index}-hold${holdMs}ms.txt`, `job ${index} of the database run\n`),
    );
    const jobIds = uploads.map((upload) => upload.jobId);

    await expect.poll(() => succeeded(jobIds), { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(10);
    await postgres.stop();
    await new Promise((resolve) => setTimeout(resolve, stopMs));
    postgres = await startLocalPostgres({ dataDir: path.join(workDir, 'pg'), port, persistent: true });
    const restartedAt = Date.now();
    const afterRestart = await firstClaimAfter(jobIds, restartedAt);

    await expect.poll(() => succeeded(jobIds), { timeout: 90_000, interval: 250 }).toBeGreaterThanOrEqual(40);
    const paused = serverProcesses();
    for (const pid of paused) process.kill(pid, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    for (const pid of paused) process.kill(pid, 'SIGCONT');
    const resumedAt = Date.now();
    const afterResume = await firstClaimAfter(jobIds, resumedAt);

    await settle(p, uploads, { timeoutMs: 120_000, sweepEveryMs });
    const report = await expectInvariants(p, uploads);
    console.log(
      `postgres: ${stopMs / 1000} s stopped, then ${pauseMs / 1000} s paused (lease ${leaseSeconds} s); first claim ${afterRestart} ms after the restart and ${afterResume} ms after the resume; ` +
        `${report.extraAttempts} extra attempts over ${jobCount} jobs`,
    );
  }, 300_000);
});
