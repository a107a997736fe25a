// A PUT whose bytes arrive in two goes, for tests of what the store shows while an upload is still
// in flight (a slow browser upload), and a way to see that its first bytes have reached the disk.
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

export interface SlowPut {
  /** Sends the rest and waits for the answer. */
  finish(): Promise<{ status: number | undefined; etag: string | undefined }>;
  /** Cuts the connection, as a closed browser tab does. */
  abort(): void;
}

/** Sends the first `sentBytes` of `body` to `url` now, announcing the full length; the rest on `finish()`. */
export function startSlowPut(url: string, headers: Record<string, string>, body: Uint8Array, sentBytes: number): SlowPut {
  const request = http.request(url, { method: 'PUT', headers: { ...headers, 'Content-Length': String(body.length) } });
  const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  // Never an unhandled rejection: a test that ends early (or cuts the PUT) may not ask for the answer.
  answered.catch(() => undefined);
  request.write(body.subarray(0, sentBytes));
  return {
    async finish() {
      request.end(body.subarray(sentBytes));
      const response = await answered;
      response.resume();
      await once(response, 'end');
      return { status: response.statusCode, etag: response.headers.etag };
    },
    abort() {
      request.destroy();
    },
  };
}

/**
 * The largest file under `folder` written since `since` (epoch ms): how many bytes of a PUT in
 * flight have reached the disk, wherever the store keeps them while they arrive.
 */
export async function bytesWrittenSince(folder: string, since: number): Promise<number> {
  const entries = await fs.readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => {
        const stat = await fs.stat(path.join(entry.parentPath, entry.name)).catch(() => undefined);
        return stat !== undefined && stat.mtimeMs >= since ? stat.size : 0;
      }),
  );
  return Math.max(0, ...sizes);
}
