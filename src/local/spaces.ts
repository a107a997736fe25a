// Local stand-in for DigitalOcean Spaces: @20minutes/s3rver, which verifies SigV4 signatures,
// signed headers and presigned-URL expiry, and does per-bucket CORS and multipart
// (PLATFORM-FACTS "Local stand-ins"). It lacks ListParts and AbortMultipartUpload and does not
// check that an upload exists or that the parts listed to complete it were uploaded; both are
// added below, behind s3rver's own request pipeline.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import S3rver from '@20minutes/s3rver';
import accountModule from '@20minutes/s3rver/lib/models/account.js';
import S3Error from '@20minutes/s3rver/lib/models/error.js';
import FilesystemStore from '@20minutes/s3rver/lib/stores/filesystem.js';
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
// the page reads ETag from every part's response to complete a multipart upload (PLATFORM-FACTS).
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
  // A single PUT may carry up to 5 GB (PLATFORM-FACTS); Node's default 5-minute request
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

/**
 * s3rver's store, with the upload checks S3 (and Spaces) make: parts can only be added to an
 * upload that exists, and completing needs the upload and, in ascending order, parts uploaded with
 * exactly the ETags listed. On disk an upload is `<bucket>/._S3rver_uploads/<uploadId>/` holding
 * `key`, `metadata`, and per part `<n>` (the bytes) and `<n>.md5` (written once the bytes are).
 */
class UploadCheckingStore extends FilesystemStore {
  override async putPart(bucket: string, uploadId: string, partNumber: string, content: Readable | Buffer): Promise<{ size: number; md5: string }> {
    if (!partNumberSchema.safeParse(partNumber).success) {
      throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${maxPartNumber}, inclusive`, { ArgumentName: 'partNumber', ArgumentValue: partNumber });
    }
    await this.uploadDirectory(bucket, uploadId);
    return super.putPart(bucket, uploadId, partNumber, content);
  }

  override async putObjectMultipart(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ size: number; md5: string }> {
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
          const [stat, md5] = await Promise.all([fs.stat(file), fs.readFile(`${file}.md5`, 'utf8')]);
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
