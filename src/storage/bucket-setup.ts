// The uploads bucket as Sluice needs it, set through the S3 API so a deploy can do it (`npm run
// setup:bucket`, and a step of `npm run deploy`), idempotently: run it any number of times.
// - Private: objects are reached only through URLs the functions presign.
// - CORS for the page's origins (ALLOWED_ORIGINS): browsers PUT bytes straight to the bucket and
//   read `ETag` from every part's response to complete a multipart upload (docs/platform-facts.md "Spaces").
//   The rule set is replaced as a whole, so ALLOWED_ORIGINS stays its one source.
// - A lifecycle rule aborting incomplete multipart uploads: a safety net under the sweep, which
//   aborts the uploads it expires itself. The bucket's other lifecycle rules are kept.
// Spaces supports bucket ACLs, CORS and lifecycle rules for expiration and incomplete multipart
// uploads (DigitalOcean docs: Spaces API reference, "AWS S3 compatibility").
import { createHash } from 'node:crypto';
import {
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  S3ServiceException,
  type CORSRule,
  type Grant,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { corsMaxAgeSeconds, uploadWindowSeconds, type SpacesConfig } from '../config.js';
import { createStorage, type Storage } from './spaces.js';

/** The page PUTs single uploads and parts, and GETs or HEADs through download URLs. */
export const bucketCorsMethods = ['PUT', 'GET', 'HEAD'];
/** A multipart upload is completed with every part's ETag, which a browser may read only when exposed. */
export const bucketCorsExposedHeaders = ['ETag'];
/** The rule this module owns in the bucket's lifecycle configuration; rules with other IDs are left alone. */
export const abortIncompleteUploadsRuleId = 'sluice-abort-incomplete-multipart-uploads';
/**
 * Whole days, as lifecycle rules count: never sooner than the upload window, so an upload that may
 * still be resumed is not aborted under its client. The sweep expires abandoned uploads itself;
 * this catches what it misses (a job row lost, a sweep that never ran).
 */
export const abortIncompleteUploadsAfterDays = Math.max(1, Math.ceil(uploadWindowSeconds / (24 * 60 * 60)));

/** The grantee URIs that make a bucket readable (or writable) by others than its owner. */
const publicGroupUris = ['http://acs.amazonaws.com/groups/global/AllUsers', 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'];

export type SettingChange = 'unchanged' | 'updated';

export interface BucketSetupResult {
  acl: SettingChange;
  cors: SettingChange;
  lifecycle: SettingChange;
  /** Lifecycle rules of others, kept as they were. */
  otherLifecycleRules: number;
}

export interface BucketSetupOptions {
  /** Exact origins or `*` (ALLOWED_ORIGINS); at least one, or no browser could upload. */
  allowedOrigins: readonly string[];
}

export function desiredCorsRules(allowedOrigins: readonly string[]): CORSRule[] {
  if (allowedOrigins.length === 0) throw new Error('The bucket CORS rule needs at least one origin (ALLOWED_ORIGINS)');
  return [
    {
      AllowedOrigins: [...allowedOrigins],
      AllowedMethods: [...bucketCorsMethods],
      // The SDKs and Uppy send their own headers on part PUTs; presigned URLs sign the ones that matter.
      AllowedHeaders: ['*'],
      ExposeHeaders: [...bucketCorsExposedHeaders],
      MaxAgeSeconds: corsMaxAgeSeconds,
    },
  ];
}

/**
 * The rule, scoped to the empty prefix (the whole bucket: Sluice owns it, and an upload abandoned
 * anywhere is waste). S3 refuses a configuration that mixes the legacy rule-level `Prefix` with
 * `Filter`, so the rule takes the form the bucket's other rules use.
 */
export function abortIncompleteUploadsRule(otherRules: readonly LifecycleRule[] = []): LifecycleRule {
  const legacyForm = otherRules.some((rule) => rule.Prefix !== undefined && rule.Filter === undefined);
  return {
    ID: abortIncompleteUploadsRuleId,
    Status: 'Enabled',
    ...(legacyForm ? { Prefix: '' } : { Filter: { Prefix: '' } }),
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: abortIncompleteUploadsAfterDays },
  };
}

export interface BucketState {
  /** No grant to anyone but the owner. */
  private: boolean;
  cors: CORSRule[];
  lifecycle: LifecycleRule[];
}

/** The bucket's ACL, CORS and lifecycle rules as the S3 API reports them (read only); `storage` from createBucketStorage. */
export async function readBucketState(storage: Storage): Promise<BucketState> {
  const [acl, cors, lifecycle] = await Promise.all([
    storage.client.send(new GetBucketAclCommand({ Bucket: storage.bucket })),
    absentAs(
      'NoSuchCORSConfiguration',
      storage.client.send(new GetBucketCorsCommand({ Bucket: storage.bucket })).then((answer) => answer.CORSRules ?? []),
      [],
    ),
    absentAs(
      'NoSuchLifecycleConfiguration',
      storage.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: storage.bucket })).then((answer) => answer.Rules ?? []),
      [],
    ),
  ]);
  return { private: !(acl.Grants ?? []).some(isPublicGrant), cors, lifecycle };
}

/** Makes the bucket private, sets its CORS rule and its abort rule; writes only what differs. `storage` from createBucketStorage. */
export async function configureBucket(storage: Storage, options: BucketSetupOptions): Promise<BucketSetupResult> {
  const wantedCors = desiredCorsRules(options.allowedOrigins);
  const current = await readBucketState(storage);
  const others = current.lifecycle.filter((rule) => rule.ID !== abortIncompleteUploadsRuleId);
  const ours = current.lifecycle.filter((rule) => rule.ID === abortIncompleteUploadsRuleId);
  const wantedRule = abortIncompleteUploadsRule(others);

  const result: BucketSetupResult = { acl: 'unchanged', cors: 'unchanged', lifecycle: 'unchanged', otherLifecycleRules: others.length };
  if (!current.private) {
    await storage.client.send(new PutBucketAclCommand({ Bucket: storage.bucket, ACL: 'private' }));
    result.acl = 'updated';
  }
  if (!sameCorsRules(current.cors, wantedCors)) {
    await storage.client.send(new PutBucketCorsCommand({ Bucket: storage.bucket, CORSConfiguration: { CORSRules: wantedCors } }));
    result.cors = 'updated';
  }
  if (!(ours.length === 1 && ours[0] !== undefined && sameLifecycleRule(ours[0], wantedRule))) {
    // A lifecycle PUT replaces the whole configuration, so the other rules go back in as read.
    await storage.client.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket: storage.bucket, LifecycleConfiguration: { Rules: [...others, wantedRule] } }),
    );
    result.lifecycle = 'updated';
  }
  return result;
}

function isPublicGrant(grant: Grant): boolean {
  return grant.Grantee?.Type === 'Group' && publicGroupUris.includes(grant.Grantee.URI ?? '');
}

function sameCorsRules(current: readonly CORSRule[], wanted: readonly CORSRule[]): boolean {
  return JSON.stringify(current.map(normalisedCorsRule)) === JSON.stringify(wanted.map(normalisedCorsRule));
}

function normalisedCorsRule(rule: CORSRule): unknown {
  const sorted = (values: readonly string[] | undefined) => [...(values ?? [])].sort();
  return {
    origins: sorted(rule.AllowedOrigins),
    methods: sorted(rule.AllowedMethods),
    headers: sorted(rule.AllowedHeaders),
    exposed: sorted(rule.ExposeHeaders?.map((header) => header.toLowerCase())),
    maxAge: rule.MaxAgeSeconds,
  };
}

function sameLifecycleRule(current: LifecycleRule, wanted: LifecycleRule): boolean {
  // A rule written with the legacy rule-level Prefix means the same as a Filter with that prefix.
  const prefixOf = (rule: LifecycleRule) => rule.Filter?.Prefix ?? rule.Prefix;
  const filterIsPrefixOnly = (rule: LifecycleRule) =>
    rule.Filter === undefined || (rule.Filter.Tag === undefined && rule.Filter.And === undefined && rule.Filter.ObjectSizeGreaterThan === undefined && rule.Filter.ObjectSizeLessThan === undefined);
  return (
    current.Status === wanted.Status &&
    (prefixOf(current) ?? '') === (prefixOf(wanted) ?? '') &&
    filterIsPrefixOnly(current) &&
    current.AbortIncompleteMultipartUpload?.DaysAfterInitiation === wanted.AbortIncompleteMultipartUpload?.DaysAfterInitiation &&
    current.Expiration === undefined &&
    (current.Transitions ?? []).length === 0 &&
    current.NoncurrentVersionExpiration === undefined
  );
}

async function absentAs<T>(errorName: string, request: Promise<T>, fallback: T): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === errorName) return fallback;
    throw error;
  }
}

interface SerializedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

function isSerializedRequest(value: unknown): value is SerializedRequest {
  return (
    typeof value === 'object' &&
    value !== null &&
    'method' in value &&
    typeof value.method === 'string' &&
    'path' in value &&
    typeof value.path === 'string' &&
    'headers' in value &&
    typeof value.headers === 'object'
  );
}

/**
 * A client for the bucket-level requests of this module, prepared for Spaces and S3-compatible
 * servers:
 * - Content-MD5 on the configuration PUTs. The S3 API requires it for PutBucketLifecycle and
 *   PutBucketCors (AWS docs: API_PutBucketLifecycleConfiguration, "you must include the
 *   Content-MD5 header"), but SDK ≥ 3.729 sends a CRC32 checksum instead, which S3-compatible
 *   stores that predate flexible checksums refuse (botocore#3415, aws-sdk-java-v2#6243).
 * - A path-style `/<bucket>/` becomes `/<bucket>`: the SDK signs bucket-level requests with the
 *   trailing slash, and the local S3 server (@20minutes/s3rver, lib/middleware/authentication.js)
 *   verifies the signature over a path rebuilt from the bucket name, without it. Spaces hosts are
 *   addressed virtual-hosted (path `/`), which this leaves untouched.
 */
export function createBucketStorage(config: SpacesConfig): Storage {
  const storage = createStorage(config);
  storage.client.middlewareStack.add(
    (next) => async (args) => {
      if (isSerializedRequest(args.request)) {
        const request = args.request;
        const bucketPath = /^(\/[^/]+)\/$/.exec(request.path);
        if (bucketPath?.[1]) request.path = bucketPath[1];
        if (request.method === 'PUT' && request.headers['content-md5'] === undefined && (typeof request.body === 'string' || request.body === undefined)) {
          request.headers['content-md5'] = createHash('md5').update(request.body ?? '').digest('base64');
        }
      }
      return next(args);
    },
    { step: 'build', name: 'sluiceBucketRequest' },
  );
  return storage;
}
