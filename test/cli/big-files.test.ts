// Files above 4 GiB: Node 20's fs.openAsBlob reports their size modulo 4 GiB (nodejs/node#52585),
// which made a 5 GiB file upload as 1 GiB and "succeed". The file source takes the size from fstat
// and reads by offset. Sparse files cost no disk until written; the store writes what it receives,
// so only two parts of the 5 GiB file are uploaded (through the parts API), one of them past 4 GiB.
import { createHash } from 'node:crypto';
import { appendFileSync, openAsBlob, openSync, closeSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileSource } from '../../src/client/file-source.js';
import { createClient, partByteRange, planFitsSize, SluiceApiError } from '../../src/client/index.js';
import type { Platform } from '../../src/local/platform.js';
import { startTestPlatform } from '../helpers/platform.js';
import { announce, scratchDir, sluice } from './support.js';

const gibibyte = 1024 * 1024 * 1024;
const fiveGiB = 5 * gibibyte;
/** A few known bytes just past the 4 GiB boundary, where a 32-bit offset would wrap to 0. */
const markerOffset = 4 * gibibyte + 12_345;
const marker = Buffer.from('bytes past 4 GiB arrive intact');

const scratch = scratchDir('big');
let platform: Platform;
let state: ReturnType<typeof announce>;
let fiveGiBFile: string;

beforeAll(async () => {
  fiveGiBFile = path.join(scratch.dir, 'five.bin');
  writeFileSync(fiveGiBFile, '');
  truncateSync(fiveGiBFile, fiveGiB);
  const fd = openSync(fiveGiBFile, 'r+');
  writeSync(fd, marker, 0, marker.length, markerOffset);
  closeSync(fd);
  // The local defaults: MAX_UPLOAD_BYTES 5 GiB, multipart from 64 MiB.
  platform = await startTestPlatform();
  state = announce(platform);
});

afterAll(async () => {
  await platform?.stop();
  state?.remove();
  scratch.remove();
});

describe('a 5 GiB file', () => {
  it('has its true size, which Node 20 fs.openAsBlob does not report', async () => {
    const source = await openFileSource(fiveGiBFile);
    try {
      expect(source.size).toBe(fiveGiB);
      expect(source.name).toBe('five.bin');
      if (process.versions.node.startsWith('20.')) expect((await openAsBlob(fiveGiBFile)).size).toBe(gibibyte);
      // A read by offset past 4 GiB finds the marker there, not the zeros at offset 12,345.
      const around = await source.slice(markerOffset - 3, markerOffset + marker.length + 3);
      expect(Buffer.from(around).equals(Buffer.concat([Buffer.alloc(3), marker, Buffer.alloc(3)]))).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('is declared with its size and planned in parts that cover it; a part past 4 GiB arrives intact', async () => {
    const client = createClient({ apiBase: platform.apiBase });
    const source = await openFileSource(fiveGiBFile);
    try {
      const created = await client.create({ filename: source.name, size: source.size, contentType: 'application/octet-stream' });
      const { upload } = created;
      if (upload.kind !== 'multipart') throw new Error(`expected a multipart plan, got ${upload.kind}`);
      // 8 MiB parts (the minimum; 5 GiB fits in far fewer than 10,000 of them): 640 exactly.
      expect(upload).toMatchObject({ partSize: 8 * 1024 * 1024, partCount: 640 });
      expect(planFitsSize(upload, source.size)).toBe(true);
      const status = await client.status({ jobId: created.jobId, token: created.token });
      expect(status.job.size).toBe(fiveGiB);

      // Part 513 starts at 4 GiB exactly and holds the marker; part 640 is the last.
      const markerPart = Math.floor(markerOffset / upload.partSize) + 1;
      expect(markerPart).toBe(513);
      const sent = new Map<number, string>();
      const { parts } = await client.parts({ jobId: created.jobId, token: created.token, partNumbers: [markerPart, upload.partCount] });
      for (const part of parts) {
        const range = partByteRange(part.partNumber, upload.partSize, source.size);
        const bytes = await source.slice(range.start, range.end);
        const response = await fetch(part.url, { method: 'PUT', body: bytes });
        expect(response.status).toBe(200);
        sent.set(part.partNumber, createHash('md5').update(bytes).digest('hex'));
      }
      const expectedMarkerPart = Buffer.alloc(upload.partSize);
      marker.copy(expectedMarkerPart, markerOffset - (markerPart - 1) * upload.partSize);
      expect(sent.get(markerPart)).toBe(createHash('md5').update(expectedMarkerPart).digest('hex'));

      // What the store holds: each part's ETag is the MD5 of the bytes it stored.
      const listing = await client.parts({ jobId: created.jobId, token: created.token, partNumbers: [] });
      expect(listing.uploaded.map((part) => ({ partNumber: part.partNumber, size: part.size, md5: part.etag.replaceAll('"', '') }))).toEqual([
        { partNumber: markerPart, size: upload.partSize, md5: sent.get(markerPart) },
        { partNumber: upload.partCount, size: upload.partSize, md5: sent.get(upload.partCount) },
      ]);
      await client.abort({ jobId: created.jobId, token: created.token });
    } finally {
      await source.close();
    }
  });
});

describe('sluice upload of a file above the limit', () => {
  it('refuses a 6 GiB file with its true size, before creating anything (openAsBlob saw 2 GiB and let it through)', async () => {
    const sixGiB = path.join(scratch.dir, 'six.bin');
    writeFileSync(sixGiB, '');
    truncateSync(sixGiB, 6 * gibibyte);
    const run = await sluice(['upload', sixGiB, '--json'], { env: state.env });
    expect(run.code).toBe(1);
    const [report] = (JSON.parse(run.stdout) as { files: Array<{ size: number; outcome: string; error: { code: string; message: string } }> }).files;
    expect(report).toMatchObject({ size: 6 * gibibyte, outcome: 'refused', error: { code: 'SIZE_LIMIT_EXCEEDED' } });
    expect(report).not.toHaveProperty('jobId');
    expect(report?.error.message).toBe('6 GB (6442450944 bytes) is more than this server accepts: 5 GB (MAX_UPLOAD_BYTES)');
  });
});

describe('the file source', () => {
  it('refuses to read a file that changed after it was opened', async () => {
    const file = path.join(scratch.dir, 'growing.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    const source = await openFileSource(file);
    try {
      expect(Buffer.from(await source.slice(0, source.size)).toString()).toBe('a,b\n1,2\n');
      appendFileSync(file, '3,4\n');
      const error = await source.slice(0, 4).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SluiceApiError);
      expect(error).toMatchObject({ code: 'FILE_MISMATCH', message: `${file} changed while it was being uploaded (8 bytes at the start, 12 now): upload it again once it is written.` });
    } finally {
      await source.close();
    }
  });

  it('names the path when it is a directory or missing', async () => {
    await expect(openFileSource(scratch.dir)).rejects.toMatchObject({ code: 'FILE_MISMATCH', message: `${scratch.dir} is a directory: name the files in it` });
    await expect(openFileSource(path.join(scratch.dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
