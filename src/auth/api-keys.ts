// API keys: `Authorization: Bearer <key>`. Only SHA-256 hashes of keys are configured (API_KEYS),
// so a leaked environment does not leak keys. Make one with:
//   node -e "const k=require('crypto').randomBytes(32).toString('base64url');console.log(k, require('crypto').createHash('sha256').update(k).digest('hex'))"
// (give the client the first value, put the second in API_KEYS).
import { createHash, timingSafeEqual } from 'node:crypto';
import { clientAddressConfig, type ClientAddressSource, type UploadConfig } from '../config.js';
import { ApiError } from '../errors.js';
import { clientAddress } from './client-address.js';

export type Caller = { kind: 'key'; keyHash: string } | { kind: 'anonymous' };

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Compares the presented key's hash with every configured hash in constant time, without stopping
 * at a match, so timing reveals neither which key matched nor how much of a hash did.
 */
export function matchApiKey(key: string, keyHashes: readonly string[]): string | undefined {
  const presented = Buffer.from(sha256Hex(key), 'hex');
  let matched: string | undefined;
  for (const hash of keyHashes) {
    if (timingSafeEqual(presented, Buffer.from(hash, 'hex'))) matched = hash;
  }
  return matched;
}

/**
 * Who is calling `create`. A key, when one is sent, must be valid even with anonymous uploads on —
 * a mistyped key should fail loudly rather than silently run under the anonymous limits.
 */
export function authenticate(headers: Record<string, string>, config: UploadConfig): Caller {
  const authorization = headers.authorization;
  if (authorization !== undefined && authorization.trim() !== '') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
    const keyHash = match?.[1] === undefined ? undefined : matchApiKey(match[1], config.apiKeyHashes);
    if (keyHash === undefined) throw new ApiError('UNAUTHORIZED', 'The API key is not valid.', { headers: { 'WWW-Authenticate': 'Bearer' } });
    return { kind: 'key', keyHash };
  }
  if (config.allowAnonymousUploads) return { kind: 'anonymous' };
  throw new ApiError('UNAUTHORIZED', 'An API key is required: send Authorization: Bearer <key>.', {
    headers: { 'WWW-Authenticate': 'Bearer' },
  });
}

/**
 * The identity limits are counted against: the key (a prefix of its hash is plenty to tell keys
 * apart and never reveals the key), else the client's address from the configured source
 * (CLIENT_ADDRESS_SOURCE, ./client-address.ts) — never an entry the client could write itself.
 */
export function clientId(caller: Caller, headers: Record<string, string>, source: ClientAddressSource = clientAddressConfig().source): string {
  if (caller.kind === 'key') return `key:${caller.keyHash.slice(0, 16)}`;
  return `ip:${clientAddress(headers, source)}`;
}
