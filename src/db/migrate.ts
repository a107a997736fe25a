// Schema migrations: `src/db/migrations/NNNN_name.sql`, applied in numeric order, each once, each
// in its own transaction, recorded in `schema_migrations`. `npm run migrate` runs them before a
// deploy; the local platform runs them at start.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSql } from './client.js';

export interface MigrateOptions {
  /** Folder of NNNN_name.sql files; default src/db/migrations beside this module. */
  directory?: string;
  /** PEM of the cluster's CA (DATABASE_CA_CERT): TLS is then verified against it. */
  caCert?: string;
}

interface Migration {
  /** File name without `.sql`, e.g. `0001_jobs`: what schema_migrations records. */
  name: string;
  number: number;
  file: string;
}

export const defaultMigrationsDirectory = fileURLToPath(new URL('./migrations/', import.meta.url));

// Any constant works as long as nothing else in the database uses it: "slui" in ASCII.
const migrationLockKey = 0x736c7569;
const migrationFilePattern = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** Applies the migrations not yet recorded; returns the names applied by this call. */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  const migrations = await readMigrations(options.directory ?? defaultMigrationsDirectory);
  // No query deadline: a migration may rebuild an index for minutes, and a second deploy's
  // migrate waits for the first one's lock on purpose.
  const sql = createSql({ url: databaseUrl, caCert: options.caCert }, { max: 1, queryTimeoutMs: false });
  try {
    // Transaction-scoped advisory locks serialise concurrent callers (two deploys, the dev
    // platform and a test) and, unlike session locks, also hold through PgBouncer's transaction
    // pooling (docs/platform-facts.md "Managed PostgreSQL").
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${migrationLockKey}::bigint)`;
      await tx`
        create table if not exists schema_migrations (
          name       text        primary key,
          applied_at timestamptz not null default now()
        )`;
    });
    const appliedNow: string[] = [];
    for (const migration of migrations) {
      const source = await fs.readFile(migration.file, 'utf8');
      const applied = await sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(${migrationLockKey}::bigint)`;
        const recorded = await tx`select 1 from schema_migrations where name = ${migration.name}`;
        if (recorded.length > 0) return false;
        // No parameters: postgres.js sends it as a simple query, so a file may hold many statements.
        await tx.unsafe(source);
        await tx`insert into schema_migrations (name) values (${migration.name})`;
        return true;
      });
      if (applied) appliedNow.push(migration.name);
    }
    return appliedNow;
  } finally {
    await sql.end();
  }
}

async function readMigrations(directory: string): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const entry of await fs.readdir(directory)) {
    if (!entry.endsWith('.sql')) continue;
    const match = migrationFilePattern.exec(entry);
    if (!match?.[1]) {
      throw new Error(`Migration file ${entry} in ${directory} is not named NNNN_name.sql (lower-case name)`);
    }
    migrations.push({ name: entry.slice(0, -'.sql'.length), number: Number(match[1]), file: path.join(directory, entry) });
  }
  migrations.sort((a, b) => a.number - b.number);
  for (let i = 1; i < migrations.length; i += 1) {
    const previous = migrations[i - 1];
    const current = migrations[i];
    if (previous && current && previous.number === current.number) {
      throw new Error(`Migrations ${previous.name} and ${current.name} share the number ${current.number}`);
    }
  }
  return migrations;
}
