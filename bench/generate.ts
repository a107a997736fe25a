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
    case 'csv': {
      // Seven mixed columns as exports have them: an id, a quoted name holding a comma and
      // quotes, an amount, a date, a date-time with zone, a boolean, and a note that is quoted
      // over two lines in one row of ten.
      const hour = String(index % 24).padStart(2, '0');
      const note = index % 10 === 0 ? '"first line\nsecond, ""quoted"" line"' : `note ${index % 101}`;
      const tier = index % 3 === 0 ? 'gold' : 'basic';
      return `${index},"Customer ${index % 9973}, ""${tier}""",${((index * 7.31) % 10_000).toFixed(2)},2026-02-${day},2026-02-${day}T${hour}:15:00Z,${index % 2 === 0},${note}\n`;
    }
    case 'ndjson':
      return `{"id":${index},"name":"customer ${index % 9973}","amount":${(index * 7.31) % 10_000},"paid":${index % 2 === 0}}\n`;
    case 'text':
      return `Line ${index}: the quick brown fox jumps over the lazy dog — ünïcödé ${index % 97}\n`;
  }
}

/** Room kept at the end of a CSV for its last record, which is padded to the exact size. */
const csvEndReserveBytes = 256;

/** A record of `bytes` bytes (cut short only when fewer bytes than a record are left), its note padded. */
function csvLastLine(bytes: number): string {
  const record = '0,"Customer 0, ""gold""",0.00,2026-02-01,2026-02-01T00:15:00Z,true,note ';
  return `${record}${'x'.repeat(Math.max(0, bytes - record.length - 1))}\n`;
}

/** Exactly `totalBytes` of the kind, in chunks of about 256 KiB. */
export async function* generate(kind: InputKind, totalBytes: number): AsyncGenerator<Uint8Array> {
  let sent = 0;
  let index = 0;
  if (kind === 'csv') {
    const header = Buffer.from('id,name,amount,day,time,paid,note\n');
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
      const reserve = kind === 'csv' ? csvEndReserveBytes : 0;
      while (length < chunkBytes && sent + length + reserve < totalBytes) {
        const next = line(kind, index++);
        lines.push(next);
        length += Buffer.byteLength(next);
      }
      // A CSV ends on a whole record, padded to the exact size, so strict readers (DuckDB) take it.
      if (kind === 'csv' && sent + length + reserve >= totalBytes) lines.push(csvLastLine(totalBytes - sent - length));
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
