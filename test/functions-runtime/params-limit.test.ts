// Params are at most 1 MB: a REST invoke or runtime.invoke past it is refused with OpenWhisk's 413,
// and so is a web request body, always as an answer the client reads, never a reset connection.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvokeError } from '../../src/local/functions/runtime.js';
import { restInvoke, startFixtureRuntime, type FixtureRuntime } from './helpers.js';

const maxParamsBytes = 1024 * 1024;
const tooLarge = (bytes: number): unknown => ({ error: `Request larger than allowed: ${bytes} > ${maxParamsBytes} bytes.`, code: expect.stringMatching(/^[0-9a-f]{32}$/) });

/** A JSON object of exactly `bytes` bytes. */
function paramsOfSize(bytes: number): { filler: string } {
  return { filler: 'a'.repeat(bytes - JSON.stringify({ filler: '' }).length) };
}

/** A POST without Content-Length: node:http sends it chunked, in pieces as a real upload arrives. */
function postChunked(url: string, body: Buffer): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
    });
    request.on('error', reject);
    const pieceBytes = 64 * 1024;
    for (let offset = 0; offset < body.length; offset += pieceBytes) request.write(body.subarray(offset, offset + pieceBytes));
    request.end();
  });
}

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

describe('params limit', () => {
  it('accepts REST params of exactly 1 MB and refuses one byte more with 413', async () => {
    const fits = await restInvoke(fixture.runtime, 'web/large', paramsOfSize(maxParamsBytes), 'blocking=true');
    expect(fits.status).toBe(200);
    const over = await restInvoke(fixture.runtime, 'web/large', paramsOfSize(maxParamsBytes + 1), 'blocking=true');
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual(tooLarge(maxParamsBytes + 1));
  });

  it('refuses runtime.invoke params past 1 MB, measured as their JSON', async () => {
    expect((await fixture.runtime.invoke('web/large', paramsOfSize(maxParamsBytes))).response.success).toBe(true);
    const refused = fixture.runtime.invoke('web/large', paramsOfSize(maxParamsBytes + 1));
    await expect(refused).rejects.toBeInstanceOf(InvokeError);
    await expect(refused).rejects.toMatchObject({ status: 413, message: `Request larger than allowed: ${maxParamsBytes + 1} > ${maxParamsBytes} bytes.` });
  });

  it('answers every 2 MB web POST with a 413 the client reads, with or without Content-Length', async () => {
    const body = Buffer.from(JSON.stringify(paramsOfSize(2 * maxParamsBytes)));
    const url = `${fixture.runtime.webBase}/web/large`;
    // Repeated: a connection reset mid-upload (fetch then fails with ECONNRESET) does not happen every time.
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual(tooLarge(body.length));
    }
    expect(await postChunked(url, body)).toEqual({ status: 413, body: tooLarge(body.length) });
  });
});
