// Scenario 7: hostile files at the processing side. Shapes that once blew a result past the
// platform's 1 MB or a worker past its memory — 100,000 columns, one endless line, one endless
// quoted field, deep nesting, a huge key, a line of 100,000 distinct keys — each go through the
// real process/file under its 256 MB limit. Besides the common invariants (no lost job, settled,
// exactly once, bytes intact): every job succeeds on its first attempt (a worker killed for its
// memory would have needed another), and every stored result fits the analyzers' byte budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultBudgetBytes } from '../../src/analyzers/result-budget.js';
import { expectInvariants, settle, sha256Of, startChaosPlatform, type ChaosPlatform, type Upload } from './support.js';

const mebibyte = 1024 * 1024;
/** Big enough that keeping the data would show, small enough for CI on two cores. */
const endlessBytes = 24 * mebibyte;

const encoder = new TextEncoder();

const shapes: Array<{ filename: string; contentType: string; body: () => string }> = [
  {
    filename: 'wide.csv',
    contentType: 'text/csv',
    body: () => {
      const header = Array.from({ length: 100_000 }, (_, index) => `column_${index}_${'x'.repeat(90)}`).join(',');
      const row = Array.from({ length: 100_000 }, (_, index) => String(index % 97)).join(',');
      return `${header}\n${row}\n${row}\n`;
    },
  },
  { filename: 'one-line.csv', contentType: 'text/csv', body: () => 'a,'.repeat(endlessBytes / 2) },
  { filename: 'endless-field.csv', contentType: 'text/csv', body: () => `a,b\n1,"${'x'.repeat(endlessBytes)}` },
  { filename: 'one-line.txt', contentType: 'text/plain', body: () => 'word '.repeat(endlessBytes / 5) },
  { filename: 'deep.json', contentType: 'application/json', body: () => `${'['.repeat(200_000)}${']'.repeat(200_000)}` },
  { filename: 'huge-key.json', contentType: 'application/json', body: () => `{"${'k'.repeat(endlessBytes)}": 1}` },
  {
    filename: 'many-keys.ndjson',
    contentType: 'application/x-ndjson',
    body: () => `${JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, index) => [`key_${index}`, index])))}\n{"a":1}\n`,
  },
];

let p: ChaosPlatform;

beforeAll(async () => {
  p = await startChaosPlatform({ MAX_CONCURRENT_JOBS: '2' });
});

afterAll(async () => {
  await p?.stop();
});

describe('hostile files', () => {
  it('each end with a whole, bounded result on the first attempt, within the worker memory limit', async () => {
    const uploads: Upload[] = [];
    for (const shape of shapes) {
      const data = encoder.encode(shape.body());
      const sha256 = sha256Of(data);
      const { jobId, token } = await p.upload(data, shape.filename, shape.contentType, { sha256 });
      uploads.push({ jobId, token, filename: shape.filename, size: data.length, sha256 });
    }
    await settle(p, uploads, { timeoutMs: 150_000, sweepEveryMs: 5_000 });
    const report = await expectInvariants(p, uploads);
    expect(report.extraAttempts, 'attempts beyond the first (a worker killed for its memory, a result refused)').toBe(0);

    const sizes = await p.db<{ id: string; bytes: number }[]>`
      SELECT id, octet_length(result_json::text)::int AS bytes FROM jobs WHERE id = ANY(${p.db.array(uploads.map((upload) => upload.jobId))}::uuid[])`;
    for (const upload of uploads) {
      const stored = sizes.find((row) => row.id === upload.jobId);
      expect(stored?.bytes, `${upload.filename}: stored result bytes`).toBeGreaterThan(0);
      expect(stored?.bytes ?? Infinity, `${upload.filename}: stored result bytes`).toBeLessThanOrEqual(resultBudgetBytes);
    }
    console.log(`hostile files: ${uploads.map((upload) => `${upload.filename} ${sizes.find((row) => row.id === upload.jobId)?.bytes ?? '?'} B`).join(', ')}`);
  });
});
