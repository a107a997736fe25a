// Scenario 4: storage faults, through the fault-injecting proxy in front of the local S3 server
// (test/helpers/faulty-proxy.ts), while 40 jobs are uploaded and processed: 503 SlowDown on PUTs and
// GETs, connections reset mid-body, GETs that stall mid-body, HEADs (complete's check) that hang.
// The common invariants hold: no lost job, settled, exactly once, bytes intact (the declared SHA-256
// is checked by process/file, and the stored objects are read back once the faults are cleared).
// Printed: how many requests each fault hit and what the jobs paid in extra attempts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxiedSpaces, type InjectedFault, type ProxiedSpaces } from '../helpers/faulty-proxy.js';
import { mapWithConcurrency } from '../helpers/concurrency.js';
import { expectInvariants, settle, startChaosPlatform, uploadText, type ChaosPlatform } from './support.js';

const jobCount = 40;
/** Big enough that a fault after the first bytes is mid-body. */
const fileBytes = 256 * 1024;

let stored: ProxiedSpaces;
let p: ChaosPlatform;

beforeAll(async () => {
  stored = await startProxiedSpaces();
  // A stall is noticed after 1 s (the default is longer); retries come quickly.
  p = await startChaosPlatform({ ...stored.env, STORAGE_STALL_SECONDS: '1', RETRY_BASE_DELAY_SECONDS: '0.5', MAX_CONCURRENT_JOBS: '6' });
  await p.holdActivitySweeps();
});

afterAll(async () => {
  await p?.stop();
  await stored?.stop();
});

describe('storage that misbehaves', () => {
  it('costs retries, never a job or a byte', async () => {
    const objects = /\/uploads\/.*chaos-storage-/;
    const faults: Record<string, InjectedFault> = {
      'PUT 503 SlowDown': stored.proxy.inject({ method: 'PUT', path: objects, fault: { kind: 'slow-down' }, times: 4 }),
      'HEAD hung': stored.proxy.inject({ method: 'HEAD', path: objects, fault: { kind: 'stall' }, times: 3 }),
      'GET 503 SlowDown': stored.proxy.inject({ method: 'GET', path: objects, fault: { kind: 'slow-down' }, times: 8 }),
      'GET reset mid-body': stored.proxy.inject({ method: 'GET', path: objects, fault: { kind: 'reset', afterBytes: 64 * 1024 }, times: 5 }),
      'GET stalled mid-body': stored.proxy.inject({ method: 'GET', path: objects, fault: { kind: 'stall-body', afterBytes: 32 * 1024 }, times: 5 }),
    };
    const uploads = await mapWithConcurrency(Array.from({ length: jobCount }, (_, index) => index), 6, (index) =>
      uploadText(p, `chaos-storage-${index}.txt`, `${`line ${index} of a file read through a faulty store\n`.repeat(fileBytes / 48)}`),
    );
    await settle(p, uploads, { timeoutMs: 120_000 });
    // The store comes back for good before the bytes are read back.
    stored.proxy.clear();
    const report = await expectInvariants(p, uploads);
    const hits = Object.entries(faults).map(([name, fault]) => `${name} ×${fault.hits}`);
    console.log(`storage: ${hits.join(', ')}; ${report.extraAttempts} extra attempts over ${jobCount} jobs`);
    for (const fault of Object.values(faults)) expect(fault.hits).toBeGreaterThan(0);
  }, 240_000);
});
