// The operator commands against the local platform's database and functions, found through its
// state file: a job failed by a broken deploy is retried once the fix is deployed and runs on the
// new build (jobs show says which build each attempt ran on); list filters; cancel removes the
// bytes of an upload in progress; sweep finishes an upload whose client vanished.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { singlePutUrlExpirySeconds } from '../../src/config.js';
import { listUploadedParts } from '../../src/storage/spaces.js';
import { bytes } from '../analyzers/fixtures.js';
import { startProcessingPlatform, type ProcessingPlatform } from '../processing/support.js';
import { announce, eventually, sluice } from './support.js';

const mebibyte = 1024 * 1024;
let p: ProcessingPlatform;
let state: ReturnType<typeof announce>;

beforeAll(async () => {
  // Retries come quickly, and uploads from 8 MiB go in parts (so cancel has parts to remove).
  p = await startProcessingPlatform({ RETRY_BASE_DELAY_SECONDS: '0.05', MULTIPART_THRESHOLD_BYTES: String(8 * mebibyte) });
  // Sweeps run when a test says so, not when API activity starts one.
  await p.holdActivitySweeps();
  state = announce(p.platform);
});

afterAll(async () => {
  await p?.stop();
  state?.remove();
});

const succeeded = (jobId: string) => async () => ((await p.job(jobId)).status === 'succeeded' ? true : undefined);

describe('sluice jobs', () => {
  it('retry: a job failed by a broken build runs again on the fixed one, and show tells the build of each attempt', async () => {
    const brokenBuild = await p.deployFileVariant('test/fixtures/failing-process/index.ts');
    const { jobId } = await p.upload(bytes('a,b\n1,2\n'), 'doomed.csv', 'text/csv');
    await p.sweepUntil(jobId, 'failed', 30_000);
    const fixedBuild = await p.redeployProject();

    const retry = await sluice(['jobs', 'retry', jobId], { env: state.env });
    expect(retry.code).toBe(0);
    expect(retry.stderr).toContain(`sluice: database 127.0.0.1:`);
    expect(retry.stdout).toBe('✓ doomed.csv  queued again with 5 more attempts (5 used, at most 10)\n  process/file started for it\n');
    await eventually('the retried job to succeed', succeeded(jobId));

    const show = await sluice(['jobs', 'show', jobId], { env: state.env });
    expect(show.code).toBe(0);
    const attemptLines = show.stdout.split('\n').filter((line) => /^ {2}#\d/.test(line));
    expect(attemptLines).toHaveLength(6);
    for (const line of attemptLines.slice(0, 4)) expect(line).toMatch(new RegExp(`^  #\\d  retry_scheduled \\(.+ s\\)  build ${brokenBuild} .*ANALYZER_CRASHED`));
    expect(attemptLines[4]).toMatch(new RegExp(`^  #5  failed \\(.+ s\\)  build ${brokenBuild} `));
    expect(attemptLines[5]).toMatch(new RegExp(`^  #6  succeeded \\(.+ s\\)  build ${fixedBuild} `));
    expect(show.stdout).toMatch(/ retried +failed → queued {2}attempt 5 {2}\{"by":"sluice jobs retry",.*"attemptBudget":5\}/);
    expect(show.stdout).toMatch(/^attempts: 6 of 10$/m);

    const json = JSON.parse((await sluice(['jobs', 'show', jobId, '--json'], { env: state.env })).stdout) as {
      job: { status: string; objectKey: string; attemptsDetail: Array<{ attempt: number; build: string; outcome: string }>; events: Array<{ event: string }> };
    };
    expect(json.job.status).toBe('succeeded');
    expect(json.job.objectKey).toBe(`uploads/${jobId}/doomed.csv`);
    expect(json.job.attemptsDetail.map((attempt) => [attempt.attempt, attempt.build, attempt.outcome])).toEqual([
      [1, brokenBuild, 'retry_scheduled'],
      [2, brokenBuild, 'retry_scheduled'],
      [3, brokenBuild, 'retry_scheduled'],
      [4, brokenBuild, 'retry_scheduled'],
      [5, brokenBuild, 'failed'],
      [6, fixedBuild, 'succeeded'],
    ]);

    const again = await sluice(['jobs', 'retry', jobId], { env: state.env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`sluice: job ${jobId} is succeeded; only a failed job can be retried`);
  }, 60_000);

  it('list: newest first, filtered by status, time and count; --json gives the rows', async () => {
    const waiting = await p.client.create({ filename: 'waiting.csv', size: 10, contentType: 'text/csv' });
    const { jobId: doneId } = await p.upload(bytes('x\n1\n'), 'done.csv', 'text/csv');
    await eventually('done.csv to succeed', succeeded(doneId));

    const table = await sluice(['jobs', 'list', '--since', '1h'], { env: state.env });
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID +STATUS +ATTEMPTS +SIZE +CREATED +FILE +ERROR$/);
    expect(lines[1]).toMatch(new RegExp(`^${doneId}  succeeded +1/5 +4 bytes +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ  done\\.csv$`));
    expect(lines[2]).toMatch(new RegExp(`^${waiting.jobId}  awaiting_upload  0/5 +10 bytes .* waiting\\.csv$`));

    const filtered = JSON.parse((await sluice(['jobs', 'list', '--status', 'awaiting_upload,cancelled', '--limit', '1', '--json'], { env: state.env })).stdout) as { jobs: Array<{ id: string; status: string }> };
    expect(filtered.jobs).toEqual([expect.objectContaining({ id: waiting.jobId, status: 'awaiting_upload', filename: 'waiting.csv', size: 10 })]);

    const future = await sluice(['jobs', 'list', '--since', '2999-01-01'], { env: state.env });
    expect(future).toMatchObject({ code: 0, stdout: 'no jobs match\n' });
  });

  it('cancel: an upload in progress is cancelled and its parts removed; a finished job is refused', async () => {
    const created = await p.client.create({ filename: 'abandoned.bin', size: 20 * mebibyte, contentType: 'application/octet-stream' });
    const { parts } = await p.client.parts({ jobId: created.jobId, token: created.token, partNumbers: [1] });
    expect((await fetch(parts[0]?.url ?? '', { method: 'PUT', body: new Uint8Array(8 * mebibyte) })).status).toBe(200);
    const job = await p.job(created.jobId);
    expect(await listUploadedParts(p.storage, job.objectKey, job.uploadId ?? '')).toHaveLength(1);

    const cancel = await sluice(['jobs', 'cancel', created.jobId], { env: state.env });
    expect(cancel).toMatchObject({ code: 0, stdout: '✓ abandoned.bin  cancelled: its bytes were removed from the bucket\n' });
    expect((await p.job(created.jobId)).status).toBe('cancelled');
    expect(await listUploadedParts(p.storage, job.objectKey, job.uploadId ?? '')).toBeUndefined();
    expect((await sluice(['jobs', 'cancel', created.jobId], { env: state.env })).stdout).toBe('✓ abandoned.bin  cancelled: it was already cancelled\n');

    const { jobId: doneId } = await p.upload(bytes('y\n1\n'), 'finished.csv', 'text/csv');
    await eventually('finished.csv to succeed', succeeded(doneId));
    const refused = await sluice(['jobs', 'cancel', doneId, '--json'], { env: state.env });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toEqual({ error: { code: 'INVALID_STATE', message: expect.stringContaining(`job ${doneId} is succeeded; only an upload in progress (awaiting_upload) can be cancelled`) } });
  });

  it('show: an unknown job is not found, exit 1', async () => {
    const run = await sluice(['jobs', 'show', '00000000-0000-4000-8000-000000000000'], { env: state.env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('sluice: no job 00000000-0000-4000-8000-000000000000 in this database: sluice jobs list shows the recent ones');
  });
});

describe('sluice sweep', () => {
  it('runs one sweep now: an upload whose client vanished before complete is finished and processed', async () => {
    const { jobId } = await p.uploadWithoutComplete(bytes('v\n1\n'), 'vanished.csv', 'text/csv');
    expect((await p.job(jobId)).status).toBe('awaiting_upload');
    // Until its upload URL expires the upload is its client's; as if that was 15 minutes ago.
    await p.db`UPDATE jobs SET created_at = created_at - make_interval(secs => ${singlePutUrlExpirySeconds + 1}) WHERE id = ${jobId}`;

    const run = await sluice(['sweep'], { env: state.env });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`sluice: functions ${p.platform.runtime.apiHost} (from npm run dev (`);
    expect(run.stdout).toMatch(/^✓ sweep 1 finished upload queued.* \(\d+ ms\)\n$/);
    await eventually('vanished.csv to succeed', succeeded(jobId));

    const json = await sluice(['sweep', '--json'], { env: state.env });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ sweep: expect.objectContaining({ skipped: false, uploadsQueued: 0, errors: 0, durationMs: expect.any(Number) }) });
  });
});
