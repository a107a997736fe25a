// Local stand-in for DigitalOcean Spaces: @20minutes/s3rver, which verifies SigV4 signatures,
// signed headers and presigned-URL expiry, and does per-bucket CORS and multipart
// (PLATFORM-FACTS "Local stand-ins").
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import S3rver from '@20minutes/s3rver';
import accountModule from '@20minutes/s3rver/lib/models/account.js';
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
