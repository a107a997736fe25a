// Results are at most 1 MB, counted as the serialized JSON the action proxy answers with (for a
// web function, its whole response). Past that the activation is an application error carrying
// OpenWhisk's truncation message and the start of the result; a web caller gets 400.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ActivationRecord } from '../../src/local/functions/activations.js';
import { annotation, restInvoke, startFixtureRuntime, type FixtureRuntime } from './helpers.js';

const maxResultBytes = 1024 * 1024;
const truncationNotice = (bytes: number): string =>
  `The action produced a response that exceeded the allowed length: ${bytes} > ${maxResultBytes} bytes. The truncated response was: `;

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

it('keeps a result of exactly 1 MB and refuses one byte more as an application error, on a warm worker', async () => {
  const fits = await fixture.runtime.invoke('web/large', { bytes: maxResultBytes });
  expect(fits.response.success).toBe(true);
  expect(JSON.stringify(fits.response.result)).toHaveLength(maxResultBytes);

  const over = await fixture.runtime.invoke('web/large', { bytes: maxResultBytes + 1 });
  expect(over.response).toMatchObject({ status: 'application error', statusCode: 1, success: false });
  const error = over.response.result.error as string;
  expect(error.startsWith(truncationNotice(maxResultBytes + 1))).toBe(true);
  // The first 1 MB of what the function returned, as the invoker keeps it.
  const returned = JSON.stringify({ body: 'a'.repeat(maxResultBytes + 1 - JSON.stringify({ body: '' }).length) });
  expect(error.slice(truncationNotice(maxResultBytes + 1).length)).toBe(returned.slice(0, maxResultBytes));
  // An application error does not discard the container.
  expect(annotation(over, 'workerPid')).toBe(annotation(fits, 'workerPid'));
});

it('answers a blocking REST invoke of an oversized result with 502 and the record', async () => {
  const response = await restInvoke(fixture.runtime, 'web/large', { bytes: 3 * maxResultBytes }, 'blocking=true');
  expect(response.status).toBe(502);
  const record = (await response.json()) as ActivationRecord;
  expect(record.response.status).toBe('application error');
  expect(String(record.response.result.error).startsWith(truncationNotice(3 * maxResultBytes))).toBe(true);
});

it('answers a web call whose whole response passes 1 MB with 400, as an invalid HTTP response', async () => {
  const response = await fetch(`${fixture.runtime.webBase}/web/large?bytes=${2 * maxResultBytes}`);
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({ error: "Response is not valid 'message/http'.", code: expect.stringMatching(/^[0-9a-f]{32}$/) });
  const record = fixture.runtime.activation(response.headers.get('x-openwhisk-activation-id') ?? '');
  expect(String(record?.response.result.error).startsWith(truncationNotice(2 * maxResultBytes))).toBe(true);

  const fits = await fetch(`${fixture.runtime.webBase}/web/large?bytes=${maxResultBytes}`);
  expect(fits.status).toBe(200);
  expect((await fits.text()).length).toBe(maxResultBytes - JSON.stringify({ body: '' }).length);
});
