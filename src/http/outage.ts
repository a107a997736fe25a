// Which failures mean "a service Sluice depends on is down for now" rather than "this request is
// wrong" or "this code is wrong": the database or the object store unreachable, hung or timing
// out. src/errors.ts answers those with 503 and Retry-After, which clients retry; everything else
// unexpected stays 500 INTERNAL. Each service's module says what its outages look like; this only
// asks them.
import { DatabaseUnavailableError } from '../db/client.js';
import { isStorageUnavailable } from '../storage/spaces.js';

export type UnavailableService = 'database' | 'storage';

/** Wrapped errors are followed this far through `cause`. */
const maxCauseDepth = 5;

/**
 * The service an error says is unavailable, following `cause` (an error wrapping one of theirs
 * counts), or undefined. Every query runs through src/db/client.ts, which turns the database's
 * outages into DatabaseUnavailableError; every storage call through src/storage/spaces.ts, whose
 * timeouts and refused connections are StorageErrors. A bare socket error (ECONNREFUSED) could come
 * from anywhere, so it names no service.
 */
export function unavailableService(error: unknown): UnavailableService | undefined {
  let current = error;
  for (let depth = 0; depth <= maxCauseDepth && current instanceof Error; depth++) {
    if (current instanceof DatabaseUnavailableError) return 'database';
    if (isStorageUnavailable(current)) return 'storage';
    current = current.cause;
  }
  return undefined;
}
