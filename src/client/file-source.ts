// A file on disk as an upload source (UploadSourceLike in ./upload.ts), for Node callers: the CLI,
// scripts and tests. Not `fs.openAsBlob`: on Node 20 its Blob reports sizes modulo 4 GiB
// (nodejs/node#52585), so a 5 GiB file was declared, uploaded and "succeeded" as 1 GiB. Here the
// size comes from fstat and every range is read by offset with positional reads, which take any
// offset below 2^53.
//
// Node-only (node:fs), so it is not exported from ./index.ts, which the browser page imports.
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { clientErrorCodes, SluiceApiError } from './errors.js';
import type { UploadSourceLike } from './upload.js';

export interface FileSource extends UploadSourceLike {
  /** The absolute path that was opened. */
  readonly path: string;
  /** The base name, what `create` is sent as the filename. */
  readonly name: string;
  /** Bytes, from fstat at open. */
  readonly size: number;
  /** Exactly bytes [start, end) of the file; throws FILE_MISMATCH if the file changed since it was opened. */
  slice(start: number, end: number): Promise<Uint8Array<ArrayBuffer>>;
  /** The first `length` bytes (fewer for a shorter file), e.g. to sniff the type. */
  head(length: number): Promise<Uint8Array<ArrayBuffer>>;
  close(): Promise<void>;
}

/**
 * Opens a regular file for upload. The descriptor stays open until `close`, so a file renamed or
 * replaced meanwhile is still the one read; one changed in place (another size or modification
 * time) is refused at the next read rather than sent half old, half new.
 */
export async function openFileSource(filePath: string): Promise<FileSource> {
  const absolute = path.resolve(filePath);
  const handle = await open(absolute, 'r');
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw mismatch(stats.isDirectory() ? `${absolute} is a directory: name the files in it` : `${absolute} is not a regular file`);
    return new OpenFile(absolute, handle, stats.size, stats.mtimeMs);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

class OpenFile implements FileSource {
  readonly name: string;
  readonly type = '';

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
    private readonly mtimeMs: number,
  ) {
    this.name = path.split(/[\\/]/).pop() ?? path;
  }

  async head(length: number): Promise<Uint8Array<ArrayBuffer>> {
    return this.slice(0, Math.min(length, this.size));
  }

  async slice(start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > this.size) {
      throw new RangeError(`bytes ${start}..${end} are outside ${this.path} (${this.size} bytes)`);
    }
    await this.checkUnchanged();
    const bytes = new Uint8Array(end - start);
    let filled = 0;
    while (filled < bytes.length) {
      // A read may return fewer bytes than asked (large reads, network filesystems): keep going.
      const { bytesRead } = await this.handle.read(bytes, filled, bytes.length - filled, start + filled);
      if (bytesRead === 0) throw mismatch(`${this.path} ended at byte ${start + filled}, before the ${this.size} bytes it had when the upload started.`);
      filled += bytesRead;
    }
    return bytes;
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private async checkUnchanged(): Promise<void> {
    const now = await this.handle.stat();
    if (now.size !== this.size || now.mtimeMs !== this.mtimeMs) {
      throw mismatch(`${this.path} changed while it was being uploaded (${this.size} bytes at the start, ${now.size} now): upload it again once it is written.`);
    }
  }
}

function mismatch(message: string): SluiceApiError {
  return new SluiceApiError({ status: 0, code: clientErrorCodes.fileMismatch, message });
}
