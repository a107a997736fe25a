// `npm run migrate`: applies src/db/migrations to DATABASE_URL (shell environment, else the root
// .env, as doctl reads it), e.g. against Managed PostgreSQL before `npm run deploy`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadDatabaseConfig } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { readEnvFile } from '../src/local/project.js';

const rootDir = fileURLToPath(new URL('..', import.meta.url));

try {
  const env = { ...readEnvFile(path.join(rootDir, '.env')), ...process.env };
  const database = loadDatabaseConfig(env);
  const applied = await migrate(database.url, { caCert: database.caCert });
  const target = new URL(database.url);
  console.log(
    applied.length > 0
      ? `Applied ${applied.length} migration(s) to ${target.host}${target.pathname}: ${applied.join(', ')}`
      : `${target.host}${target.pathname} is up to date`,
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`npm run migrate: ${error.message}`);
  process.exitCode = 1;
}
