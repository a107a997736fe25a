// Presigned URL shape: what the store will enforce is decided by what is signed. No server is
// needed to sign; the local S3 server's enforcement is covered by the API tests (test/api).
import { describe, expect, it } from 'vitest';
import { createStorage, presignPut, presignUploadPart, type Storage } from '../../src/storage/spaces.js';

const local = createStorage({
  endpoint: 'http://127.0.0.1:9',
  region: 'us-east-1',
  bucket: 'sluice-test',
  accessKeyId: 'key',
  secretAccessKey: 'secret',
  forcePathStyle: true,
});
const spaces = createStorage({
  endpoint: 'https://nyc3.digitaloceanspaces.com',
  region: 'nyc3',
  bucket: 'sluice',
  accessKeyId: 'key',
  secretAccessKey: 'secret',
  forcePathStyle: false,
});

async function urls(storage: Storage): Promise<URL[]> {
  const put = await presignPut(storage, { key: 'uploads/1/a b.csv', contentType: 'text/csv', contentLength: 1234, expiresInSeconds: 900 });
  const part = await presignUploadPart(storage, { key: 'uploads/1/a b.csv', uploadId: 'upload-1', partNumber: 3, contentLength: 8 * 1024 * 1024, expiresInSeconds: 900 });
  return [new URL(put), new URL(part)];
}

describe('presigned URLs', () => {
  it('carry no checksum parameters (they would break uploads to Spaces)', async () => {
    for (const url of [...(await urls(local)), ...(await urls(spaces))]) {
      const names = [...url.searchParams.keys()].map((name) => name.toLowerCase());
      expect(names.filter((name) => name.startsWith('x-amz-checksum-') || name.startsWith('x-amz-sdk-checksum-'))).toEqual([]);
      expect(names).toContain('x-amz-signature');
    }
  });

  it('sign the exact Content-Length, and Content-Type for the single PUT, with a short expiry', async () => {
    const [put, part] = await urls(local);
    expect(put?.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['content-length', 'content-type', 'host']);
    expect(part?.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['content-length', 'host']);
    expect(put?.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(part?.searchParams.get('partNumber')).toBe('3');
    expect(part?.searchParams.get('uploadId')).toBe('upload-1');
  });

  it('use path style locally and virtual-hosted style on Spaces', async () => {
    const [localPut] = await urls(local);
    const [spacesPut] = await urls(spaces);
    expect(localPut?.host).toBe('127.0.0.1:9');
    expect(localPut?.pathname).toBe('/sluice-test/uploads/1/a%20b.csv');
    expect(spacesPut?.host).toBe('sluice.nyc3.digitaloceanspaces.com');
    expect(spacesPut?.pathname).toBe('/uploads/1/a%20b.csv');
  });
});
