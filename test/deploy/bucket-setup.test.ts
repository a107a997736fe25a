// Bucket setup (src/storage/bucket-setup.ts, `npm run setup:bucket`) against the local S3 server,
// read back through the S3 API: private, CORS for the page's origins, the abort rule beside the
// bucket's other lifecycle rules, idempotent when run twice. And the local server's lifecycle and
// ACL support, which is as strict as S3 and Spaces are (src/local/spaces.ts).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DeleteBucketLifecycleCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketAclCommand,
  PutBucketLifecycleConfigurationCommand,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { corsMaxAgeSeconds, type SpacesConfig } from '../../src/config.js';
import { startLocalSpaces, type LocalSpaces } from '../../src/local/spaces.js';
import { abortIncompleteUploadsRuleId, configureBucket, createBucketStorage, readBucketState } from '../../src/storage/bucket-setup.js';
import { createStorage, type Storage } from '../../src/storage/spaces.js';

const origins = ['https://sluice.example.com', 'https://uploads.example.org'];
const theirRule: LifecycleRule = { ID: 'expire-exports', Status: 'Enabled', Filter: { Prefix: 'exports/' }, Expiration: { Days: 30 } };

let directory: string;
let spaces: LocalSpaces;
let storage: Storage;
let config: SpacesConfig;

beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sluice-bucket-'));
  spaces = await startLocalSpaces({ directory, bucket: 'sluice-bucket-test', allowedOrigins: [] });
  config = { endpoint: spaces.endpoint, region: spaces.region, bucket: spaces.bucket, accessKeyId: spaces.accessKeyId, secretAccessKey: spaces.secretAccessKey, forcePathStyle: true };
  storage = createBucketStorage(config);
});
afterAll(async () => {
  storage?.client.destroy();
  await spaces?.stop();
  if (directory) rmSync(directory, { recursive: true, force: true });
});
beforeEach(async () => {
  await storage.client.send(new DeleteBucketLifecycleCommand({ Bucket: spaces.bucket }));
});

describe('configureBucket', () => {
  it('makes the bucket private, sets CORS and the abort rule, keeps other rules, and changes nothing the second time', async () => {
    await storage.client.send(new PutBucketAclCommand({ Bucket: spaces.bucket, ACL: 'public-read' }));
    await storage.client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: spaces.bucket, LifecycleConfiguration: { Rules: [theirRule] } }));

    expect(await configureBucket(storage, { allowedOrigins: origins })).toEqual({ acl: 'updated', cors: 'updated', lifecycle: 'updated', otherLifecycleRules: 1 });

    const acl = await storage.client.send(new GetBucketAclCommand({ Bucket: spaces.bucket }));
    expect(acl.Grants).toEqual([expect.objectContaining({ Permission: 'FULL_CONTROL', Grantee: expect.objectContaining({ Type: 'CanonicalUser' }) })]);
    const cors = await storage.client.send(new GetBucketCorsCommand({ Bucket: spaces.bucket }));
    expect(cors.CORSRules).toEqual([
      { AllowedOrigins: origins, AllowedMethods: ['PUT', 'GET', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: corsMaxAgeSeconds },
    ]);
    const lifecycle = await storage.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: spaces.bucket }));
    expect(lifecycle.Rules).toEqual([
      theirRule,
      { ID: abortIncompleteUploadsRuleId, Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);

    expect(await configureBucket(storage, { allowedOrigins: origins })).toEqual({ acl: 'unchanged', cors: 'unchanged', lifecycle: 'unchanged', otherLifecycleRules: 1 });
    expect((await storage.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: spaces.bucket }))).Rules).toHaveLength(2);
  });

  it('replaces the CORS rule when ALLOWED_ORIGINS changes, so removed origins lose access', async () => {
    await configureBucket(storage, { allowedOrigins: origins });
    expect(await configureBucket(storage, { allowedOrigins: ['https://sluice.example.com'] })).toMatchObject({ cors: 'updated', lifecycle: 'unchanged' });
    expect((await readBucketState(storage)).cors.map((rule) => rule.AllowedOrigins)).toEqual([['https://sluice.example.com']]);
  });

  it('writes its rule in the legacy Prefix form when the other rules use it (S3 refuses a mix)', async () => {
    const legacy: LifecycleRule = { ID: 'expire-logs', Status: 'Enabled', Prefix: 'logs/', Expiration: { Days: 7 } };
    await storage.client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: spaces.bucket, LifecycleConfiguration: { Rules: [legacy] } }));
    await configureBucket(storage, { allowedOrigins: origins });
    const state = await readBucketState(storage);
    expect(state.lifecycle).toEqual([legacy, { ID: abortIncompleteUploadsRuleId, Status: 'Enabled', Prefix: '', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
    expect((await configureBucket(storage, { allowedOrigins: origins })).lifecycle).toBe('unchanged');
  });

  it('refuses to set up a bucket no browser could upload to', async () => {
    await expect(configureBucket(storage, { allowedOrigins: [] })).rejects.toThrow(/at least one origin/);
  });
});

describe('the local S3 server, on lifecycle rules and bucket ACLs', () => {
  /**
   * A lifecycle PUT with the body and Content-MD5 a test chooses, signed by a plain client (the
   * bucket client would add the right Content-MD5 itself).
   */
  async function putLifecycleXml(xml: string, md5: string | null = createHash('md5').update(xml).digest('base64')): Promise<string> {
    const plain = createStorage(config);
    const command = new PutBucketLifecycleConfigurationCommand({ Bucket: spaces.bucket, LifecycleConfiguration: { Rules: [] } });
    command.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { path: string; body?: unknown; headers: Record<string, string> };
        request.path = request.path.replace(/\/$/, '');
        request.body = xml;
        request.headers['content-length'] = String(Buffer.byteLength(xml));
        if (md5 !== null) request.headers['content-md5'] = md5;
        return next(args);
      },
      { step: 'build', name: 'testLifecycleBody' },
    );
    try {
      await plain.client.send(command);
      return 'accepted';
    } catch (error) {
      return error instanceof Error ? error.name : String(error);
    } finally {
      plain.client.destroy();
    }
  }

  const rule = (inner: string) => `<LifecycleConfiguration><Rule>${inner}</Rule></LifecycleConfiguration>`;
  const abortAfterOneDay = '<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>';

  it('answers NoSuchLifecycleConfiguration for a bucket without rules', async () => {
    await expect(storage.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: spaces.bucket }))).rejects.toMatchObject({ name: 'NoSuchLifecycleConfiguration' });
  });

  it('takes a configuration only with a Content-MD5 that matches it', async () => {
    const xml = rule(`<ID>a</ID><Status>Enabled</Status><Filter><Prefix></Prefix></Filter>${abortAfterOneDay}`);
    expect(await putLifecycleXml(xml, null)).toBe('InvalidRequest');
    expect(await putLifecycleXml(xml, createHash('md5').update('something else').digest('base64'))).toBe('BadDigest');
    expect(await putLifecycleXml(xml, 'not-base64')).toBe('InvalidDigest');
    expect(await putLifecycleXml(xml)).toBe('accepted');
  });

  it('refuses what S3 refuses and what Spaces does not support', async () => {
    const cases: [string, string][] = [
      ['not xml <', 'MalformedXML'],
      [rule(`<Status>On</Status><Prefix></Prefix>${abortAfterOneDay}`), 'MalformedXML'],
      [rule(`<Status>Enabled</Status>${abortAfterOneDay}`), 'MalformedXML'],
      [rule(`<Status>Enabled</Status><Prefix></Prefix><Filter><Prefix></Prefix></Filter>${abortAfterOneDay}`), 'MalformedXML'],
      [rule('<Status>Enabled</Status><Prefix></Prefix>'), 'InvalidRequest'],
      [rule('<Status>Enabled</Status><Prefix></Prefix><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>'), 'MalformedXML'],
      [rule(`<Status>Enabled</Status><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>${abortAfterOneDay}`), 'NotImplemented'],
      [rule('<Status>Enabled</Status><Prefix></Prefix><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>'), 'NotImplemented'],
      [
        `<LifecycleConfiguration><Rule><ID>x</ID><Status>Enabled</Status><Prefix></Prefix>${abortAfterOneDay}</Rule><Rule><ID>x</ID><Status>Enabled</Status><Prefix>a/</Prefix>${abortAfterOneDay}</Rule></LifecycleConfiguration>`,
        'InvalidArgument',
      ],
      [
        `<LifecycleConfiguration><Rule><Status>Enabled</Status><Prefix></Prefix>${abortAfterOneDay}</Rule><Rule><Status>Enabled</Status><Filter><Prefix>a/</Prefix></Filter>${abortAfterOneDay}</Rule></LifecycleConfiguration>`,
        'MalformedXML',
      ],
    ];
    for (const [xml, expected] of cases) expect([xml, await putLifecycleXml(xml)]).toEqual([xml, expected]);
    await expect(storage.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: spaces.bucket }))).rejects.toMatchObject({ name: 'NoSuchLifecycleConfiguration' });
  });

  it('takes the canned private and public-read ACLs only, and reports the one set', async () => {
    await storage.client.send(new PutBucketAclCommand({ Bucket: spaces.bucket, ACL: 'public-read' }));
    const publicGrants = (await storage.client.send(new GetBucketAclCommand({ Bucket: spaces.bucket }))).Grants ?? [];
    expect(publicGrants.map((grant) => [grant.Grantee?.Type, grant.Permission])).toEqual([
      ['CanonicalUser', 'FULL_CONTROL'],
      ['Group', 'READ'],
    ]);
    await expect(storage.client.send(new PutBucketAclCommand({ Bucket: spaces.bucket, ACL: 'authenticated-read' }))).rejects.toMatchObject({ name: 'InvalidArgument' });
    await expect(storage.client.send(new PutBucketAclCommand({ Bucket: spaces.bucket, GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' }))).rejects.toMatchObject({
      name: 'NotImplemented',
    });
    await storage.client.send(new PutBucketAclCommand({ Bucket: spaces.bucket, ACL: 'private' }));
    expect((await readBucketState(storage)).private).toBe(true);
  });

  it('answers lifecycle and ACL requests only when they are signed by the account', async () => {
    const intruder = createBucketStorage({ ...config, secretAccessKey: 'not-the-secret' });
    try {
      await expect(intruder.client.send(new GetBucketAclCommand({ Bucket: spaces.bucket }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
      await expect(intruder.client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: spaces.bucket, LifecycleConfiguration: { Rules: [theirRule] } }))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
      });
    } finally {
      intruder.client.destroy();
    }
  });
});
