import { normalizeMediaType } from './sniff.js';
import type { Analyzer, FileInfo } from './types.js';

/** Every format here except JPEG states its dimensions within this many leading bytes. */
const headerBytes = 64;

const imageMediaTypes = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp']);

export type ImageSummary = {
  valid: boolean;
  error: string | null;
  format: 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | null;
  width: number | null;
  height: number | null;
  /** Format details read on the way: PNG bit depth/colour type, JPEG process, WebP bitstream. */
  details: Record<string, string | number | boolean>;
};

type Dimensions = Pick<ImageSummary, 'format' | 'width' | 'height' | 'details'>;

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/** Reads dimensions from the fixed-position headers of PNG, GIF, WebP and BMP; null if not one of them. */
function parseFixedHeader(head: Uint8Array): Dimensions | { error: string } | null {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const has = (length: number): boolean => head.length >= length;
  if (has(8) && view.getUint32(0) === 0x89504e47 && view.getUint32(4) === 0x0d0a1a0a) {
    if (!has(29) || ascii(head, 12, 16) !== 'IHDR') return { error: 'PNG without an IHDR chunk' };
    return {
      format: 'png',
      width: view.getUint32(16),
      height: view.getUint32(20),
      details: { bitDepth: view.getUint8(24), colorType: view.getUint8(25), interlaced: view.getUint8(28) === 1 },
    };
  }
  if (has(6) && (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a')) {
    if (!has(10)) return { error: 'GIF header truncated' };
    return { format: 'gif', width: view.getUint16(6, true), height: view.getUint16(8, true), details: { version: ascii(head, 3, 6) } };
  }
  if (has(12) && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return parseWebp(head, view);
  if (has(2) && ascii(head, 0, 2) === 'BM') {
    if (!has(26)) return { error: 'BMP header truncated' };
    const dibSize = view.getUint32(14, true);
    // BITMAPCOREHEADER (12 bytes) has 16-bit sizes; every later header has 32-bit signed ones,
    // with a negative height meaning the rows are stored top-down.
    if (dibSize === 12) {
      return { format: 'bmp', width: view.getUint16(18, true), height: view.getUint16(20, true), details: { dibHeaderBytes: dibSize } };
    }
    const height = view.getInt32(22, true);
    return {
      format: 'bmp',
      width: Math.abs(view.getInt32(18, true)),
      height: Math.abs(height),
      details: { dibHeaderBytes: dibSize, topDown: height < 0 },
    };
  }
  return null;
}

/** WebP: RIFF container whose first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended). */
function parseWebp(head: Uint8Array, view: DataView): Dimensions | { error: string } {
  const chunk = ascii(head, 12, 16);
  if (chunk === 'VP8 ' && head.length >= 30) {
    if (view.getUint8(23) !== 0x9d || view.getUint8(24) !== 0x01 || view.getUint8(25) !== 0x2a) {
      return { error: 'WebP VP8 frame without its start code' };
    }
    return { format: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff, details: { bitstream: 'lossy' } };
  }
  if (chunk === 'VP8L' && head.length >= 25) {
    if (view.getUint8(20) !== 0x2f) return { error: 'WebP VP8L chunk without its signature byte' };
    const bits = view.getUint32(21, true);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, details: { bitstream: 'lossless' } };
  }
  if (chunk === 'VP8X' && head.length >= 30) {
    const flags = view.getUint8(20);
    return {
      format: 'webp',
      width: (view.getUint8(24) | (view.getUint8(25) << 8) | (view.getUint8(26) << 16)) + 1,
      height: (view.getUint8(27) | (view.getUint8(28) << 8) | (view.getUint8(29) << 16)) + 1,
      details: { bitstream: 'extended', animated: (flags & 0x02) !== 0, alpha: (flags & 0x10) !== 0 },
    };
  }
  return { error: `WebP with an unknown or truncated first chunk '${chunk}'` };
}

// JPEG markers: start of image, start of scan, and the start-of-frame family that carries the
// dimensions (C0-CF except DHT C4, JPG C8, DAC CC). Segments without a length: SOI, EOI, RSTn, TEM.
const markerStartOfImage = 0xd8;
const markerStartOfScan = 0xda;
const frameProcesses: Record<number, string> = {
  0xc0: 'baseline',
  0xc1: 'extended sequential',
  0xc2: 'progressive',
  0xc3: 'lossless',
  0xc5: 'differential sequential',
  0xc6: 'differential progressive',
  0xc7: 'differential lossless',
  0xc9: 'arithmetic sequential',
  0xca: 'arithmetic progressive',
  0xcb: 'arithmetic lossless',
  0xcd: 'differential arithmetic sequential',
  0xce: 'differential arithmetic progressive',
  0xcf: 'differential arithmetic lossless',
};

function isStandaloneMarker(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

const enum JpegState {
  Signature,
  MarkerPrefix,
  Marker,
  LengthHigh,
  LengthLow,
  Skip,
  Frame,
  Done,
}

/**
 * Walks JPEG segments byte by byte until the start-of-frame marker, skipping segment bodies
 * (EXIF, ICC profiles and thumbnails can fill the first hundreds of KiB) without buffering them,
 * so it works whatever the chunking.
 */
class JpegScanner {
  private state = JpegState.Signature;
  private signatureIndex = 0;
  private marker = 0;
  private remaining = 0;
  private readonly frame: number[] = [];
  result: Dimensions | { error: string } | null = null;

  write(chunk: Uint8Array): void {
    let index = 0;
    while (index < chunk.length && this.state !== JpegState.Done) {
      if (this.state === JpegState.Skip) {
        const skipped = Math.min(this.remaining, chunk.length - index);
        this.remaining -= skipped;
        index += skipped;
        if (this.remaining === 0) this.state = JpegState.MarkerPrefix;
        continue;
      }
      this.step(chunk[index] as number);
      index += 1;
    }
  }

  finish(): Dimensions | { error: string } {
    return this.result ?? { error: 'JPEG ended before its start-of-frame marker' };
  }

  private step(byte: number): void {
    switch (this.state) {
      case JpegState.Signature:
        if (byte !== [0xff, markerStartOfImage][this.signatureIndex]) return this.stop({ error: 'Not a JPEG' });
        this.signatureIndex += 1;
        if (this.signatureIndex === 2) this.state = JpegState.MarkerPrefix;
        return;
      case JpegState.MarkerPrefix:
        if (byte !== 0xff) return this.stop({ error: `Expected a JPEG marker, found byte 0x${byte.toString(16)}` });
        this.state = JpegState.Marker;
        return;
      case JpegState.Marker:
        if (byte === 0xff) return; // fill bytes before a marker
        if (byte === markerStartOfScan) return this.stop({ error: 'JPEG scan data before any start-of-frame marker' });
        this.marker = byte;
        this.state = isStandaloneMarker(byte) ? JpegState.MarkerPrefix : JpegState.LengthHigh;
        return;
      case JpegState.LengthHigh:
        this.remaining = byte << 8;
        this.state = JpegState.LengthLow;
        return;
      case JpegState.LengthLow:
        // The length counts its own two bytes.
        this.remaining = (this.remaining | byte) - 2;
        if (this.remaining < 0) return this.stop({ error: 'JPEG segment with an invalid length' });
        if (frameProcesses[this.marker] !== undefined) this.state = JpegState.Frame;
        else this.state = this.remaining === 0 ? JpegState.MarkerPrefix : JpegState.Skip;
        return;
      case JpegState.Frame:
        // SOF payload: precision (1), height (2), width (2), component count (1).
        this.frame.push(byte);
        if (this.frame.length < 6) return;
        return this.stop({
          format: 'jpeg',
          width: ((this.frame[3] as number) << 8) | (this.frame[4] as number),
          height: ((this.frame[1] as number) << 8) | (this.frame[2] as number),
          details: { process: frameProcesses[this.marker] as string, precision: this.frame[0] as number, components: this.frame[5] as number },
        });
      case JpegState.Skip:
      case JpegState.Done:
        return;
    }
  }

  private stop(result: Dimensions | { error: string }): void {
    this.result = result;
    this.state = JpegState.Done;
  }
}

function summarize(result: Dimensions | { error: string } | null): ImageSummary {
  if (result === null) return { valid: false, error: 'Not a PNG, JPEG, GIF, WebP or BMP header', format: null, width: null, height: null, details: {} };
  if ('error' in result) return { valid: false, error: result.error, format: null, width: null, height: null, details: {} };
  if (result.width === 0 || result.height === 0) return { valid: false, error: 'Image header states a zero dimension', ...result };
  return { valid: true, error: null, ...result };
}

/** Image format and dimensions from header bytes, never decoding pixels. */
export const imageAnalyzer: Analyzer<ImageSummary> = {
  name: 'image',
  input: 'bytes',
  // Fixed fields and a handful of header details.
  summaryBudgetBytes: 2 * 1024,
  // The bytes decide first (a PNG declared as text/csv is still analysed as a PNG); a declared image
  // type is enough too, so a "PNG" that is not one gets a `valid: false` summary saying so.
  accepts: (file: FileInfo) =>
    imageMediaTypes.has(normalizeMediaType(file.sniffed?.mime ?? '')) || imageMediaTypes.has(normalizeMediaType(file.contentType)),
  create() {
    const head = new Uint8Array(headerBytes);
    let headLength = 0;
    let jpeg: JpegScanner | null = null;
    return {
      write(chunk) {
        if (jpeg !== null) return jpeg.write(chunk);
        const taken = Math.min(chunk.length, headerBytes - headLength);
        head.set(chunk.subarray(0, taken), headLength);
        headLength += taken;
        // Decide as soon as two bytes show whether it is a JPEG; from then on scan instead of holding.
        if (headLength >= 2 && head[0] === 0xff && head[1] === markerStartOfImage) {
          jpeg = new JpegScanner();
          jpeg.write(head.subarray(0, headLength));
          jpeg.write(chunk.subarray(taken));
        }
      },
      async finish() {
        if (jpeg !== null) return summarize(jpeg.finish());
        return summarize(parseFixedHeader(head.subarray(0, headLength)));
      },
    };
  },
};
