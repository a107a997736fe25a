// The OpenWhisk REST invoke API: Basic auth, blocking and non-blocking calls, activation records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivationRecord } from '../../src/local/functions/activations.js';
import { annotation, basicAuth, restInvoke, startFixtureRuntime, waitForActivation, type FixtureRuntime } from './helpers.js';

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

describe('invoke API', () => {
  it('answers a non-blocking invoke with 202 and an activationId whose record appears when it ends', async () => {
    const response = await restInvoke(fixture.runtime, 'jobs/plain', { job: 7, delayMs: 200 }, 'blocking=false');
    expect(response.status).toBe(202);
    const { activationId } = (await response.json()) as { activationId: string };
    expect(activationId).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers.get('x-openwhisk-activation-id')).toBe(activationId);

    const record = await waitForActivation(fixture.runtime, activationId);
    const build = fixture.project().functions.find((fn) => fn.qualifiedName === 'jobs/plain');
    expect(record).toMatchObject({
      activationId,
      namespace: fixture.runtime.namespace,
      name: 'plain',
      response: { status: 'success', statusCode: 0, success: true, result: { params: { job: 7, delayMs: 200 } } },
    });
    expect(record.end - record.start).toBe(record.duration);
    expect(record.duration).toBeGreaterThanOrEqual(200);
    expect(annotation(record, 'path')).toBe(`${fixture.runtime.namespace}/jobs/plain`);
    expect(annotation(record, 'buildId')).toBe(record.version);
    expect(annotation(record, 'limits')).toMatchObject({ timeout: build?.timeoutMs, memory: build?.memoryMb });
    expect(record.logs).toEqual([expect.stringMatching(/ stdout: plain started$/), expect.stringMatching(/ stderr: plain to stderr$/)]);
    expect(fixture.runtime.activation(activationId)).toEqual(record);
  });

  it('answers a blocking invoke with the record, or only the result with result=true', async () => {
    const blocking = await restInvoke(fixture.runtime, 'jobs/plain', { n: 1 }, 'blocking=true');
    expect(blocking.status).toBe(200);
    const record = (await blocking.json()) as ActivationRecord;
    expect(record.response.result).toMatchObject({ params: { n: 1 } });

    const resultOnly = await restInvoke(fixture.runtime, 'jobs/plain', { n: 2 }, 'blocking=true&result=true');
    expect(resultOnly.status).toBe(200);
    expect(await resultOnly.json()).toMatchObject({ params: { n: 2 } });
  });

  it('records a rejected promise as an application error and answers 502', async () => {
    const response = await restInvoke(fixture.runtime, 'jobs/plain', { fail: true }, 'blocking=true');
    expect(response.status).toBe(502);
    const record = (await response.json()) as ActivationRecord;
    expect(record.response).toMatchObject({ status: 'application error', success: false, result: { error: { message: 'plain failed' } } });
  });

  it('refuses a wrong or missing key with 401, and an unknown function or activation with 404', async () => {
    const wrong = await restInvoke(fixture.runtime, 'jobs/plain', {}, 'blocking=true', `${fixture.runtime.accessKey.split(':')[0]}:wrong`);
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'The supplied authentication is invalid' });
    const missing = await fetch(`${fixture.runtime.apiHost}/api/v1/namespaces/_/actions/jobs/plain?blocking=true`, { method: 'POST' });
    expect(missing.status).toBe(401);

    const unknown = await restInvoke(fixture.runtime, 'jobs/nothing', {}, 'blocking=true');
    expect(unknown.status).toBe(404);
    const noRecord = await fetch(`${fixture.runtime.apiHost}/api/v1/namespaces/_/activations/${'0'.repeat(32)}`, {
      headers: { authorization: basicAuth(fixture.runtime.accessKey) },
    });
    expect(noRecord.status).toBe(404);
  });

  it('authenticates with a namespace access key, not with the key activations are handed', async () => {
    expect(fixture.runtime.accessKey).toMatch(/^dof_v1_[0-9a-f]+:\S+$/);
    expect((await restInvoke(fixture.runtime, 'jobs/plain', {}, 'blocking=true')).status).toBe(200);
    // __OW_API_KEY is refused unless the runtime is told to accept it (legacy keys, see runtime.ts).
    const legacy = await restInvoke(fixture.runtime, 'jobs/plain', {}, 'blocking=true', fixture.runtime.apiKey);
    expect(legacy.status).toBe(401);
  });

  it('invokes web functions too, and takes the namespace by name or as _', async () => {
    const response = await fetch(`${fixture.runtime.apiHost}/api/v1/namespaces/${fixture.runtime.namespace}/actions/web/final?blocking=true&result=true`, {
      method: 'POST',
      headers: { authorization: basicAuth(fixture.runtime.accessKey) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ body: { tier: 'gold' } });
  });
});
