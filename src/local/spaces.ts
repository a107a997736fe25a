// Local stand-in for DigitalOcean Spaces: @20minutes/s3rver, which verifies SigV4 signatures,
// signed headers and presigned-URL expiry, and does per-bucket CORS and multipart
// (docs/local-platform.md). It lacks ListParts and AbortMultipartUpload and does not
// check that an upload exists or that the parts listed to complete it were uploaded; both are
// added below, behind s3rver's own request pipeline. So are bucket lifecycle configurations and
// canned bucket ACLs (`npm run setup:bucket` sets both), which it answers 501 NotImplemented.
// Two behaviours are made Spaces' own: objects and parts appear whole or not at all (s3rver writes
// them in place), and GET/HEAD honour If-Match (s3rver ignores it).
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from '@20minutes/s3rver';
import accountModule from '@20minutes/s3rver/lib/models/account.js';
import S3Error from '@20minutes/s3rver/lib/models/error.js';
import FilesystemStore from '@20minutes/s3rver/lib/stores/filesystem.js';
// The XML parser s3rver itself depends on (and so always installed with it).
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import * as z from 'zod';

export interface LocalSpaces {
  /** http://127.0.0.1:<port>; use path-style addressing (forcePathStyle). */
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/** One HTTP request the server answered, reported when its response is over. */
export interface LocalSpacesRequest {
  method: string;
  /** Path and query as sent, e.g. `/bucket/uploads/x?partNumber=2&uploadId=…&X-Amz-…`. */
  url: string;
  status: number;
}

export interface LocalSpacesOptions {
  directory: string;
  /** 0 or omitted: a free port. */
  port?: number;
  bucket: string;
  /** Origins allowed by the bucket's CORS rule (what ALLOWED_ORIGINS lists). */
  allowedOrigins: string[];
  log?: (line: string) => void;
  /** Sees every request, e.g. for a test that counts the part PUTs a browser made. */
  onRequest?: (request: LocalSpacesRequest) => void;
}

// The SDK needs some region to sign with; Spaces ignores it (the endpoint names the region).
const region = 'us-east-1';
// How long a browser may cache a preflight answer.
const corsMaxAgeSeconds = 3000;
// Browser uploads use PUT (single and parts), POST (create/complete multipart), DELETE (abort);
// the page reads ETag from every part's response to complete a multipart upload (docs/platform-facts.md).
const corsAllowedMethods = ['GET', 'PUT', 'POST', 'HEAD', 'DELETE'];
const corsExposedHeaders = ['ETag'];

// S3 bucket naming rules, which Spaces follows.
const bucketSchema = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name of 3-63 lower-case letters, digits, dots or hyphens');
const originSchema = z.string().regex(/^(\*|https?:\/\/[^\s/<>&]+)$/, 'an origin such as https://example.com or *');

export async function startLocalSpaces(options: LocalSpacesOptions): Promise<LocalSpaces> {
  const log = options.log ?? (() => undefined);
  const bucket = bucketSchema.parse(options.bucket);
  const allowedOrigins = z.array(originSchema).parse(options.allowedOrigins);
  await fs.mkdir(options.directory, { recursive: true });

  // s3rver knows one account; its well-known key (S3RVER/S3RVER) would let anyone in, so the
  // account gets a fresh key pair per start and the well-known one is revoked.
  const accessKeyId = `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  accountModule.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  accountModule.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

  const s3 = new S3rver({
    directory: options.directory,
    silent: true,
    // Path-style only: 127.0.0.1 can carry no bucket subdomain.
    vhostBuckets: false,
    // Creates the bucket if needed and (re)applies CORS at every start, so a changed
    // ALLOWED_ORIGINS takes effect on a persistent store.
    configureBuckets: [{ name: bucket, configs: allowedOrigins.length > 0 ? [corsConfigurationXml(allowedOrigins)] : [] }],
  });
  const store = new UploadCheckingStore(options.directory);
  s3.store = s3.context.store = store;
  serveListPartsAndAbort(s3, store);
  serveBucketLifecycleAndAcl(s3, store);
  honourIfMatch(s3);
  s3.on('error', (error) => {
    // 4xx answers (bad signature, missing key, ...) are normal S3 behaviour, not server faults.
    if ((error.status ?? 500) >= 500) log(`spaces: ${error.stack ?? error.message}`);
  });
  await s3.configureBuckets();
  if (allowedOrigins.length === 0) await s3.store.deleteSubresource(bucket, undefined, 'cors');

  const handle = s3.callback();
  const server = http.createServer((request, response) => {
    if (options.onRequest) {
      const seen = { method: request.method ?? '', url: request.url ?? '' };
      const report = options.onRequest;
      response.once('close', () => report({ ...seen, status: response.statusCode }));
    }
    // s3rver serves unsigned requests as if the bucket were public; a Spaces bucket for uploads
    // is private, so only CORS preflights (which browsers never sign) pass unsigned.
    if (request.method !== 'OPTIONS' && !isSigned(request)) {
      denyUnsigned(response);
      return;
    }
    handle(request, response);
  });
  // A single PUT may carry up to 5 GB (docs/platform-facts.md); Node's default 5-minute request
  // timeout would cut slow large uploads short, which Spaces does not.
  server.requestTimeout = 0;
  const port = await listen(server, options.port ?? 0);
  const endpoint = `http://127.0.0.1:${port}`;
  log(`spaces: bucket "${bucket}" at ${endpoint} (files in ${options.directory})`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive sockets and half-finished uploads must not hold the shutdown open.
      server.closeAllConnections();
      await closed;
      s3.logger.close();
      accountModule.DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
    })();
    return stopping;
  };

  return { endpoint, region, bucket, accessKeyId, secretAccessKey, stop };
}

// S3's limits on part numbers and on the parts one ListParts page lists.
const maxPartNumber = 10_000;
const maxListedParts = 1_000;
const s3XmlNamespace = 'http://s3.amazonaws.com/doc/2006-03-01/';
// s3rver names uploads with 16 random bytes in hex; anything else cannot be one, and must never
// reach path.join (an id like `../..` would point outside the upload directory).
const uploadIdPattern = /^[0-9a-f]{32}$/;

const decimalSchema = z.string().regex(/^\d{1,9}$/).transform(Number);
const partNumberSchema = decimalSchema.pipe(z.number().int().min(1).max(maxPartNumber));
// S3 lists at most 1000 parts a page whatever max-parts asks for.
const listPartsQuerySchema = z.object({
  'max-parts': decimalSchema.transform((count) => Math.min(count, maxListedParts)).default(maxListedParts),
  'part-number-marker': decimalSchema.default(0),
});

interface StoredPart {
  number: number;
  /** Hex MD5 of the part, which is its ETag without quotes. */
  md5: string;
  size: number;
  lastModified: Date;
}

function isMissingFile(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

function noSuchUpload(uploadId: string): S3Error {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
}

/** A write still arriving: beside the file it will replace, named so s3rver lists it neither as an object nor as a part. */
const receivingSuffix = '.receiving';

/**
 * s3rver's store, with the upload checks S3 (and Spaces) make: parts can only be added to an
 * upload that exists, and completing needs the upload and, in ascending order, parts uploaded with
 * exactly the ETags listed. On disk an upload is `<bucket>/._S3rver_uploads/<uploadId>/` holding
 * `key`, `metadata`, and per part `<n>` (the bytes) and `<n>.md5` (written once the bytes are).
 *
 * Writes are whole or nothing, as on Spaces (an object is readable only once its upload has
 * completed; S3 API reference, PutObject: "Amazon S3 never adds partial objects"): the bytes arrive
 * in a temporary file beside their place and are renamed into it (atomic within a filesystem)
 * only when all are in, together with the ETag and metadata, while reads of that object wait. A
 * PUT cut off leaves nothing; a replacing PUT leaves the previous object readable, whole, until it
 * completes. s3rver writes in place, so a HEAD during a slow PUT saw a partial object.
 */
class UploadCheckingStore extends FilesystemStore {
  /** Per file, the tail of the short critical sections queued on it: publishing a write, opening a read. */
  private readonly turns = new Map<string, Promise<void>>();

  override async putObject(object: FilesystemStore.ObjectToStore): Promise<{ size: number; md5: string }> {
    const file = this.getResourcePath(object.bucket, object.key, 'object');
    await fs.mkdir(path.dirname(file), { recursive: true });
    const received = await receive(file, object.content);
    try {
      await this.inTurn(file, async () => {
        await fs.rename(received.temporary, file);
        // The ETag and type change with the bytes, before any read of this object may look.
        await this.putMetadata(object.bucket, object.key, object.metadata, received.md5);
      });
    } finally {
      await fs.rm(received.temporary, { force: true });
    }
    return { size: received.size, md5: received.md5 };
  }

  /** GET and HEAD read the metadata and open the bytes in one turn, so they see one version, whole (an open file keeps its bytes). */
  override getObject(bucket: string, key: string, options?: FilesystemStore.ReadOptions): Promise<unknown> {
    return this.inTurn(this.getResourcePath(bucket, key, 'object'), () => super.getObject(bucket, key, options));
  }

  override deleteObject(bucket: string, key: string): Promise<void> {
    return this.inTurn(this.getResourcePath(bucket, key, 'object'), () => super.deleteObject(bucket, key));
  }

  override async putPart(bucket: string, uploadId: string, partNumber: string, content: Readable | Buffer): Promise<{ size: number; md5: string }> {
    if (!partNumberSchema.safeParse(partNumber).success) {
      throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${maxPartNumber}, inclusive`, { ArgumentName: 'partNumber', ArgumentValue: partNumber });
    }
    const file = path.join(await this.uploadDirectory(bucket, uploadId), partNumber);
    const received = await receive(file, content);
    try {
      await this.inTurn(file, async () => {
        // A part without its .md5 is not listed, so a part uploaded again is never listed with the old ETag and the new bytes.
        await fs.rm(`${file}.md5`, { force: true });
        await fs.rename(received.temporary, file);
        await fs.writeFile(`${file}.md5`, received.md5);
      });
    } catch (error) {
      // Aborted meanwhile: the upload's folder is gone.
      if (isMissingFile(error)) throw noSuchUpload(uploadId);
      throw error;
    } finally {
      await fs.rm(received.temporary, { force: true });
    }
    return { size: received.size, md5: received.md5 };
  }

  /** Runs `work` once the sections queued on `file` before it are done. */
  private inTurn<T>(file: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(file) ?? Promise.resolve();
    const current = previous.then(work);
    const done = current.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(file, done);
    void done.then(() => {
      if (this.turns.get(file) === done) this.turns.delete(file);
    });
    return current;
  }

  /**
   * Completes an upload, one completion of it at a time. Completing copies the parts into the
   * object (Spaces stitches them without copying), so a large upload takes seconds here, longer
   * than the storage client waits (src/storage/spaces.ts): its retries and `complete` called again
   * arrive while the first completion runs. Each waits its turn and then finds the upload gone
   * (NoSuchUpload, and `complete` decides by HEAD), instead of checking parts the first is
   * deleting (InvalidPart) or copying them a second time.
   */
  override putObjectMultipart(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ size: number; md5: string }> {
    return this.inTurn(path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId), () => this.completeUpload(bucket, uploadId, parts));
  }

  private async completeUpload(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ size: number; md5: string }> {
    const directory = await this.uploadDirectory(bucket, uploadId);
    let previous = 0;
    for (const part of parts) {
      if (!(part.number > previous)) {
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', { UploadId: uploadId });
      }
      previous = part.number;
      const md5 = await fs.readFile(path.join(directory, `${part.number}.md5`), 'utf8').catch((error: unknown) => {
        if (isMissingFile(error)) return undefined;
        throw error;
      });
      if (md5 !== part.etag) {
        throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part\'s entity tag.', {
          UploadId: uploadId,
          PartNumber: String(part.number),
          ETag: part.etag,
        });
      }
    }
    try {
      return await super.putObjectMultipart(bucket, uploadId, parts);
    } catch (error) {
      // A concurrent complete or abort removed the upload after the checks above.
      if (isMissingFile(error)) throw noSuchUpload(uploadId);
      throw error;
    }
  }

  /** The upload's parts in part-number order; parts whose bytes are still arriving are left out. */
  async listUploadParts(bucket: string, key: string, uploadId: string): Promise<StoredPart[]> {
    const directory = await this.uploadDirectory(bucket, uploadId, key);
    const names = (await fs.readdir(directory)).filter((name) => /^\d+$/.test(name));
    const parts = await Promise.all(
      names.map(async (name): Promise<StoredPart | undefined> => {
        const file = path.join(directory, name);
        try {
          // In the part's turn: a part uploaded again changes its bytes and ETag together.
          const [stat, md5] = await this.inTurn(file, () => Promise.all([fs.stat(file), fs.readFile(`${file}.md5`, 'utf8')]));
          return { number: Number(name), md5, size: stat.size, lastModified: stat.mtime };
        } catch (error) {
          if (isMissingFile(error)) return undefined;
          throw error;
        }
      }),
    );
    return parts.filter((part) => part !== undefined).sort((a, b) => a.number - b.number);
  }

  /** Deletes the upload and every part uploaded to it. */
  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await fs.rm(await this.uploadDirectory(bucket, uploadId, key), { recursive: true, force: true });
  }

  /**
   * The directory of an upload that exists (and, given `key`, was started for that key, as S3
   * requires); NoSuchUpload otherwise, which includes completed and aborted uploads.
   */
  private async uploadDirectory(bucket: string, uploadId: string, key?: string): Promise<string> {
    if (!uploadIdPattern.test(uploadId)) throw noSuchUpload(uploadId);
    const directory = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const startedFor = await fs.readFile(path.join(directory, 'key'), 'utf8').catch((error: unknown) => {
      if (isMissingFile(error)) return undefined;
      throw error;
    });
    if (startedFor === undefined || (key !== undefined && startedFor !== key)) throw noSuchUpload(uploadId);
    return directory;
  }
}

/** Writes `content` to a new temporary file beside `file`; removes it if the bytes stop coming (a PUT cut off). */
async function receive(file: string, content: Readable | Buffer): Promise<{ temporary: string; size: number; md5: string }> {
  const temporary = `${file}.${randomBytes(8).toString('hex')}${receivingSuffix}`;
  const md5 = createHash('md5');
  let size = 0;
  try {
    await pipeline(
      Buffer.isBuffer(content) ? Readable.from([content]) : content,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          md5.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(temporary, { flags: 'wx' }),
    );
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  return { temporary, size, md5: md5.digest('hex') };
}

/**
 * GET and HEAD of an object honour If-Match, as S3 and Spaces do (S3 API reference, GetObject and
 * HeadObject: "If-Match … otherwise, return a 412 (precondition failed) error"): process/file pins
 * its reads to the ETag `complete` checked. A list of entity tags or `*` is understood; tags are
 * compared strongly, quotes included (RFC 9110 §13.1.1). Whether Spaces also takes a tag without
 * its quotes is not documented, so here it does not match. s3rver ignores the header, so the check
 * wraps its router and judges the answer it prepared (the object's own ETag), before anything is
 * sent. One order differs from S3: a Range past the end still answers 416 first.
 */
function honourIfMatch(s3: S3rver): void {
  const routerIndex = s3.middleware.length - 1;
  if (s3.middleware[routerIndex]?.router === undefined) {
    throw new Error('@20minutes/s3rver no longer ends its middleware with its router; check src/local/spaces.ts against this version');
  }
  const extension: S3rver.Middleware = async (ctx, next) => {
    await next();
    const condition = ctx.get('If-Match');
    if (condition === '' || (ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.params?.key === undefined) return;
    if (ctx.status !== 200 && ctx.status !== 206) return;
    const etag = ctx.response.get('ETag');
    const tags = condition.split(',').map((tag) => tag.trim());
    if (tags.some((tag) => tag === '*' || tag === etag)) return;
    if (ctx.body instanceof Readable) ctx.body.destroy();
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  };
  s3.middleware.splice(routerIndex, 0, extension);
}

/**
 * Serves ListParts (`GET /bucket/key?uploadId=`) and AbortMultipartUpload (`DELETE …?uploadId=`),
 * which s3rver routes to 405 MethodNotAllowed. It throws that refusal only at the end of its
 * router's chain, after CORS, signature verification (header or presigned query: signature,
 * signed headers, expiry) and the bucket check have all passed. So the extension wraps the router
 * and answers only that refusal: every request still goes through s3rver's own authentication,
 * and a failed check keeps its own S3 error (403 SignatureDoesNotMatch, AccessDenied, ...).
 */
function serveListPartsAndAbort(s3: S3rver, store: UploadCheckingStore): void {
  const routerIndex = s3.middleware.length - 1;
  if (s3.middleware[routerIndex]?.router === undefined) {
    throw new Error('@20minutes/s3rver no longer ends its middleware with its router; check src/local/spaces.ts against this version');
  }
  const extension: S3rver.Middleware = async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const call = refusedUploadCall(ctx, error);
      if (call === undefined) throw error;
      // s3rver treats unsigned requests as public; the HTTP server in front refuses them already,
      // and these two must not depend on that.
      if (ctx.state.account === undefined) throw new S3Error('AccessDenied', 'Access Denied');
      if (ctx.method === 'GET') {
        ctx.body = listPartsResult(call, await store.listUploadParts(call.bucket, call.key, call.uploadId), ctx.query);
      } else {
        await store.abortUpload(call.bucket, call.key, call.uploadId);
        ctx.status = 204;
      }
    }
  };
  // Inside the XML middleware (which renders a plain-object body), outside the router.
  s3.middleware.splice(routerIndex, 0, extension);
}

interface UploadCall {
  bucket: string;
  key: string;
  uploadId: string;
}

/** The upload a GET or DELETE with `uploadId` named, if that is what s3rver just refused. */
function refusedUploadCall(ctx: S3rver.Context, error: unknown): UploadCall | undefined {
  if (!(error instanceof S3Error) || error.code !== 'MethodNotAllowed') return undefined;
  if (ctx.method !== 'GET' && ctx.method !== 'DELETE') return undefined;
  const bucket = ctx.params?.bucket;
  const key = ctx.params?.key;
  const uploadId = ctx.query.uploadId;
  if (bucket === undefined || key === undefined || typeof uploadId !== 'string') return undefined;
  return { bucket, key, uploadId };
}

/** A ListPartsResult document (as s3rver's XML middleware renders plain objects). */
function listPartsResult(call: UploadCall, parts: StoredPart[], query: S3rver.Context['query']): object {
  const parsed = listPartsQuerySchema.safeParse(query);
  if (!parsed.success) {
    const argument = String(parsed.error.issues[0]?.path[0] ?? 'max-parts');
    throw new S3Error('InvalidArgument', `${argument} must be a non-negative integer`, { ArgumentName: argument, ArgumentValue: String(query[argument]) });
  }
  const { 'max-parts': maxParts, 'part-number-marker': marker } = parsed.data;
  const following = parts.filter((part) => part.number > marker);
  const page = following.slice(0, maxParts);
  return {
    ListPartsResult: {
      '@': { xmlns: s3XmlNamespace },
      Bucket: call.bucket,
      Key: call.key,
      UploadId: call.uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.at(-1)?.number ?? marker,
      MaxParts: maxParts,
      IsTruncated: following.length > page.length,
      StorageClass: 'STANDARD',
      Part: page.map((part) => ({
        PartNumber: part.number,
        LastModified: part.lastModified.toISOString(),
        ETag: JSON.stringify(part.md5),
        Size: part.size,
      })),
    },
  };
}

function corsConfigurationXml(allowedOrigins: string[]): string {
  const elements = [
    ...allowedOrigins.map((origin) => `<AllowedOrigin>${escapeXml(origin)}</AllowedOrigin>`),
    ...corsAllowedMethods.map((method) => `<AllowedMethod>${method}</AllowedMethod>`),
    '<AllowedHeader>*</AllowedHeader>',
    ...corsExposedHeaders.map((header) => `<ExposeHeader>${header}</ExposeHeader>`),
    `<MaxAgeSeconds>${corsMaxAgeSeconds}</MaxAgeSeconds>`,
  ];
  return `<CORSConfiguration><CORSRule>${elements.join('')}</CORSRule></CORSConfiguration>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The three ways a request can be signed: header (SigV2/V4), V4 query, V2 query. */
function isSigned(request: http.IncomingMessage): boolean {
  if (request.headers.authorization !== undefined) return true;
  const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
  return query.has('X-Amz-Algorithm') || query.has('Signature');
}

function denyUnsigned(response: http.ServerResponse): void {
  const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
  response.writeHead(403, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('The S3 server has no TCP address'));
      else resolve(address.port);
    });
  });
}

// ---- Bucket lifecycle configuration and canned ACLs -------------------------------------------

/** The S3 limit on rules in one lifecycle configuration, and on a rule ID's length. */
const maxLifecycleRules = 1_000;
const maxLifecycleRuleIdLength = 255;
/** A configuration document is a few KB; anything much larger is not one. */
const maxConfigurationBodyBytes = 64 * 1024;
/** The canned ACLs Spaces takes for a bucket (DigitalOcean docs: Spaces API reference, x-amz-acl). */
const cannedBucketAcls = ['private', 'public-read'] as const;
const allUsersGroupUri = 'http://acs.amazonaws.com/groups/global/AllUsers';
const xmlSchemaInstance = 'http://www.w3.org/2001/XMLSchema-instance';
/** s3rver's one account (lib/models/account.js DUMMY_ACCOUNT), which owns every bucket. */
const bucketOwner = { ID: '123456789000', DisplayName: 'S3rver' };

const lifecycleXmlParser = new XMLParser({
  // Values stay strings, checked below; a number parsed leniently would hide "1.5" or "01".
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  isArray: (name, jpath) => jpath === 'LifecycleConfiguration.Rule',
});

/** Kept as the text it arrived as: stored and answered back as it was given. */
const daysSchema = z.string().regex(/^[1-9]\d{0,8}$/, 'must be a positive integer');
/** An element with text only, or empty (`<Prefix/>` parses as ""). */
const prefixSchema = z.string().max(1024);
const lifecycleRuleSchema = z.strictObject({
  ID: z.string().max(maxLifecycleRuleIdLength).optional(),
  Status: z.enum(['Enabled', 'Disabled']),
  Prefix: prefixSchema.optional(),
  Filter: z.union([z.literal(''), z.strictObject({ Prefix: prefixSchema.optional() })]).optional(),
  Expiration: z
    .strictObject({
      Days: daysSchema.optional(),
      Date: z.string().regex(/^\d{4}-\d{2}-\d{2}T00:00:00(\.000)?Z$/, 'must be midnight UTC in ISO 8601').optional(),
      ExpiredObjectDeleteMarker: z.enum(['true', 'false']).optional(),
    })
    .refine((expiration) => Object.keys(expiration).length === 1, 'Expiration takes exactly one of Days, Date or ExpiredObjectDeleteMarker')
    .optional(),
  AbortIncompleteMultipartUpload: z.strictObject({ DaysAfterInitiation: daysSchema }).optional(),
  NoncurrentVersionExpiration: z.strictObject({ NoncurrentDays: daysSchema }).optional(),
});
type StoredLifecycleRule = z.infer<typeof lifecycleRuleSchema>;
const lifecycleDocumentSchema = z.strictObject({
  LifecycleConfiguration: z.strictObject({ Rule: z.array(lifecycleRuleSchema).min(1).max(maxLifecycleRules) }),
});

function malformedXml(): S3Error {
  return new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
}

/**
 * Serves Put/Get/DeleteBucketLifecycle and Put/GetBucketAcl (canned ACLs), which s3rver answers
 * 501 NotImplemented from inside its router: like serveListPartsAndAbort, only after CORS,
 * signature verification and the bucket check have passed. Strict where Spaces or S3 are:
 * - A lifecycle PUT must carry a Content-MD5 that matches its body (AWS docs:
 *   API_PutBucketLifecycleConfiguration), and be a well-formed configuration: 1–1000 rules, each
 *   with a Status, exactly one of Prefix or Filter (one form for all rules), at least one action,
 *   unique IDs.
 * - Spaces supports expiration and aborting incomplete multipart uploads only; "lifecycle policies
 *   based on object tagging are not supported" (DigitalOcean docs: Spaces API reference). Tag,
 *   And and object-size filters and storage-class transitions are refused (501), as is anything
 *   unknown.
 * - Bucket ACLs: the canned `private` and `public-read` of x-amz-acl, nothing else. The ACL is
 *   stored and reported; the HTTP server in front refuses unsigned requests whatever it says.
 */
function serveBucketLifecycleAndAcl(s3: S3rver, store: UploadCheckingStore): void {
  const routerIndex = s3.middleware.length - 1;
  if (s3.middleware[routerIndex]?.router === undefined) {
    throw new Error('@20minutes/s3rver no longer ends its middleware with its router; check src/local/spaces.ts against this version');
  }
  const extension: S3rver.Middleware = async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const bucket = ctx.params?.bucket;
      const subresource = refusedBucketSubresource(ctx, error);
      if (bucket === undefined || subresource === undefined) throw error;
      if (ctx.state.account === undefined) throw new S3Error('AccessDenied', 'Access Denied');
      const lifecycleFile = store.getResourcePath(bucket, undefined, 'lifecycle.json');
      const aclFile = store.getResourcePath(bucket, undefined, 'acl.json');
      if (subresource === 'lifecycle' && ctx.method === 'PUT') {
        const rules = parseLifecycleConfiguration(await readConfigurationBody(ctx, { md5Required: true }));
        await fs.writeFile(lifecycleFile, JSON.stringify(rules));
        ctx.status = 200;
        ctx.body = '';
      } else if (subresource === 'lifecycle' && ctx.method === 'GET') {
        const stored = await readJsonIfPresent(lifecycleFile);
        if (stored === undefined) {
          throw new S3Error('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', { BucketName: bucket });
        }
        ctx.body = { LifecycleConfiguration: { '@': { xmlns: s3XmlNamespace }, Rule: z.array(lifecycleRuleSchema).parse(stored) } };
      } else if (subresource === 'lifecycle' && ctx.method === 'DELETE') {
        await fs.rm(lifecycleFile, { force: true });
        ctx.status = 204;
      } else if (subresource === 'acl' && ctx.method === 'PUT') {
        const acl = await cannedAclOf(ctx);
        await fs.writeFile(aclFile, JSON.stringify({ acl }));
        ctx.status = 200;
        ctx.body = '';
      } else if (subresource === 'acl' && ctx.method === 'GET') {
        const stored = z.object({ acl: z.enum(cannedBucketAcls) }).optional().parse(await readJsonIfPresent(aclFile));
        // A new bucket is private: only its owner has access.
        ctx.body = accessControlPolicy(stored?.acl ?? 'private');
      } else {
        throw error;
      }
    }
  };
  s3.middleware.splice(routerIndex, 0, extension);
}

/** `lifecycle` or `acl` when that is what s3rver just refused as not implemented, on the bucket itself. */
function refusedBucketSubresource(ctx: S3rver.Context, error: unknown): 'lifecycle' | 'acl' | undefined {
  if (!(error instanceof S3Error) || error.code !== 'NotImplemented') return undefined;
  if (ctx.params?.key !== undefined) return undefined;
  const asked = ['lifecycle', 'acl'].filter((name) => name in ctx.query);
  return asked.length === 1 && (asked[0] === 'lifecycle' || asked[0] === 'acl') ? asked[0] : undefined;
}

/** Koa's Node request behind a context (`ctx.req`), which the extension's types leave out. */
function nodeRequestOf(ctx: S3rver.Context): http.IncomingMessage {
  const request: unknown = Reflect.get(ctx, 'req');
  if (!(request instanceof http.IncomingMessage)) throw new Error('s3rver context without its Node request (ctx.req)');
  return request;
}

async function readConfigurationBody(ctx: S3rver.Context, options: { md5Required: boolean }): Promise<Buffer> {
  const request = nodeRequestOf(ctx);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxConfigurationBodyBytes) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.');
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const md5Header = request.headers['content-md5'];
  if (md5Header === undefined) {
    if (options.md5Required) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
    return body;
  }
  const given = Buffer.from(String(md5Header), 'base64');
  if (given.length !== 16 || given.toString('base64') !== String(md5Header)) {
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  }
  if (!given.equals(createHash('md5').update(body).digest())) {
    throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  return body;
}

function parseLifecycleConfiguration(body: Buffer): StoredLifecycleRule[] {
  const xml = body.toString('utf8');
  if (xml.trim() === '' || XMLValidator.validate(xml) !== true) throw malformedXml();
  const document: unknown = lifecycleXmlParser.parse(xml);
  refuseUnsupportedLifecycleFeatures(document);
  const parsed = lifecycleDocumentSchema.safeParse(document);
  if (!parsed.success) throw malformedXml();
  const rules = parsed.data.LifecycleConfiguration.Rule;
  // S3 takes either form of rule, the legacy rule-level Prefix or a Filter, but not both in one
  // configuration; whether Spaces would is not documented, so neither does this.
  if (rules.some((rule) => rule.Prefix !== undefined) && rules.some((rule) => rule.Filter !== undefined)) throw malformedXml();
  const ids = new Set<string>();
  for (const rule of rules) {
    if ((rule.Prefix === undefined) === (rule.Filter === undefined)) throw malformedXml();
    if (rule.Expiration === undefined && rule.AbortIncompleteMultipartUpload === undefined && rule.NoncurrentVersionExpiration === undefined) {
      throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
    }
    if (rule.ID !== undefined) {
      if (ids.has(rule.ID)) throw new S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule', { ArgumentName: 'ID', ArgumentValue: rule.ID });
      ids.add(rule.ID);
    }
  }
  return rules;
}

/** Features S3 has and Spaces does not (or is not known to): refused rather than stored and ignored. */
function refuseUnsupportedLifecycleFeatures(document: unknown): void {
  const rules = z.object({ LifecycleConfiguration: z.object({ Rule: z.array(z.record(z.string(), z.unknown())) }) }).safeParse(document);
  if (!rules.success) return;
  for (const rule of rules.data.LifecycleConfiguration.Rule) {
    const filter = rule.Filter;
    const filterKeys = typeof filter === 'object' && filter !== null ? Object.keys(filter) : [];
    if (filterKeys.some((key) => key !== 'Prefix')) {
      throw new S3Error('NotImplemented', 'Lifecycle rules filtered by tags or object size are not supported; filter by Prefix only');
    }
    if ('Transition' in rule || 'NoncurrentVersionTransition' in rule) {
      throw new S3Error('NotImplemented', 'Lifecycle transitions between storage classes are not supported');
    }
  }
}

async function cannedAclOf(ctx: S3rver.Context): Promise<(typeof cannedBucketAcls)[number]> {
  const body = await readConfigurationBody(ctx, { md5Required: false });
  const { headers } = nodeRequestOf(ctx);
  const grantHeaders = Object.keys(headers).filter((name) => name.startsWith('x-amz-grant-'));
  if (body.length > 0 || grantHeaders.length > 0) {
    throw new S3Error('NotImplemented', 'Only canned ACLs (x-amz-acl: private or public-read) are supported for buckets');
  }
  const parsed = z.enum(cannedBucketAcls).safeParse(headers['x-amz-acl']);
  if (!parsed.success) {
    throw new S3Error('InvalidArgument', 'A bucket ACL must be x-amz-acl: private or public-read', { ArgumentName: 'x-amz-acl', ArgumentValue: String(headers['x-amz-acl']) });
  }
  return parsed.data;
}

/** The AccessControlPolicy document S3 answers for a canned ACL (as s3rver's XML middleware renders plain objects). */
function accessControlPolicy(acl: (typeof cannedBucketAcls)[number]): object {
  const owner = bucketOwner;
  const grants: object[] = [
    { Grantee: { '@': { 'xmlns:xsi': xmlSchemaInstance, 'xsi:type': 'CanonicalUser' }, ...owner }, Permission: 'FULL_CONTROL' },
  ];
  if (acl === 'public-read') grants.push({ Grantee: { '@': { 'xmlns:xsi': xmlSchemaInstance, 'xsi:type': 'Group' }, URI: allUsersGroupUri }, Permission: 'READ' });
  return { AccessControlPolicy: { '@': { xmlns: s3XmlNamespace }, Owner: owner, AccessControlList: { Grant: grants } } };
}

async function readJsonIfPresent(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  } catch (error) {
    if (isMissingFile(error)) return undefined;
    throw error;
  }
}
