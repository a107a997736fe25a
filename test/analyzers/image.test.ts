import { describe, expect, it } from 'vitest';
import type { ImageSummary } from '../../src/analyzers/image.js';
import { analyze, bytes, makeJpeg, makePng } from './fixtures.js';

async function imageSummary(data: Uint8Array, contentType: string, filename: string): Promise<ImageSummary> {
  const report = await analyze(data, contentType, filename);
  expect(report.ran).toContain('image');
  return report.results.image as ImageSummary;
}

function riff(chunkType: string, payload: number[]): Uint8Array {
  const chunk = Buffer.concat([Buffer.from(chunkType, 'ascii'), Buffer.alloc(4), Buffer.from(payload)]);
  chunk.writeUInt32LE(payload.length, 4);
  const file = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBP'), chunk]);
  file.writeUInt32LE(file.length - 8, 4);
  return file;
}

function le16(value: number): number[] {
  return [value & 0xff, value >> 8];
}

function le24(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff, value >> 16];
}

describe('image analyzer', () => {
  it('reads a PNG header', async () => {
    expect(await imageSummary(makePng(37, 19), 'image/png', 'pic.png')).toEqual({
      valid: true,
      error: null,
      format: 'png',
      width: 37,
      height: 19,
      details: { bitDepth: 8, colorType: 2, interlaced: false },
    });
  });

  it('finds the JPEG frame header behind a large EXIF segment full of 0xFF bytes', async () => {
    const summary = await imageSummary(makeJpeg(1920, 1080, 60_000), 'image/jpeg', 'photo.jpg');
    expect(summary).toEqual({
      valid: true,
      error: null,
      format: 'jpeg',
      width: 1920,
      height: 1080,
      details: { process: 'baseline', precision: 8, components: 1 },
    });
  });

  it('analyses a PNG by its bytes even when it is declared as text/csv', async () => {
    expect(await imageSummary(makePng(3, 2), 'text/csv', 'data.csv')).toMatchObject({ valid: true, format: 'png', width: 3, height: 2 });
  });

  it('reads GIF, BMP and the three kinds of WebP', async () => {
    const gif = new Uint8Array([...bytes('GIF89a'), ...le16(320), ...le16(200), 0x00, 0x00, 0x00, 0x3b]);
    expect(await imageSummary(gif, 'image/gif', 'a.gif')).toMatchObject({ valid: true, format: 'gif', width: 320, height: 200 });

    const bmp = Buffer.alloc(54);
    bmp.write('BM', 0, 'ascii');
    bmp.writeUInt32LE(54, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14); // BITMAPINFOHEADER
    bmp.writeInt32LE(640, 18);
    bmp.writeInt32LE(-480, 22); // top-down rows
    expect(await imageSummary(bmp, 'image/bmp', 'a.bmp')).toMatchObject({
      valid: true,
      format: 'bmp',
      width: 640,
      height: 480,
      details: { dibHeaderBytes: 40, topDown: true },
    });

    const extended = riff('VP8X', [0x10, 0, 0, 0, ...le24(4095), ...le24(2047)]);
    expect(await imageSummary(extended, 'image/webp', 'a.webp')).toMatchObject({ format: 'webp', width: 4096, height: 2048, details: { alpha: true } });
    // VP8L: signature 0x2f, then 14 bits width-1 and 14 bits height-1, little-endian.
    const bits = (99 - 1) | ((51 - 1) << 14);
    const lossless = riff('VP8L', [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, bits >>> 24, 0]);
    expect(await imageSummary(lossless, 'image/webp', 'a.webp')).toMatchObject({ format: 'webp', width: 99, height: 51 });
    // VP8: frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
    const lossy = riff('VP8 ', [0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, ...le16(800), ...le16(600), 0, 0]);
    expect(await imageSummary(lossy, 'image/webp', 'a.webp')).toMatchObject({ format: 'webp', width: 800, height: 600, details: { bitstream: 'lossy' } });
  });

  it('reports a declared image that is not one, and a truncated JPEG, as invalid', async () => {
    expect(await imageSummary(bytes('hello, I am text'), 'image/png', 'fake.png')).toMatchObject({ valid: false, format: null });
    const truncated = makeJpeg(64, 64, 1000).subarray(0, 600);
    const summary = await imageSummary(truncated, 'image/jpeg', 'cut.jpg');
    expect(summary).toMatchObject({ valid: false, error: 'JPEG ended before its start-of-frame marker' });
  });
});
