// Upload → complete → process/file → succeeded, through the typed client and the real platform: the
// job's result is exactly what the analyzers make of the bytes (read once from the bucket), for
// every kind of file the analyzers know, and the status call shows it with the build that ran it.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalyzers } from '../../src/analyzers/run.js';
import { bytes, chunked, makeJpeg, makePng, pseudoRandomBytes } from '../analyzers/fixtures.js';
import { eventsNamed, startProcessingPlatform, type ProcessingPlatform } from './support.js';

let p: ProcessingPlatform;

beforeAll(async () => {
  // The deployment default ALLOWED_CONTENT_TYPES, as locally: every type below is in it (rejections.test.ts covers a narrower list).
  p = await startProcessingPlatform();
});

afterAll(async () => {
  await p?.stop();
});

const csv = 'id,name,comment,score\n1,"Smith, Jane","said ""hi""\nthen left",3.5\n2,Bob,,7\n3,,"",\n';

interface Case {
  name: string;
  data: Uint8Array;
  filename: string;
  contentType: string;
  check(result: Record<string, Record<string, unknown>>): void;
}

const cases: Case[] = [
  {
    name: 'CSV with quoted fields, an embedded newline and empty cells',
    data: bytes(csv),
    filename: 'people.csv',
    contentType: 'text/csv',
    check: (result) =>
      expect(result.csv).toMatchObject({
        valid: true,
        delimiter: 'comma',
        rows: 3,
        columns: 4,
        header: ['id', 'name', 'comment', 'score'],
        columnProfiles: [
          { name: 'id', type: 'integer', empty: 0, min: 1, max: 3 },
          { name: 'name', type: 'string', empty: 1 },
          { name: 'comment', type: 'string', empty: 2 },
          { name: 'score', type: 'number', empty: 1, min: 3.5, max: 7 },
        ],
      }),
  },
  {
    name: 'TSV',
    data: bytes('a\tb\n1\tx\n2\ty\n'),
    filename: 'table.tsv',
    contentType: 'text/tab-separated-values',
    check: (result) => expect(result.csv).toMatchObject({ valid: true, delimiter: 'tab', rows: 2, columns: 2, header: ['a', 'b'] }),
  },
  {
    name: 'JSON',
    data: bytes('{"a":1,"b":[1,2]}'),
    filename: 'doc.json',
    contentType: 'application/json',
    check: (result) => expect(result.json).toMatchObject({ valid: true, topLevelType: 'object', keys: ['a', 'b'] }),
  },
  {
    name: 'NDJSON with one bad line',
    data: bytes('{"a":1}\n{"a":\n{"b":2}\n'),
    filename: 'events.ndjson',
    contentType: 'application/x-ndjson',
    check: (result) => expect(result.ndjson).toMatchObject({ valid: false, lines: 3, records: 2, badLines: 1, firstBadLines: [{ line: 2 }] }),
  },
  {
    name: 'UTF-8 text',
    data: bytes('héllo wörld\nzweite Zeile ✓\n'),
    filename: 'notes.txt',
    contentType: 'text/plain',
    check: (result) => expect(result.text).toMatchObject({ utf8Valid: true, lines: 2, words: 5, characters: 27 }),
  },
  {
    name: 'PNG',
    data: makePng(3, 2),
    filename: 'dot.png',
    contentType: 'image/png',
    check: (result) => expect(result.image).toMatchObject({ valid: true, format: 'png', width: 3, height: 2 }),
  },
  {
    name: 'JPEG',
    data: makeJpeg(16, 8),
    filename: 'photo.jpg',
    contentType: 'image/jpeg',
    check: (result) => expect(result.image).toMatchObject({ valid: true, format: 'jpeg', width: 16, height: 8 }),
  },
  {
    name: 'random binary',
    data: pseudoRandomBytes(200_000),
    filename: 'blob.bin',
    contentType: 'application/octet-stream',
    check: (result) => {
      expect(result.file).toMatchObject({ kind: 'binary', typeCheck: 'match' });
      expect(Object.keys(result)).toEqual(['file']);
    },
  },
  {
    name: 'a PNG declared as text/csv (allowed: the mismatch is reported, the image analyzed)',
    data: makePng(5, 4),
    filename: 'not-really.csv',
    contentType: 'text/csv',
    check: (result) => {
      expect(result.file).toMatchObject({ declaredType: 'text/csv', sniffedType: 'image/png', typeCheck: 'mismatch' });
      expect(result.image).toMatchObject({ format: 'png', width: 5, height: 4 });
      expect(result.csv).toBeUndefined();
    },
  },
];

describe('processing an uploaded file', () => {
  it('reaches succeeded with the analyzers’ results for every kind of file', async () => {
    const uploaded = await Promise.all(cases.map((c) => p.upload(c.data, c.filename, c.contentType)));
    const { job: firstView } = await p.client.status(uploaded[0] ?? { jobId: '', token: '' });
    expect(['queued', 'processing', 'succeeded']).toContain(firstView.status);

    for (const [index, c] of cases.entries()) {
      const { jobId, token } = uploaded[index] ?? { jobId: '', token: '' };
      await expect.poll(async () => (await p.job(jobId)).status, { timeout: 15_000, interval: 100, message: c.name }).toBe('succeeded');
      const row = await p.job(jobId);
      const result = (row.result ?? {}) as Record<string, Record<string, unknown>>;
      // The stored result is exactly what the analyzers make of these bytes.
      const expected = await runAnalyzers(chunked(c.data, 64 * 1024), { contentType: c.contentType, filename: c.filename, size: c.data.length });
      expect(result, c.name).toEqual(expected.results);
      expect(result.file, c.name).toMatchObject({ size: c.data.length, sha256: createHash('sha256').update(c.data).digest('hex') });
      c.check(result);

      // One attempt, one claim, one result; status shows them with the build that ran it.
      const events = await p.events(jobId);
      expect(events.map((event) => event.event)).toEqual(['created', 'uploaded', 'dispatched', 'claimed', 'succeeded']);
      const { job } = await p.client.status({ jobId, token });
      expect(job.status).toBe('succeeded');
      expect(job.result).toEqual(result);
      expect(job.attempts).toBe(1);
      expect(job.buildId).toMatch(/^[0-9a-f]{12}$/);
      const claimed = eventsNamed(events, 'claimed')[0];
      expect(claimed?.codeVersion).toBe(job.buildId);
      expect(job.events?.find((event) => event.event === 'succeeded')).toMatchObject({ attempt: 1, codeVersion: job.buildId });
      // The job row is written before the activation returns; its record appears once it has.
      await expect.poll(() => p.activation(claimed?.activationId ?? '')?.version, { timeout: 5_000, interval: 20 }).toBe(job.buildId);
    }
  });
});
