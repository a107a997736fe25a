// Scenario 5: lost messages. Invariants, besides the common ones (no lost job, settled, exactly
// once, bytes intact):
//   - dispatch dropped (the functions deployed with a wrong FUNCTIONS_ACCESS_KEY for a while, as
//     after a revoked key): every refused invoke is a 'dispatch_failed' event (401) and leaves its
//     job queued; once the key is fixed, the next sweep starts them all again and they drain;
//   - the client vanishing before `complete` (a single PUT, and a multipart upload with every part
//     in): the sweep finds the bytes once the upload's URLs have expired and completes the job;
//   - the client vanishing mid-multipart: the sweep leaves the job waiting (not rejected, not
//     expired), and a client that comes back resumes it.
// Activity sweeps are held and there is no scheduled trigger: each sweep here stands for one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partUrlExpirySeconds, singlePutUrlExpirySeconds } from '../../src/config.js';
import { createClient, uploadFile, type UploadState } from '../../src/client/index.js';
import { repeatToSize } from '../processing/support.js';
import { expectInvariants, settle, sha256Of, startChaosPlatform, uploadText, type ChaosPlatform, type Upload } from './support.js';

const mebibyte = 1024 * 1024;
/** Two 8 MiB parts and a third of 1 MiB (the part size is at least 8 MiB: src/config.ts minPartSizeBytes). */
const multipartBytes = 17 * mebibyte;

let p: ChaosPlatform;

beforeAll(async () => {
  p = await startChaosPlatform({ MAX_CONCURRENT_JOBS: '4', MULTIPART_THRESHOLD_BYTES: String(mebibyte) });
  await p.holdActivitySweeps();
  await p.deployFileVariant('test/fixtures/scripted-process/index.ts');
});

afterAll(async () => {
  await p?.stop();
});

/** What the sweep sees once an upload's URLs can no longer start a PUT (their expiry passed). */
async function ageUpload(jobId: string): Promise<void> {
  const seconds = Math.max(singlePutUrlExpirySeconds, partUrlExpirySeconds) + 1;
  await p.db`UPDATE jobs SET created_at = created_at - make_interval(secs => ${seconds}) WHERE id = ${jobId}`;
}

async function statusOf(jobId: string): Promise<string> {
  return (await p.job(jobId)).status;
}

describe('lost messages', () => {
  it('a dispatch refused for a while: jobs wait queued and drain after the next sweep once the key works', async () => {
    const before = await Promise.all([1, 2, 3, 4].map((n) => uploadText(p, `key-before-${n}-hold500ms.txt`, `before ${n}\n`)));
    const goodKey = p.platform.env.FUNCTIONS_ACCESS_KEY;
    p.platform.env.FUNCTIONS_ACCESS_KEY = 'dof_v1_revoked:not-the-key';
    await p.platform.redeploy();
    const during = await Promise.all(Array.from({ length: 12 }, (_, n) => uploadText(p, `key-during-${n}.txt`, `during ${n}\n`)));
    // Whatever the activations started before the change could still hand on has run; the rest waits.
    await expect.poll(async () => (await Promise.all(during.map((upload) => statusOf(upload.jobId)))).filter((status) => status === 'processing').length, { timeout: 15_000, interval: 200 }).toBe(0);
    const refused = await p.db<{ count: number }[]>`
      SELECT count(*)::int AS count FROM job_events
      WHERE job_id = ANY(${p.db.array(during.map((upload) => upload.jobId))}::uuid[]) AND event = 'dispatch_failed' AND detail->>'status' = '401'`;
    expect(refused[0]?.count).toBeGreaterThan(0);
    const stillQueued = (await Promise.all(during.map((upload) => statusOf(upload.jobId)))).filter((status) => status === 'queued').length;
    expect(stillQueued).toBeGreaterThan(0);

    p.platform.env.FUNCTIONS_ACCESS_KEY = goodKey ?? '';
    await p.platform.redeploy();
    const fixedAt = Date.now();
    await p.sweep();
    const all = [...before, ...during];
    await settle(p, all, { timeoutMs: 60_000 });
    await expectInvariants(p, all);
    console.log(`lost messages: ${stillQueued} of ${during.length} jobs waited out a refused key; all done ${Date.now() - fixedAt} ms after the key was fixed and one sweep ran`);
  }, 120_000);

  it('a client gone before complete, single PUT or multipart: the sweep completes the upload once its URLs have expired', async () => {
    const single = new TextEncoder().encode('uploaded, never completed\n');
    const singleJob = await p.uploadWithoutComplete(single, 'vanished.txt', 'text/plain');
    const parts = repeatToSize('every part in, then gone\n', multipartBytes);
    const multipartJob = await p.uploadWithoutComplete(parts, 'vanished-multipart.txt', 'text/plain');
    const uploads: Upload[] = [
      { ...singleJob, filename: 'vanished.txt', size: single.length, sha256: sha256Of(single) },
      { ...multipartJob, filename: 'vanished-multipart.txt', size: parts.length, sha256: sha256Of(parts) },
    ];
    // Young uploads are their client's: the sweep leaves them alone.
    await p.sweep();
    for (const upload of uploads) expect(await statusOf(upload.jobId)).toBe('awaiting_upload');

    for (const upload of uploads) await ageUpload(upload.jobId);
    await p.sweep();
    await settle(p, uploads, { timeoutMs: 60_000 });
    await expectInvariants(p, uploads);
  }, 120_000);

  it('a client gone mid-multipart: the job waits, and the client that comes back resumes it', async () => {
    const data = repeatToSize('one part in, then the tab closed\n', multipartBytes);
    const file = new File([new Uint8Array(data)], 'resumed.txt', { type: 'text/plain' });
    const controller = new AbortController();
    let state: UploadState | undefined;
    await expect(
      uploadFile(p.client, file, {
        partConcurrency: 1,
        abortJobOnCancel: false,
        signal: controller.signal,
        sha256: sha256Of(data),
        onCreated: (created) => (state = created),
        onProgress: (progress) => {
          if (progress.partsDone >= 1 && progress.part !== undefined) controller.abort(new Error('the tab was closed'));
        },
      }),
    ).rejects.toThrow();
    if (state === undefined) throw new Error('the job was never created');
    const jobId = state.jobId;

    // Parts missing: left waiting, neither rejected nor expired, however old.
    await ageUpload(jobId);
    await p.sweep();
    expect(await statusOf(jobId)).toBe('awaiting_upload');

    const comeback = createClient({ apiBase: p.platform.apiBase });
    await uploadFile(comeback, file, { resume: state });
    const upload: Upload = { jobId, token: state.token, filename: 'resumed.txt', size: data.length, sha256: sha256Of(data) };
    await settle(p, [upload], { timeoutMs: 60_000 });
    await expectInvariants(p, [upload]);
  }, 120_000);
});
