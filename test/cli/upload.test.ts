// `sluice upload` and `sluice status` against the local platform, run as a person runs them: files
// named relative to where they are, the platform found by itself, refusals before any byte, several
// files at once, --json, --no-wait, bars on a terminal, plain lines elsewhere, Ctrl-C.
import { execFile } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabaseConfig } from '../../src/config.js';
import { createSql, type Sql } from '../../src/db/client.js';
import { findJob, listJobEvents } from '../../src/db/jobs.js';
import type { Platform } from '../../src/local/platform.js';
import { createStorage, listUploadedParts, type Storage } from '../../src/storage/spaces.js';
import { resultHeadline } from '../../src/cli/summary.js';
import { makePng } from '../analyzers/fixtures.js';
import { startTestPlatform } from '../helpers/platform.js';
import { rootDir } from '../helpers/paths.js';
import { announce, baseEnv, binPath, eventually, scratchDir, sluice, start } from './support.js';

const mebibyte = 1024 * 1024;
/** The smallest part size: files above it go up in parts, so progress moves part by part. */
const partSizeBytes = 8 * mebibyte;
/** A sparse file just above it is refused without costing any disk. */
const maxUploadBytes = 1024 * mebibyte;

let platform: Platform;
let state: ReturnType<typeof announce>;
let db: Sql;
let storage: Storage;
const scratch = scratchDir('upload');

beforeAll(async () => {
  platform = await startTestPlatform({ env: { MULTIPART_THRESHOLD_BYTES: String(partSizeBytes), MAX_UPLOAD_BYTES: String(maxUploadBytes) } });
  state = announce(platform);
  db = createSql(loadDatabaseConfig(platform.env), { max: 2 });
  storage = createStorage({ ...platform.spaces, forcePathStyle: true });
});

afterAll(async () => {
  await db?.end();
  storage?.client.destroy();
  await platform?.stop();
  state?.remove();
  scratch.remove();
});

function file(relative: string, content: string | Uint8Array): string {
  const full = path.join(scratch.dir, relative);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
  return full;
}

/** A file of zeros that costs no disk until written (the store still writes what it receives). */
function sparse(relative: string, size: number): string {
  const full = file(relative, '');
  truncateSync(full, size);
  return full;
}

async function jobCount(): Promise<number> {
  const [row] = await db<{ count: number }[]>`SELECT count(*)::int AS count FROM jobs`;
  return row?.count ?? 0;
}

/** ESC, which starts every terminal control sequence. */
const escape = String.fromCharCode(0x1b);

const jobLine = (name: string, rest: string) => new RegExp(`^✓ ${name.replace('.', '\\.')}  ${rest}  \\(.*job ([0-9a-f-]{36})\\)$`, 'm');

describe('sluice upload', () => {
  it('finds npm run dev by itself, resolves paths from where npm was run, waits and prints the headline', async () => {
    file('project/data/people.csv', 'name,age\nada,36\ngrace,45\nalan,41\n');
    // As `npm run sluice -- upload data/people.csv` from project/: npm runs the script in the repository root.
    const run = await sluice(['upload', 'data/people.csv'], {
      cwd: rootDir,
      env: { ...state.env, INIT_CWD: path.join(scratch.dir, 'project'), npm_lifecycle_event: 'sluice', npm_package_name: 'sluice' },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`sluice: ${platform.apiBase} (from npm run dev (${path.join(state.dataDir, 'dev.json')}))`);
    const [, jobId] = jobLine('people.csv', 'CSV · .+').exec(run.stdout) ?? [];
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toContain('(33 bytes, text/csv, job ');
    // The headline is the page's, for this job's result.
    const job = await findJob(db, jobId ?? '');
    expect(job?.status).toBe('succeeded');
    expect(run.stdout).toContain(`✓ people.csv  ${resultHeadline(job?.result)}  (`);
    // Not a terminal: plain lines, no carriage returns or escape sequences.
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr).not.toContain(escape);
    expect(run.stderr).toContain('people.csv: succeeded');
  });

  it('uploads several files at once; --json prints one document on stdout, the lines for people on stderr', async () => {
    const names = ['one.bin', 'two.bin', 'three.bin'];
    const paths = names.map((name) => sparse(`parallel/${name}`, 2 * partSizeBytes + 1));
    const small = [
      file('parallel/events.ndjson', '{"a":1}\n{"a":2}\n'),
      file('parallel/notes.txt', 'hello\nworld\n'),
      file('parallel/dot.png', makePng(3, 2)),
      file('parallel/broken.json', '{\n  "a": 1,\n}\n'),
    ];
    const run = await sluice(['upload', ...paths, ...small, '--json', '--parallel', '3'], { env: state.env });
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout) as {
      api: string;
      files: Array<{ path: string; outcome: string; contentType: string; jobId: string; token: string; fileHasProblems?: boolean; job: { status: string; size: number } }>;
    };
    expect(document.api).toBe(platform.apiBase);
    expect(document.files.map((entry) => [path.basename(entry.path), entry.outcome, entry.contentType])).toEqual([
      ['one.bin', 'succeeded', 'application/octet-stream'],
      ['two.bin', 'succeeded', 'application/octet-stream'],
      ['three.bin', 'succeeded', 'application/octet-stream'],
      ['events.ndjson', 'succeeded', 'application/x-ndjson'],
      ['notes.txt', 'succeeded', 'text/plain'],
      ['dot.png', 'succeeded', 'image/png'],
      ['broken.json', 'succeeded', 'application/json'],
    ]);
    expect(document.files[0]?.job.size).toBe(2 * partSizeBytes + 1);
    for (const name of [...names, 'events.ndjson', 'notes.txt', 'dot.png']) expect(run.stderr).toContain(`✓ ${name}  `);
    // Processed, but the file is not valid JSON: marked, said in the headline, and exit code 0 still.
    expect(run.stderr).toContain('! broken.json  Invalid JSON at line 3, column 1  (');
    expect(document.files.map((entry) => entry.fileHasProblems === true)).toEqual([false, false, false, false, false, false, true]);
    // In parallel: the three big files were all created before the first of them was uploaded.
    const [first, second, third] = document.files;
    const events = (await Promise.all([first, second, third].map((entry) => listJobEvents(db, entry?.jobId ?? '')))).flat();
    const lastCreated = Math.max(...events.filter((event) => event.event === 'created').map((event) => event.at.getTime()));
    const firstUploaded = Math.min(...events.filter((event) => event.event === 'uploaded').map((event) => event.at.getTime()));
    expect(lastCreated).toBeLessThan(firstUploaded);
  });

  it('refuses, before any byte is sent, what the server would refuse, and still uploads the rest (exit 1)', async () => {
    const before = await jobCount();
    const pdf = file('refusals/report.dat', '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n');
    const parquet = file('refusals/table.parquet', Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 1), Buffer.from('PAR1')]));
    const empty = file('refusals/empty.txt', '');
    const huge = sparse('refusals/huge.csv', maxUploadBytes + 1);
    const fine = file('refusals/fine.csv', 'a,b\n1,2\n');
    const missing = path.join(scratch.dir, 'refusals/missing.csv');
    const run = await sluice(['upload', pdf, parquet, empty, huge, missing, fine], { env: state.env });

    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^✗ report\.dat {2}refused: its bytes are application\/pdf, and application\/pdf is not accepted here; it accepts text\/csv, .*image\/\*, application\/octet-stream \(ALLOWED_CONTENT_TYPES=\*\/\* in \.env allows everything\)/),
      expect.stringMatching(/^✗ table\.parquet {2}refused: its bytes are application\/vnd\.apache\.parquet, and .* is not accepted here/),
      `✗ empty.txt  refused: ${empty} is empty: there is nothing to process  (0 bytes)`,
      `✗ huge.csv  refused: 1.0 GB (1073741825 bytes) is more than this server accepts: 1 GB (MAX_UPLOAD_BYTES)`,
      `✗ missing.csv  refused: ${missing} does not exist`,
      expect.stringMatching(jobLine('fine.csv', '.+')),
    ]);
    // Only fine.csv reached the server.
    expect(await jobCount()).toBe(before + 1);
  });

  it('--json names each refusal with a code', async () => {
    const missing = path.join(scratch.dir, 'nowhere.csv');
    const run = await sluice(['upload', missing, '--json'], { env: state.env });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      api: platform.apiBase,
      files: [{ path: missing, filename: 'nowhere.csv', outcome: 'refused', summary: `${missing} does not exist`, error: { code: 'FILE_UNREADABLE', message: `${missing} does not exist` } }],
    });
  });

  it('--no-wait returns once uploaded; sluice status shows the job later', async () => {
    const csv = file('later/later.csv', 'x\n1\n2\n');
    const run = await sluice(['upload', csv, '--no-wait'], { env: state.env });
    expect(run.code).toBe(0);
    const [, jobId, token] = /^✓ later\.csv {2}uploaded: see the result with sluice status (\S+) (\S+) {2}\(6 bytes, text\/csv\)$/m.exec(run.stdout) ?? [];
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    await eventually('the job to succeed', async () => ((await findJob(db, jobId ?? ''))?.status === 'succeeded' ? true : undefined));

    const status = await sluice(['status', jobId ?? '', token ?? ''], { env: state.env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^✓ later\.csv {2}succeeded: CSV · /);
    const json = await sluice(['status', jobId ?? '', token ?? '', '--json'], { env: state.env });
    expect((JSON.parse(json.stdout) as { job: { id: string; status: string } }).job).toMatchObject({ id: jobId, status: 'succeeded' });
  });

  it('status says why a call failed, exit 1', async () => {
    const run = await sluice(['status', '00000000-0000-4000-8000-000000000000', 'x'.repeat(43)], { env: state.env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('sluice: JOB_NOT_FOUND (404)');
    // One token in 64 starts with '-' (base64url): still the token, not an unknown option.
    const dashed = await sluice(['status', '00000000-0000-4000-8000-000000000000', `-${'x'.repeat(42)}`, '--json'], { env: state.env });
    expect([dashed.code, dashed.stderr]).toEqual([1, expect.stringContaining('JOB_NOT_FOUND (404)')]);
  });

  it('on a terminal, draws a live bar per file with its speed and time left', async () => {
    const big = sparse('tty/big.bin', 5 * partSizeBytes);
    const small = file('tty/small.csv', 'a\n1\n');
    // script(1) runs the command on a pseudo-terminal; -e passes its exit code on.
    const command = [process.execPath, binPath, 'upload', big, small].map((arg) => `'${arg}'`).join(' ');
    const { stdout } = await promisify(execFile)('script', ['-q', '-e', '-c', command, '/dev/null'], { env: { ...baseEnv(), ...state.env, TERM: 'xterm' } });
    expect(stdout).toMatch(/big\.bin +█*░* +\d+% {2}\d+ MB \/ 40 MB {2}[\d.]+ [KMG]?B\/s {2}ETA \d+s/);
    // Each redraw goes back up over the live lines and erases them.
    expect(stdout).toMatch(new RegExp(`${escape}\\[\\d+A\r${escape}\\[J`));
    expect(stdout).toMatch(/processing \(attempt 1 of 5\)|queued/);
    expect(stdout).toMatch(/✓ big\.bin {2}Binary file · 40 MB/);
    expect(stdout).toMatch(/✓ small\.csv {2}CSV · /);
  });

  it('Ctrl-C aborts the upload under way: the job is cancelled and its parts are gone (exit 130)', async () => {
    // 40 parts: far more than go up before the signal lands.
    const big = sparse('interrupt/interrupted.bin', 40 * partSizeBytes);
    const upload = start(['upload', big], { env: state.env });
    const jobId = await eventually('the job to be created', async () => {
      const [row] = await db<{ id: string }[]>`SELECT id FROM jobs WHERE filename = 'interrupted.bin'`;
      return row?.id;
    });
    upload.kill('SIGINT');
    const run = await upload.exited;

    expect(run.code).toBe(130);
    expect(run.stderr).toContain('sluice: cancelling (Ctrl-C again to quit at once)');
    expect(run.stdout).toContain('✗ interrupted.bin  cancelled: the upload was aborted and its job cancelled');
    const job = await findJob(db, jobId);
    expect(job?.status).toBe('cancelled');
    expect((await listJobEvents(db, jobId)).map((event) => event.event)).toEqual(['created', 'cancelled']);
    expect(await listUploadedParts(storage, job?.objectKey ?? '', job?.uploadId ?? '')).toBeUndefined();
  });
});
