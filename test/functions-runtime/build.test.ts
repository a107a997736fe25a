// The project's build writes each bundle whole or not at all, and leaves an unchanged one alone:
// `npm run dev` (and test/dev.test.ts) rebuild every bundle in place while other platforms may be
// reading them to deploy, and half a bundle deployed is a function that fails every call.
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunction } from '../../src/local/build.js';
import { bundlePath, loadProject, type FunctionSpec } from '../../src/local/project.js';

const fixtureDir = fileURLToPath(new URL('../fixtures/runtime-project/', import.meta.url));
let rootDir: string;
let echo: FunctionSpec;

beforeAll(async () => {
  rootDir = await mkdtemp(path.join(tmpdir(), 'sluice-build-'));
  await cp(fixtureDir, rootDir, { recursive: true, filter: (source) => !source.endsWith(`${path.sep}index.js`) });
  const found = loadProject(rootDir, { variables: {} }).functions.find((fn) => fn.qualifiedName === 'web/echo');
  if (found === undefined) throw new Error('the fixture project has no web/echo');
  echo = found;
});

afterAll(async () => {
  if (rootDir) await rm(rootDir, { recursive: true, force: true });
});

describe('the build', () => {
  it('replaces a changed bundle by renaming a whole new file over it, and leaves an unchanged one untouched', async () => {
    const first = await buildFunction(echo);
    const file = bundlePath(echo);
    const before = await stat(file);

    // The same sources: the same bytes, so the file is not written again (same inode, same mtime).
    const again = await buildFunction(echo);
    const unchanged = await stat(file);
    expect(again.buildId).toBe(first.buildId);
    expect([unchanged.ino, unchanged.mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    // Changed sources: a new file took the name (a new inode), so a reader holding the old one
    // reads it whole, and one opening the name gets the whole new one. No temporary file is left.
    const entry = path.join(echo.directory, 'index.ts');
    await writeFile(entry, `${await readFile(entry, 'utf8')}\nexport const changed = 1;\n`);
    const rebuilt = await buildFunction(echo);
    const replaced = await stat(file);
    expect(rebuilt.buildId).not.toBe(first.buildId);
    expect(replaced.ino).not.toBe(before.ino);
    expect((await readdir(echo.directory)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
