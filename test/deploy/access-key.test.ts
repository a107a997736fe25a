// Choosing the dispatch access key (src/deploy/access-key.ts) against the doctl stand-in: reuse a
// key the namespace lists, create one otherwise, never paper over a stale key set in the shell
// (doctl would deploy the shell's value whatever .env says), and read doctl's real output formats.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccessKey, planAccessKey } from '../../src/deploy/access-key.js';
import { createDoctl, parseCreatedAccessKey, type Doctl } from '../../src/deploy/doctl.js';
import { StepFailure } from '../../src/deploy/report.js';
import { createStandin, type StandinState } from './support.js';

const listed = { id: 'dof_v1_1111222233334444', name: 'sluice-dispatch', created_at: '2026-07-01T00:00:00Z' };
let directory: string;

beforeEach(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sluice-access-key-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function doctlWith(state: Partial<StandinState>): Doctl {
  return createDoctl({ cwd: directory, environment: createStandin(directory, state).environment });
}

describe('planAccessKey', () => {
  it('reuses a configured key whose id the namespace lists', async () => {
    const plan = await planAccessKey(doctlWith({ keys: [listed] }), { value: `${listed.id}:secret`, source: '.env' });
    expect(plan).toEqual({ kind: 'reuse', id: listed.id, value: `${listed.id}:secret`, source: '.env' });
  });

  it('creates one when none is configured, when the .env one is gone or expired, or when it is not <id>:<secret>', async () => {
    const expired = { ...listed, expires_at: '2026-01-01T00:00:00Z' };
    const now = new Date('2026-08-01T00:00:00Z');
    expect(await planAccessKey(doctlWith({ keys: [] }), undefined)).toMatchObject({ kind: 'create', reason: 'FUNCTIONS_ACCESS_KEY is not set' });
    expect(await planAccessKey(doctlWith({ keys: [] }), { value: `${listed.id}:secret`, source: '.env' })).toMatchObject({
      kind: 'create',
      reason: `key ${listed.id} from .env is no longer listed by the namespace`,
    });
    expect(await planAccessKey(doctlWith({ keys: [expired] }), { value: `${listed.id}:secret`, source: '.env' }, now)).toMatchObject({ kind: 'create' });
    expect(await planAccessKey(doctlWith({ keys: [listed] }), { value: 'just-a-secret', source: '.env' })).toMatchObject({
      kind: 'create',
      reason: 'FUNCTIONS_ACCESS_KEY in .env is not `<key id>:<secret>`',
    });
  });

  it('names other keys of ours the namespace lists, so unused ones can be deleted', async () => {
    const other = { ...listed, id: 'dof_v1_9999888877776666' };
    const plan = await planAccessKey(doctlWith({ keys: [other] }), undefined);
    expect(plan).toMatchObject({ kind: 'create', unusedKeys: [other] });
  });

  it('stops on a stale key from the shell instead of writing a new one to .env that doctl would ignore', async () => {
    const plan = planAccessKey(doctlWith({ keys: [] }), { value: `${listed.id}:secret`, source: 'shell' });
    await expect(plan).rejects.toBeInstanceOf(StepFailure);
    await expect(plan).rejects.toMatchObject({ fix: 'unset it (the deploy then creates one and keeps it in .env)' });
  });
});

describe('createAccessKey', () => {
  it('runs doctl serverless key create and returns <id>:<secret>', async () => {
    const standin = createStandin(directory, { nextKey: { id: 'dof_v1_abcdefabcdef0001', secret: 'S3cretS3cret' } });
    const created = await createAccessKey(createDoctl({ cwd: directory, environment: standin.environment }));
    expect(created).toEqual({ id: 'dof_v1_abcdefabcdef0001', value: 'dof_v1_abcdefabcdef0001:S3cretS3cret' });
    expect(standin.commands()).toEqual(['serverless key create --name sluice-dispatch --expiration never --output json']);
    expect(standin.state().keys.map((key) => key.id)).toEqual(['dof_v1_abcdefabcdef0001']);
  });
});

describe("reading doctl's key create output", () => {
  it('finds the JSON after the notice lines (commands/keys.go RunAccessKeyCreate)', () => {
    const stdout = [
      'Notice: The secret key for "sluice-dispatch" is shown below.',
      'Please save this secret. You will not be able to see it again.',
      '',
      '[',
      '  {',
      '    "id": "dof_v1_abc123def456",',
      '    "name": "sluice-dispatch",',
      '    "created_at": "2026-08-01T12:00:00Z",',
      '    "secret": "secret123"',
      '  }',
      ']',
    ].join('\n');
    expect(parseCreatedAccessKey(stdout)).toMatchObject({ id: 'dof_v1_abc123def456', secret: 'secret123' });
    expect(parseCreatedAccessKey('Notice: …\n')).toBeUndefined();
  });
});
