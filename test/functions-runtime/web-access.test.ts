// Which functions the web URL reaches, and who answers CORS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureRuntime, type FixtureRuntime } from './helpers.js';

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

describe('web access', () => {
  it('answers 404 for a non-web function, an unknown one and another namespace', async () => {
    for (const url of [
      `${fixture.runtime.webBase}/jobs/plain`,
      `${fixture.runtime.webBase}/web/missing`,
      `${fixture.runtime.apiHost}/api/v1/web/other-namespace/web/echo`,
    ]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(404);
      expect(await response.json()).toMatchObject({ error: 'The requested resource does not exist.' });
    }
  });

  it('answers 400, not 500, to a path with a malformed percent-escape', async () => {
    for (const url of [`${fixture.runtime.webBase}/web/echo/%E0%A4%A`, `${fixture.runtime.webBase}/web/%E0%A4`, `${fixture.runtime.apiHost}/api/v1/namespaces/_/actions/jobs/%ZZ`]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(400);
      expect(await response.json()).toEqual({ error: 'Illegal request-target: malformed percent-encoding in the path.', code: expect.stringMatching(/^[0-9a-f]{32}$/) });
    }
  });

  it('answers OPTIONS itself and adds permissive CORS headers by default', async () => {
    const preflight = await fetch(`${fixture.runtime.webBase}/web/echo`, {
      method: 'OPTIONS',
      headers: { origin: 'https://anywhere.example', 'access-control-request-headers': 'x-one, content-type' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('x-one, content-type');
    expect(preflight.headers.get('x-openwhisk-activation-id')).toBeNull();

    const call = await fetch(`${fixture.runtime.webBase}/web/echo`);
    expect(call.headers.get('access-control-allow-origin')).toBe('*');
    expect(call.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('lets a web-custom-options function answer OPTIONS and CORS itself', async () => {
    const preflight = await fetch(`${fixture.runtime.webBase}/web/cors`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST');
    expect(preflight.headers.get('x-openwhisk-activation-id')).toMatch(/^[0-9a-f]{32}$/);

    const call = await fetch(`${fixture.runtime.webBase}/web/cors`, { method: 'POST' });
    expect(call.status).toBe(200);
    expect(call.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(await call.json()).toEqual({ handled: 'by function' });
  });
});
