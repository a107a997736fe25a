// Lazily generated inputs for the benchmarks: the bytes are made as they are read, so the generator
// itself holds no more than one chunk and the memory figures measure the code under test.
import { randomBytes } from 'node:crypto';

const chunkBytes = 256 * 1024;

export type InputKind = 'csv' | 'ndjson' | 'text' | 'binary';

export const inputContentTypes: Record<InputKind, string> = {
  csv: 'text/csv',
  ndjson: 'application/x-ndjson',
  text: 'text/plain',
  binary: 'application/octet-stream',
};

function line(kind: Exclude<InputKind, 'binary'>, index: number): string {
  const day = String((index % 28) + 1).padStart(2, '0');
  switch (kind) {
    case 'csv':
      return `${index},"customer ${index % 9973}",${(index * 7.31) % 10_000},2026-02-${day},${index % 2 === 0}\n`;
    case 'ndjson':
      return `{"id":${index},"name":"customer ${index % 9973}","amount":${(index * 7.31) % 10_000},"paid":${index % 2 === 0}}\n`;
    case 'text':
      return `Line ${index}: the quick brown fox jumps over the lazy dog — ünïcödé ${index % 97}\n`;
  }
}

/** Exactly `totalBytes` of the kind, in chunks of about 256 KiB. */
export async function* generate(kind: InputKind, totalBytes: number): AsyncGenerator<Uint8Array> {
  let sent = 0;
  let index = 0;
  if (kind === 'csv') {
    const header = Buffer.from('id,name,amount,date,paid\n');
    yield header;
    sent += header.byteLength;
  }
  while (sent < totalBytes) {
    let chunk: Buffer;
    if (kind === 'binary') {
      chunk = randomBytes(Math.min(chunkBytes, totalBytes - sent));
    } else {
      const lines: string[] = [];
      let length = 0;
      while (length < chunkBytes) {
        const next = line(kind, index++);
        lines.push(next);
        length += Buffer.byteLength(next);
      }
      chunk = Buffer.from(lines.join('')).subarray(0, totalBytes - sent);
    }
    sent += chunk.byteLength;
    yield chunk;
  }
}

/** The same bytes as one Blob (for uploads: the client slices it). */
export async function generateBlob(kind: InputKind, totalBytes: number): Promise<Blob> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for await (const chunk of generate(kind, totalBytes)) parts.push(new Uint8Array(chunk));
  return new Blob(parts, { type: inputContentTypes[kind] });
}
