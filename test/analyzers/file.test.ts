import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FileSummary } from '../../src/analyzers/file.js';
import { runAnalyzers } from '../../src/analyzers/run.js';
import { analyze, bytes, chunked, makeJpeg, makePng, pseudoRandomBytes } from './fixtures.js';

async function fileSummary(data: Uint8Array, contentType: string, filename: string): Promise<FileSummary> {
  return (await analyze(data, contentType, filename)).results.file as FileSummary;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('file analyzer', () => {
  it('reports size, SHA-256 and a text type that matches its declaration', async () => {
    const data = bytes('id,name\n1,Zoë\n');
    const summary = await fileSummary(data, 'text/csv; charset=utf-8', 'people.csv');
    expect(summary).toEqual({
      size: data.length,
      sizeMatchesDeclared: true,
      sha256: sha256(data),
      declaredType: 'text/csv',
      sniffedType: null,
      sniffedExtension: null,
      typeCheck: 'match',
      typeCheckReason: expect.stringContaining('look like text') as string,
      kind: 'text',
    });
  });

  it('hashes a file of several chunks the same as hashing it whole', async () => {
    const data = pseudoRandomBytes(300_000);
    const summary = await fileSummary(data, 'application/octet-stream', 'blob.bin');
    expect(summary.sha256).toBe(sha256(data));
    expect(summary.size).toBe(300_000);
    expect(summary.kind).toBe('binary');
    expect(summary.typeCheck).toBe('match');
  });

  it('flags a PNG declared as text/csv as a mismatch', async () => {
    const summary = await fileSummary(makePng(4, 4), 'text/csv', 'data.csv');
    expect(summary).toMatchObject({ sniffedType: 'image/png', sniffedExtension: 'png', typeCheck: 'mismatch', kind: 'binary' });
    expect(summary.typeCheckReason).toBe('declared text/csv but bytes are image/png');
  });

  it('accepts aliases of the sniffed type (image/jpg for a JPEG)', async () => {
    const summary = await fileSummary(makeJpeg(16, 16), 'image/jpg', 'photo.jpg');
    expect(summary).toMatchObject({ declaredType: 'image/jpeg', sniffedType: 'image/jpeg', typeCheck: 'match' });
  });

  it('calls binary bytes declared as text a mismatch, and text declared as an image one too', async () => {
    expect((await fileSummary(pseudoRandomBytes(5000), 'text/plain', 'notes.txt')).typeCheck).toBe('mismatch');
    const fakePng = await fileSummary(bytes('not really a picture\n'), 'image/png', 'photo.png');
    expect(fakePng.typeCheck).toBe('mismatch');
    expect(fakePng.typeCheckReason).toContain('no image/png signature');
  });

  it('leaves types file-type cannot recognise unverified', async () => {
    const summary = await fileSummary(bytes('anything'), 'application/x-custom-thing', 'thing.dat');
    expect(summary.typeCheck).toBe('unverified');
  });

  it('handles an empty file', async () => {
    const summary = await fileSummary(new Uint8Array(0), 'text/plain', 'empty.txt');
    expect(summary).toMatchObject({ size: 0, sha256: sha256(new Uint8Array(0)), typeCheck: 'match', kind: 'text' });
  });

  it('compares the bytes read with the declared size', async () => {
    const data = bytes('12345');
    const report = await runAnalyzers(chunked(data, 2), { contentType: 'text/plain', filename: 'a.txt', size: 6 });
    expect((report.results.file as FileSummary).sizeMatchesDeclared).toBe(false);
  });
});
