// Types for the parts of @20minutes/s3rver (untyped CommonJS) that src/local/spaces.ts uses.
declare module '@20minutes/s3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type FilesystemStore from '@20minutes/s3rver/lib/stores/filesystem.js';

  interface S3rverBucketConfig {
    name: string;
    /** CORSConfiguration or WebsiteConfiguration XML documents. */
    configs?: string[];
  }

  interface S3rverOptions {
    directory: string;
    silent?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: S3rverBucketConfig[];
  }

  class S3rver {
    constructor(options: S3rverOptions);
    /** Both are the same store; the app's and every request context's. */
    store: FilesystemStore;
    readonly context: { store: FilesystemStore };
    /** Koa's middleware list, composed when `callback()` is called. */
    readonly middleware: S3rver.Middleware[];
    readonly logger: { close(): void };
    configureBuckets(): Promise<void>;
    /** Koa's request handler. */
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    on(event: 'error', listener: (error: Error & { status?: number }) => void): this;
  }

  namespace S3rver {
    /** The few fields of a Koa context that the extension in spaces.ts reads or sets. */
    interface Context {
      readonly method: string;
      readonly query: Readonly<Record<string, string | string[] | undefined>>;
      /** Set by s3rver's router: the bucket and the (decoded) key the signature was checked for. */
      readonly params?: Readonly<Record<string, string | undefined>>;
      /** `account` is set by s3rver's authentication middleware once a signature has verified. */
      readonly state: { readonly account?: unknown };
      status: number;
      /** A plain object is turned into an XML document by s3rver's own middleware. */
      body: unknown;
      /** A request header ('' when absent). */
      get(field: string): string;
      /** The answer prepared so far: a header of it ('' when absent). */
      readonly response: { get(field: string): string };
    }

    type Middleware = ((ctx: Context, next: () => Promise<void>) => Promise<void>) & {
      /** Present on @koa/router's dispatch middleware. */
      readonly router?: unknown;
    };
  }

  export = S3rver;
}

declare module '@20minutes/s3rver/lib/stores/filesystem.js' {
  import type { Readable } from 'node:stream';

  namespace FilesystemStore {
    /** What s3rver's controllers hand to putObject (lib/models/object.js S3Object). */
    interface ObjectToStore {
      bucket: string;
      key: string;
      content: Readable | Buffer;
      metadata: Record<string, string>;
    }
    /** A byte range (GET with Range). */
    interface ReadOptions {
      start?: number;
      end?: number;
    }
  }

  class FilesystemStore {
    constructor(rootDirectory: string);
    putObject(object: FilesystemStore.ObjectToStore): Promise<{ size: number; md5: string }>;
    /** An S3Object with an open `content` stream, or null when there is no such object. */
    getObject(bucket: string, key: string, options?: FilesystemStore.ReadOptions): Promise<unknown>;
    deleteObject(bucket: string, key: string): Promise<void>;
    /** Writes `<object>.md5` (when given, hex without quotes) and the metadata file. */
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
    /** `<root>/<bucket>/<key dirs>/<last key segment>._S3rver_<resource>` */
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    deleteSubresource(bucket: string, key: string | undefined, resourceType: 'cors' | 'website'): Promise<void>;
    /** `partNumber` is the raw query value. */
    putPart(bucket: string, uploadId: string, partNumber: string, content: Readable | Buffer): Promise<{ size: number; md5: string }>;
    /** `etag` without quotes. */
    putObjectMultipart(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ size: number; md5: string }>;
  }

  export = FilesystemStore;
}

declare module '@20minutes/s3rver/lib/models/error.js' {
  /** Rendered by s3rver as an S3 `<Error>` document with the code's HTTP status. */
  class S3Error extends Error {
    constructor(code: string, message?: string, detail?: Record<string, string>);
    readonly code: string;
    readonly status: number;
  }

  export = S3Error;
}

declare module '@20minutes/s3rver/lib/models/account.js' {
  interface AWSAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
  }
  const accountModule: { DUMMY_ACCOUNT: AWSAccount };
  export = accountModule;
}
