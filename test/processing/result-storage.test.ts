// What process/file stores, through the real platform: the result comes back in the order the
// analyzers wrote it (json column, not jsonb's sorted keys), a result is storable whatever bytes
// the file held, UTF-16 text is text under the default types, and a result the database refuses
// for its content fails the attempt at once with a reason instead of waiting out the lease.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalyzers } from '../../src/analyzers/run.js';
import { bytes, chunked, utf16 } from '../analyzers/fixtures.js';
import { eventsNamed, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;

beforeAll(async () => {
  // The default ALLOWED_CONTENT_TYPES (no audio/*): what rejected UTF-16 text as audio/mpeg.
  p = await startProcessingPlatform();
  await p.holdActivitySweeps();
});

afterAll(async () => {
  await p?.stop();
});

async function succeeded(jobId: string): Promise<void> {
  await expect.poll(async () => (await p.job(jobId)).status, { timeout: 15_000, interval: 50 }).toBe('succeeded');
}

async function expected(data: Uint8Array, contentType: string, filename: string): Promise<string> {
  const report = await runAnalyzers(chunked(data, 64 * 1024), { contentType, filename, size: data.length });
  return JSON.stringify(report.results);
}

describe('the stored result', () => {
  it('comes back in the order the analyzers wrote it, summaries and fields alike', async () => {
    const data = bytes('[{"zeta": 1, "alpha": 2}, {"mid": 3}]\n');
    const { jobId, token } = await p.upload(data, 'records.json', 'application/json');
    await succeeded(jobId);
    const { job } = await p.client.status({ jobId, token });
    // Compared as text: order is the point (toEqual ignores it).
    expect(JSON.stringify(job.result)).toBe(await expected(data, 'application/json', 'records.json'));
    expect(Object.keys(job.result as object)).toEqual(['file', 'text', 'json']);
    const [stored] = await p.db<{ resultJson: string; sameAsJsonb: boolean }[]>`
      SELECT result_json::text AS result_json, result_json::jsonb = result AS same_as_jsonb FROM jobs WHERE id = ${jobId}`;
    // The previous release reads `result` (jsonb): it holds the same value.
    expect(stored?.sameAsJsonb).toBe(true);
    expect(stored?.resultJson).toBe(JSON.stringify(job.result));
  });

  it('is stored whatever the file held: U+0000 and unpaired surrogates are replaced and counted', async () => {
    // Keys the JSON analyzer lists as written: "a\u0000b" and a lone "\ud800".
    const data = bytes('{"a\\u0000b": 1, "\\ud800": 2, "fine": "\\u0000"}');
    const { jobId, token } = await p.upload(data, 'hostile.json', 'application/json');
    await succeeded(jobId);
    const { job } = await p.client.status({ jobId, token });
    expect(job.attempts).toBe(1);
    expect((job.result as Record<string, unknown>).json).toMatchObject({ valid: true, keys: ['a\uFFFDb', '\uFFFD', 'fine'], replacedCharacters: 2 });
  });

  it('treats UTF-16 text with a BOM as text under the default types, not as audio/mpeg', async () => {
    const data = utf16('\uFEFFStadt\tEinwohner\r\nKöln\t1084831\r\n', 'utf-16le');
    const { jobId, token } = await p.upload(data, 'staedte.tsv', 'text/tab-separated-values');
    await succeeded(jobId);
    const { job } = await p.client.status({ jobId, token });
    expect((job.result as Record<string, unknown>).file).toMatchObject({ sniffedType: null, kind: 'text', typeCheck: 'match' });
    expect((job.result as Record<string, unknown>).text).toMatchObject({ encoding: 'utf-16le', lines: 2 });
  });
});

describe('a result the database refuses for its content', () => {
  it('fails the attempt at once with RESULT_NOT_STORABLE, not after the lease', async () => {
    // A real Postgres refusal: a trigger raising the error jsonb raises for U+0000, on a marker
    // no sanitising removes. Nothing else in this file's database writes that marker.
    await p.db.unsafe(`
      CREATE FUNCTION test_refuse_marked_result() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.result_json::text LIKE '%refuse-this-result%' THEN
          RAISE EXCEPTION 'unsupported Unicode escape sequence' USING ERRCODE = '22P05';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_refuse_marked_result BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION test_refuse_marked_result();`);
    try {
      const { jobId } = await p.upload(bytes('{"refuse-this-result": true}'), 'refused.json', 'application/json');
      await expect.poll(async () => (await p.job(jobId)).errorCode, { timeout: 15_000, interval: 50 }).toBe('RESULT_NOT_STORABLE');
      const job = await p.job(jobId);
      expect(job.status).toBe('queued');
      expect(job.errorMessage).toContain('22P05');
      const events = await p.events(jobId);
      const claimed = eventsNamed(events, 'claimed')[0];
      const retry = eventsNamed(events, 'retry_scheduled')[0];
      expect(retry).toMatchObject({ attempt: 1, detail: { code: 'RESULT_NOT_STORABLE' } });
      // At once: well inside the lease an outage would have had to wait out.
      expect((retry?.at.getTime() ?? Infinity) - (claimed?.at.getTime() ?? 0)).toBeLessThan(5_000);
    } finally {
      await p.db.unsafe('DROP TRIGGER test_refuse_marked_result ON jobs; DROP FUNCTION test_refuse_marked_result();');
    }
  });
});
