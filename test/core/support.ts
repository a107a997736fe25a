// Real services for the core tests: a PostgreSQL 17 server with the project's migrations, and the
// local S3 server. Each test file starts its own and stops it in afterAll.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSql, type Sql } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { startLocalPostgres } from '../../src/local/postgres.js';
import { startLocalSpaces } from '../../src/local/spaces.js';
import { createStorage, type Storage } from '../../src/storage/spaces.js';

export interface CoreServices {
  db: Sql;
  databaseUrl: string;
  storage?: Storage;
  stop(): Promise<void>;
}

export async function startCoreServices(options: { spaces?: boolean } = {}): Promise<CoreServices> {
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-core-'));
  const postgres = await startLocalPostgres({ dataDir: path.join(workDir, 'pg'), persistent: false });
  await migrate(postgres.url);
  const db = createSql({ url: postgres.url, caCert: undefined }, { max: 4 });
  const spaces = options.spaces
    ? await startLocalSpaces({ directory: path.join(workDir, 's3'), bucket: 'sluice-core', allowedOrigins: [] })
    : undefined;
  return {
    db,
    databaseUrl: postgres.url,
    ...(spaces
      ? {
          storage: createStorage({
            endpoint: spaces.endpoint,
            region: spaces.region,
            bucket: spaces.bucket,
            accessKeyId: spaces.accessKeyId,
            secretAccessKey: spaces.secretAccessKey,
            forcePathStyle: true,
          }),
        }
      : {}),
    async stop() {
      await db.end();
      await spaces?.stop();
      await postgres.stop();
      await fs.rm(workDir, { recursive: true, force: true });
    },
  };
}
