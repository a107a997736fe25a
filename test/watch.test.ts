// The source watcher of `npm run dev`: every save is seen, however it is written — in place, or as
// editors and `sed -i` do it, a temporary file renamed over the original — also in directories
// that appear, or are replaced, while it runs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchTree, type TreeWatcher } from '../src/local/watch.js';

// Events arrive within milliseconds; generous for a loaded machine.
const eventTimeoutMs = 5_000;

let root: string;
let watcher: TreeWatcher | undefined;
let seen: string[];
let errors: Error[];

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sluice-watch-test-'));
  mkdirSync(path.join(root, 'jobs'));
  writeFileSync(path.join(root, 'jobs', 'claim.ts'), 'export const version = 0;\n');
  seen = [];
  errors = [];
});
afterEach(() => {
  watcher?.close();
  watcher = undefined;
  rmSync(root, { recursive: true, force: true });
});

function start(options: { skipDirectory?: (name: string) => boolean } = {}): void {
  watcher = watchTree(root, (file) => seen.push(file), { ...options, onError: (error) => errors.push(error) });
}

/** Runs the save and waits until the watcher reports `file`; forgets what was reported before. */
async function expectReported(file: string, save: () => void): Promise<void> {
  seen = [];
  save();
  await expect.poll(() => seen, { timeout: eventTimeoutMs, interval: 10 }).toContain(file);
}

/** An editor's save: the new content in a temporary file beside it, renamed over the original. */
function renameSave(file: string, content: string): void {
  writeFileSync(`${file}.swp`, content);
  renameSync(`${file}.swp`, file);
}

describe('watchTree', () => {
  it('sees every rename-save of a file, and in-place writes after them', async () => {
    start();
    const claim = path.join(root, 'jobs', 'claim.ts');
    const relative = path.join('jobs', 'claim.ts');
    for (let version = 1; version <= 3; version += 1) await expectReported(relative, () => renameSave(claim, `export const version = ${version};\n`));
    await expectReported(relative, () => execFileSync('sed', ['-i', 's/version = 3/version = 4/', claim]));
    await expectReported(relative, () => execFileSync('sed', ['-i', 's/version = 4/version = 5/', claim]));
    await expectReported(relative, () => writeFileSync(claim, 'export const version = 6;\n'));
    expect(errors).toEqual([]);
  });

  it('watches a directory made after it started, and one removed and made again', async () => {
    start();
    const made = path.join(root, 'storage', 'deep');
    await expectReported(path.join('storage', 'deep', 'head.ts'), () => {
      mkdirSync(made, { recursive: true });
      writeFileSync(path.join(made, 'head.ts'), 'export {};\n');
    });
    await expectReported(path.join('storage', 'deep', 'head.ts'), () => renameSave(path.join(made, 'head.ts'), 'export const a = 1;\n'));

    // Replaced under the same name (a branch switch, a generator): the old watch is on a directory that is gone.
    await expectReported('jobs', () => rmSync(path.join(root, 'jobs'), { recursive: true }));
    await expectReported(path.join('jobs', 'sweep.ts'), () => {
      mkdirSync(path.join(root, 'jobs'));
      writeFileSync(path.join(root, 'jobs', 'sweep.ts'), 'export {};\n');
    });
    await expectReported(path.join('jobs', 'sweep.ts'), () => renameSave(path.join(root, 'jobs', 'sweep.ts'), 'export const b = 1;\n'));
    expect(errors).toEqual([]);
  });

  it('reports a directory moved in with the files it holds', async () => {
    start();
    const outside = mkdtempSync(path.join(os.tmpdir(), 'sluice-watch-test-outside-'));
    try {
      writeFileSync(path.join(outside, 'moved.ts'), 'export {};\n');
      await expectReported(path.join('http', 'moved.ts'), () => renameSync(outside, path.join(root, 'http')));
      await expectReported(path.join('http', 'moved.ts'), () => renameSave(path.join(root, 'http', 'moved.ts'), 'export const c = 1;\n'));
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('leaves skipped directories alone and reports nothing once closed', async () => {
    mkdirSync(path.join(root, 'node_modules', 'dep'), { recursive: true });
    start({ skipDirectory: (name) => name === 'node_modules' });
    // Events come in the order the files were written: once the later one is in, the earlier one would be too.
    await expectReported(path.join('jobs', 'claim.ts'), () => {
      writeFileSync(path.join(root, 'node_modules', 'dep', 'index.ts'), 'export {};\n');
      writeFileSync(path.join(root, 'jobs', 'claim.ts'), 'export const version = 1;\n');
    });
    expect(seen.filter((file) => file.includes('node_modules'))).toEqual([]);

    watcher?.close();
    // A second watcher sees the next write; one that was still running would have seen it with it.
    const witnessed: string[] = [];
    const witness = watchTree(root, (file) => witnessed.push(file), { onError: (error) => errors.push(error) });
    try {
      seen = [];
      writeFileSync(path.join(root, 'jobs', 'claim.ts'), 'export const version = 2;\n');
      await expect.poll(() => witnessed, { timeout: eventTimeoutMs, interval: 10 }).toContain(path.join('jobs', 'claim.ts'));
      expect(seen).toEqual([]);
    } finally {
      witness.close();
    }
    expect(errors).toEqual([]);
  });
});
