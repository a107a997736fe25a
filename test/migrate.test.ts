// The migration runner: numeric order, each file once and atomically, safe when two callers
// race (two deploys, or the dev platform and a test). And the project's migrations themselves:
// nothing in them may break the code still running during a deploy (docs/migrations.md).
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDirectory, migrate, type MigrateOptions } from '../src/db/migrate.js';
import { startLocalPostgres, type LocalPostgres } from '../src/local/postgres.js';

let workDir: string;
let server: LocalPostgres;
let admin: postgres.Sql;
let databaseCount = 0;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sluice-migrate-test-'));
  server = await startLocalPostgres({ dataDir: path.join(workDir, 'pg'), persistent: false });
  admin = postgres(server.url, { max: 1, ssl: tls(), onnotice: () => undefined });
});

afterAll(async () => {
  await admin.end();
  await server.stop();
  await fs.rm(workDir, { recursive: true, force: true });
});

/** The server takes verified TLS only. */
function tls(): { ca: string; rejectUnauthorized: true } {
  return { ca: server.caCert, rejectUnauthorized: true };
}

/** migrate() as the platform calls it, with the server's CA. */
function run(url: string, options: Omit<MigrateOptions, 'caCert'> = {}): Promise<string[]> {
  return migrate(url, { ...options, caCert: server.caCert });
}

/** An empty database of its own for each test. */
async function freshDatabase(): Promise<string> {
  databaseCount += 1;
  const name = `migrate_${databaseCount}`;
  await admin`create database ${admin(name)}`;
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return url.toString();
}

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const directory = await fs.mkdtemp(path.join(workDir, 'migrations-'));
  for (const [name, sql] of Object.entries(files)) await fs.writeFile(path.join(directory, name), sql);
  return directory;
}

async function query<T extends object>(url: string, run: (sql: postgres.Sql) => Promise<T[]>): Promise<T[]> {
  const sql = postgres(url, { max: 1, ssl: tls() });
  try {
    return await run(sql);
  } finally {
    await sql.end();
  }
}

describe('migrate', () => {
  it('applies the files in numeric order, each once, and records them', async () => {
    const url = await freshDatabase();
    // Each file depends on the one before, so a wrong order fails.
    const directory = await migrationsDir({
      '0010_seed.sql': "insert into b (a_id, note) values (1, 'seeded');",
      '0002_b.sql': 'create table b (a_id int references a (id), note text);',
      '0001_a.sql': 'create table a (id int primary key); insert into a values (1);',
      'README.md': 'not a migration',
    });

    expect(await run(url, { directory })).toEqual(['0001_a', '0002_b', '0010_seed']);
    expect(await run(url, { directory })).toEqual([]);
    expect(await query(url, (sql) => sql`select note from b`)).toEqual([{ note: 'seeded' }]);

    await fs.writeFile(path.join(directory, '0011_more.sql'), "insert into b (a_id, note) values (1, 'later');");
    expect(await run(url, { directory })).toEqual(['0011_more']);
    const recorded = await query(url, (sql) => sql<{ name: string; applied: boolean }[]>`select name, applied_at <= now() as applied from schema_migrations order by name`);
    expect(recorded).toEqual(['0001_a', '0002_b', '0010_seed', '0011_more'].map((name) => ({ name, applied: true })));
  });

  it('rolls back a failing migration, records nothing for it, and applies it once fixed', async () => {
    const url = await freshDatabase();
    const directory = await migrationsDir({
      '0001_ok.sql': 'create table ok (id int);',
      '0002_broken.sql': 'create table half (id int);\nselect no_such_function();',
    });

    await expect(run(url, { directory })).rejects.toThrow(/no_such_function/);
    expect(await query(url, (sql) => sql`select name from schema_migrations`)).toEqual([{ name: '0001_ok' }]);
    expect(await query(url, (sql) => sql`select to_regclass('half') as half`)).toEqual([{ half: null }]);

    await fs.writeFile(path.join(directory, '0002_broken.sql'), 'create table half (id int);');
    expect(await run(url, { directory })).toEqual(['0002_broken']);
  });

  it('applies each file exactly once when two callers race', async () => {
    const url = await freshDatabase();
    // The slow first file keeps the first caller inside its transaction while the second arrives;
    // plain CREATE TABLEs would fail if any file ran twice.
    const directory = await migrationsDir({
      '0001_slow.sql': 'select pg_sleep(0.3); create table runs (file text);',
      '0002_log.sql': "create table second (id int); insert into runs values ('0002');",
      '0003_log.sql': "create table third (id int); insert into runs values ('0003');",
    });

    const [first, second] = await Promise.all([run(url, { directory }), run(url, { directory })]);
    expect([...first, ...second].sort()).toEqual(['0001_slow', '0002_log', '0003_log']);
    expect(await query(url, (sql) => sql`select file from runs order by file`)).toEqual([{ file: '0002' }, { file: '0003' }]);
  });

  it('refuses misnamed or duplicate-numbered files before touching the database', async () => {
    const url = await freshDatabase();
    await expect(run(url, { directory: await migrationsDir({ '1_short.sql': 'select 1;' }) })).rejects.toThrow(/1_short\.sql.*NNNN_name\.sql/);
    await expect(
      run(url, { directory: await migrationsDir({ '0001_a.sql': 'select 1;', '0001_b.sql': 'select 1;' }) }),
    ).rejects.toThrow(/share the number 1/);
    expect(await query(url, (sql) => sql`select to_regclass('schema_migrations') as t`)).toEqual([{ t: null }]);
  });

  it("applies the project's own migrations to an empty database, then nothing", async () => {
    const url = await freshDatabase();
    const applied = await run(url);
    expect(applied.length).toBeGreaterThan(0);
    expect(applied[0]).toMatch(/^0001_/);
    expect(await run(url)).toEqual([]);
  });
});

// ---- Expand/contract ------------------------------------------------------------------------
// During a deploy the previous release keeps running (in-flight activations finish on their code,
// warm containers serve until they are replaced), and the migrations run before the new code
// ships. A migration must therefore leave the schema usable by the previous release. This check
// looks for the statements that most often break that; it reads the SQL text, so it cannot see
// everything (a tightened CHECK, a data rewrite), and docs/migrations.md says the rest.

/** A file carrying this line has been reviewed as a contract step (a later release than the code change). */
const contractMarker = /^--[ \t]*contract:[ \t]*\S/m;

const destructiveRules: Array<{ name: string; matches: (statement: string) => boolean }> = [
  // Every DROP except DROP NOT NULL, which only relaxes: a dropped index can take a unique key an
  // ON CONFLICT relies on, a dropped default the value an old INSERT leaves out.
  { name: 'DROP', matches: (statement) => /\bDROP\b(?!\s+NOT\s+NULL\b)/i.test(statement) },
  { name: 'TRUNCATE', matches: (statement) => /\bTRUNCATE\b/i.test(statement) },
  { name: 'RENAME', matches: (statement) => /\bRENAME\b/i.test(statement) },
  { name: 'ALTER … TYPE', matches: (statement) => /\bALTER\s+(?:COLUMN\s+)?(?:"[^"]+"|\w+)\s+(?:SET\s+DATA\s+)?TYPE\b/i.test(statement) },
  {
    name: 'SET NOT NULL without a default',
    matches: (statement) => /\bSET\s+NOT\s+NULL\b/i.test(statement) && !/\bSET\s+DEFAULT\b/i.test(statement),
  },
  {
    // The previous release's INSERTs do not name the new column.
    name: 'ADD COLUMN … NOT NULL without a default',
    matches: (statement) => addedColumns(statement).some((column) => /\bNOT\s+NULL\b/i.test(column) && !/\b(DEFAULT|GENERATED)\b/i.test(column)),
  },
];

/** The statements of a file, without comments and string literals (whose words are not SQL). */
function statementsOf(source: string): string[] {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

/** `ADD [COLUMN] name type …` clauses, each up to the next comma (a comma inside a type ends it early). */
function addedColumns(statement: string): string[] {
  return [...statement.matchAll(/\bADD\s+(?!CONSTRAINT\b|CHECK\b|UNIQUE\b|PRIMARY\b|FOREIGN\b|EXCLUDE\b)[^,]*/gi)].map((match) => match[0]);
}

/** What the check finds in a file: `<rule>: <statement>` for each destructive statement, none if marked. */
function destructiveStatements(source: string): string[] {
  if (contractMarker.test(source)) return [];
  return statementsOf(source).flatMap((statement) =>
    destructiveRules.filter((rule) => rule.matches(statement)).map((rule) => `${rule.name}: ${statement}`),
  );
}

describe('expand/contract', () => {
  it('finds the destructive statements and passes additive ones, comments and string literals', () => {
    const destructive = [
      'DROP TABLE jobs;',
      'ALTER TABLE jobs DROP COLUMN build_id;',
      'ALTER TABLE jobs DROP build_id;',
      'ALTER TABLE jobs ALTER COLUMN status DROP DEFAULT;',
      'DROP INDEX jobs_queued_run_after;',
      'TRUNCATE job_events;',
      'ALTER TABLE jobs RENAME COLUMN build_id TO code_version;',
      'ALTER TABLE jobs RENAME TO uploads;',
      'ALTER TABLE jobs ALTER COLUMN size TYPE integer;',
      'alter table jobs alter size set data type integer;',
      'ALTER TABLE jobs ALTER COLUMN sha256 SET NOT NULL;',
      'ALTER TABLE jobs ADD COLUMN priority integer NOT NULL;',
      'ALTER TABLE jobs ADD COLUMN note text, ADD COLUMN priority integer NOT NULL;',
    ];
    for (const sql of destructive) expect(destructiveStatements(sql), sql).toHaveLength(1);

    const additive = [
      'ALTER TABLE jobs ADD COLUMN upload_checked_at timestamptz;',
      'ALTER TABLE jobs ADD COLUMN priority integer NOT NULL DEFAULT 0;',
      'ALTER TABLE jobs ALTER COLUMN priority SET DEFAULT 0, ALTER COLUMN priority SET NOT NULL;',
      'ALTER TABLE jobs ALTER COLUMN sha256 DROP NOT NULL;',
      'ALTER TABLE jobs ADD CONSTRAINT jobs_size_positive CHECK (size IS NOT NULL);',
      'CREATE TABLE notes (id bigint NOT NULL, body text NOT NULL);\nCREATE INDEX notes_body ON notes (body);',
      "-- Not DROP TABLE jobs: a comment.\n/* RENAME in a block comment */\nINSERT INTO notes (id, body) VALUES (1, 'drop table jobs; rename');",
    ];
    for (const sql of additive) expect(destructiveStatements(sql), sql).toEqual([]);

    expect(destructiveStatements('-- contract: release 12 stopped reading build_id (release 11 is gone)\nALTER TABLE jobs DROP COLUMN build_id;')).toEqual([]);
    // The marker needs a reason.
    expect(destructiveStatements('-- contract:\nALTER TABLE jobs DROP COLUMN build_id;')).toHaveLength(1);
  });

  it("keeps the project's migrations additive unless a file is marked `-- contract: <reason>`", () => {
    const files = readdirSync(defaultMigrationsDirectory).filter((file) => file.endsWith('.sql'));
    expect(files.length).toBeGreaterThan(0);
    const found = files.flatMap((file) =>
      destructiveStatements(readFileSync(path.join(defaultMigrationsDirectory, file), 'utf8')).map((finding) => `${file}: ${finding}`),
    );
    expect(found, 'see docs/migrations.md: expand first, contract in a later release').toEqual([]);
  });
});
