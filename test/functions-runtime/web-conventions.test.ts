// Web functions get DigitalOcean's request conventions and answer with {statusCode, headers, body}.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureRuntime, type FixtureRuntime } from './helpers.js';

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

interface EchoBody {
  params: Record<string, unknown> & { http: Record<string, unknown>; __ow_headers: Record<string, string> };
  greeting: string;
}

describe('web function requests', () => {
  it('merges query and JSON body (body wins) and adds __ow_* and the http object', async () => {
    const response = await fetch(`${fixture.runtime.webBase}/web/echo/items/42?color=red&size=s`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Custom-Header': 'Yes' },
      body: JSON.stringify({ size: 'xl', nested: { a: 1 } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fixture')).toBe('yes');
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('x-openwhisk-activation-id')).toMatch(/^[0-9a-f]{32}$/);
    const { params, greeting } = (await response.json()) as EchoBody;
    expect(params).toMatchObject({ color: 'red', size: 'xl', nested: { a: 1 }, __ow_method: 'post', __ow_path: '/items/42' });
    expect(params.__ow_headers['x-custom-header']).toBe('Yes');
    expect(params.__ow_headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(params.http).toMatchObject({
      method: 'POST',
      path: '/items/42',
      queryString: 'color=red&size=s',
      body: JSON.stringify({ size: 'xl', nested: { a: 1 } }),
      isBase64Encoded: false,
    });
    expect(greeting).toBe('hello');
  });

  it('merges form-urlencoded bodies and appends the socket address to a caller-set x-forwarded-for, as the edge does', async () => {
    const response = await fetch(`${fixture.runtime.webBase}/web/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9' },
      body: 'name=sammy&count=3',
    });
    const { params } = (await response.json()) as EchoBody;
    expect(params).toMatchObject({ name: 'sammy', count: '3', __ow_method: 'post', __ow_path: '' });
    expect(params.__ow_headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
  });

  it('rejects a request that overrides a final parameter or a reserved __ow_ one with 400', async () => {
    const override = await fetch(`${fixture.runtime.webBase}/web/final?tier=free`);
    expect(override.status).toBe(400);
    expect(await override.json()).toMatchObject({ error: expect.stringContaining('not allowed') });
    const reserved = await fetch(`${fixture.runtime.webBase}/web/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ __ow_method: 'get' }),
    });
    expect(reserved.status).toBe(400);
    const plain = await fetch(`${fixture.runtime.webBase}/web/final`);
    expect(await plain.json()).toEqual({ tier: 'gold' });
  });

  it('rejects a malformed JSON body with 400', async () => {
    const response = await fetch(`${fixture.runtime.webBase}/web/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(response.status).toBe(400);
  });
});

describe('web function responses', () => {
  it('sends statusCode, headers and a string body as given', async () => {
    const response = await fetch(`${fixture.runtime.webBase}/web/echo?reply=text`);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.get('x-fixture')).toBe('yes');
    expect(await response.text()).toBe('plain words');
  });

  it('answers 204 with no body when the result has none of statusCode, headers, body', async () => {
    const response = await fetch(`${fixture.runtime.webBase}/web/echo?reply=none`);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('uses the error value of an application error as the response', async () => {
    const response = await fetch(`${fixture.runtime.webBase}/web/echo?reply=error`);
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ problem: 'conflict' });
  });
});
