// Types for the parts of @20minutes/s3rver (untyped CommonJS) that src/local/spaces.ts uses.
declare module '@20minutes/s3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

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

  interface S3rverStore {
    deleteSubresource(bucket: string, key: string | undefined, resourceType: 'cors' | 'website'): Promise<void>;
  }

  class S3rver {
    constructor(options: S3rverOptions);
    readonly store: S3rverStore;
    readonly logger: { close(): void };
    configureBuckets(): Promise<void>;
    /** Koa's request handler. */
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    on(event: 'error', listener: (error: Error & { status?: number }) => void): this;
  }

  export = S3rver;
}

declare module '@20minutes/s3rver/lib/models/account.js' {
  interface AWSAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
  }
  const accountModule: { DUMMY_ACCOUNT: AWSAccount };
  export = accountModule;
}
