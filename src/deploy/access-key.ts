// The namespace access key the functions dispatch with (FUNCTIONS_ACCESS_KEY, `<key id>:<secret>`).
// DigitalOcean replaced the shared namespace token with these keys (Functions release notes,
// 13 March 2026; DigitalOcean docs: doctl serverless key create). A key's secret is shown once, at
// creation, so the deploy keeps it in `.env` and reuses it while the namespace still lists its id.
import { doctlErrorOf, minimumDoctlVersion, parseAccessKeyList, parseCreatedAccessKey, type AccessKey, type Doctl } from './doctl.js';
import { StepFailure } from './report.js';

/** The name the deploy's keys carry, so `doctl serverless key list` shows what each is for. */
export const dispatchKeyName = 'sluice-dispatch';
/** `never`: the functions hold the key; an expiring one would stop dispatch some day without warning. */
export const dispatchKeyExpiration = 'never';

export const keyListArgs = ['serverless', 'key', 'list', '--output', 'json'] as const;
export const keyCreateArgs = ['serverless', 'key', 'create', '--name', dispatchKeyName, '--expiration', dispatchKeyExpiration, '--output', 'json'] as const;

/**
 * `<key id>:<secret>`, the shape src/config.ts accepts. Key ids look like `dof_v1_…` (doctl
 * commands/serverless.go validateAccessKeyFormat); the id is whatever `key list` reports.
 */
export function parseAccessKeySetting(value: string): { id: string; secret: string } | undefined {
  const match = /^([^:\s]+):(\S+)$/.exec(value.trim());
  return match?.[1] && match[2] ? { id: match[1], secret: match[2] } : undefined;
}

export interface ConfiguredKey {
  value: string;
  /** Where it came from: the shell wins over `.env`, as for doctl's own substitution. */
  source: 'shell' | '.env';
}

export type KeyPlan =
  | { kind: 'reuse'; id: string; value: string; source: ConfiguredKey['source'] }
  /** `reason` says why no configured key can be used; `unusedKeys` are other keys of ours the namespace lists. */
  | { kind: 'create'; reason: string; unusedKeys: AccessKey[] };

/** Decides, read-only (`doctl serverless key list`), whether the configured key can be reused. */
export async function planAccessKey(doctl: Doctl, configured: ConfiguredKey | undefined, now = new Date()): Promise<KeyPlan> {
  const result = await doctl.run(keyListArgs);
  if (result.code !== 0) {
    throw new StepFailure(`doctl serverless key list failed: ${doctlErrorOf(result)}`, 'check `doctl serverless status`, then run the deploy again');
  }
  const keys = parseAccessKeyList(result.stdout);
  if (keys === undefined) {
    throw new StepFailure(
      'doctl serverless key list did not answer with a key list',
      `namespace access keys need doctl ${minimumDoctlVersion} or later: upgrade doctl (\`doctl version\` shows yours)`,
    );
  }
  const usable = keys.filter((key) => key.expires_at === undefined || new Date(key.expires_at) > now);
  const unusedKeys = (configuredId: string | undefined) => usable.filter((key) => key.name === dispatchKeyName && key.id !== configuredId);

  if (configured === undefined) return { kind: 'create', reason: 'FUNCTIONS_ACCESS_KEY is not set', unusedKeys: unusedKeys(undefined) };
  const parsed = parseAccessKeySetting(configured.value);
  if (parsed === undefined) {
    if (configured.source === 'shell') {
      throw new StepFailure('FUNCTIONS_ACCESS_KEY in the shell environment is not `<key id>:<secret>`', 'unset it (the deploy then creates one and keeps it in .env)');
    }
    return { kind: 'create', reason: 'FUNCTIONS_ACCESS_KEY in .env is not `<key id>:<secret>`', unusedKeys: unusedKeys(undefined) };
  }
  if (usable.some((key) => key.id === parsed.id)) return { kind: 'reuse', id: parsed.id, value: configured.value.trim(), source: configured.source };
  if (configured.source === 'shell') {
    // doctl would deploy the shell's value whatever .env says, so writing a new key to .env would not help.
    throw new StepFailure(
      `FUNCTIONS_ACCESS_KEY in the shell environment names key ${parsed.id}, which this namespace does not list (deleted, expired, or another namespace's)`,
      'unset it (the deploy then creates one and keeps it in .env)',
    );
  }
  return { kind: 'create', reason: `key ${parsed.id} from .env is no longer listed by the namespace`, unusedKeys: unusedKeys(parsed.id) };
}

/** `doctl serverless key create`: the new key as FUNCTIONS_ACCESS_KEY wants it, `<id>:<secret>`. */
export async function createAccessKey(doctl: Doctl): Promise<{ id: string; value: string }> {
  const result = await doctl.run(keyCreateArgs);
  if (result.code !== 0) {
    throw new StepFailure(`doctl serverless key create failed: ${doctlErrorOf(result)}`, 'check `doctl serverless status`, then run the deploy again');
  }
  const key = parseCreatedAccessKey(result.stdout);
  if (key === undefined) {
    throw new StepFailure(
      'doctl serverless key create did not print the new key and its secret',
      `look for a key named ${dispatchKeyName} in \`doctl serverless key list\`, delete it with \`doctl serverless key delete <id>\` and run the deploy again`,
    );
  }
  return { id: key.id, value: `${key.id}:${key.secret}` };
}
