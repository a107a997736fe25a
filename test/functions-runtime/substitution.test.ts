// project.yml's `${…}` references are resolved exactly as `doctl serverless deploy` resolves them
// (functions-deployer src/util.ts substituteFromEnvAndFiles), so nothing the local platform
// accepts is refused by a deploy: a missing OR EMPTY value is an error naming every such
// variable, values go in as they are, and the platform refuses before it starts anything.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPlatform } from '../../src/local/platform.js';
import { loadProject, ProjectError, substituteLikeDeployer, type SubstitutionSources } from '../../src/local/project.js';
import { rootDir } from '../helpers/paths.js';

function sources(envFile: Record<string, string>, environment: Record<string, string> = {}, files: Record<string, Record<string, string>> = {}): SubstitutionSources {
  return { environment, envFile, projectFile: (relativePath) => files[relativePath] };
}

describe('substitution like the deployer', () => {
  it('treats an empty value as unresolved, like a missing one, and names every such reference', () => {
    const text = 'a: "${ONE}"\nb: "${TWO}"\nc: "${THREE}"';
    expect(substituteLikeDeployer(text, sources({ ONE: '', THREE: 'x' }))).toEqual({ content: 'a: "<ONE>"\nb: "<TWO>"\nc: "x"', unresolved: ['ONE', 'TWO'] });
  });

  it('takes the shell first, then the env file, and an empty shell value falls through to the file', () => {
    expect(substituteLikeDeployer('${A} ${B}', sources({ A: 'file', B: 'file' }, { A: 'shell', B: '' })).content).toBe('shell file');
  });

  it('inserts values as they are: no escaping of quotes or backslashes, newlines become \\n', () => {
    expect(substituteLikeDeployer('k: "${V}"', sources({ V: 'a\\b' })).content).toBe('k: "a\\b"');
    expect(substituteLikeDeployer('k: "${V}"', sources({ V: 'line1\nline2' })).content).toBe('k: "line1\\nline2"');
    expect(substituteLikeDeployer('k: "${|V}"', sources({ V: 'line1\nline2' })).content).toBe('k: "line1\nline2"');
    // A double quote in a value ends the YAML string early: the deploy fails, so loading fails too.
    expect(substituteLikeDeployer('k: "${V}"', sources({ V: 'say "hi"' })).content).toBe('k: "say "hi""');
  });

  it('reads a project file for ${<path} as a JSON dictionary; a missing or empty one is unresolved', () => {
    const files = { 'settings.env': { A: '1', B: '' }, 'empty.env': {} };
    expect(substituteLikeDeployer('e: ${<settings.env}', sources({}, {}, files)).content).toBe('e: {"A":"1","B":""}');
    expect(substituteLikeDeployer('e: ${<empty.env} f: ${<gone.env}', sources({}, {}, files)).unresolved).toEqual(['<empty.env', '<gone.env']);
    // Whitespace inside makes it a dictionary reference, checked before the file form (as the deployer does).
    expect(substituteLikeDeployer('f: ${< gone.env}', sources({}, {}, files)).unresolved).toEqual(['<', 'gone.env']);
  });

  it('expands $(A B) into a dictionary, each variable required', () => {
    expect(substituteLikeDeployer('p: $(A B)', sources({ A: '1' }))).toEqual({ content: 'p: {"A":"1","B":"<B>"}', unresolved: ['B'] });
  });

  it('refuses a reference that is never closed', () => {
    expect(() => substituteLikeDeployer('a: "${NEVER', sources({}))).toThrow(ProjectError);
  });
});

describe('loading a project', () => {
  let directory: string | undefined;
  afterEach(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
    directory = undefined;
  });

  function projectWith(yaml: string, envFile?: string): string {
    directory = mkdtempSync(path.join(tmpdir(), 'sluice-substitution-'));
    writeFileSync(path.join(directory, 'project.yml'), yaml);
    if (envFile !== undefined) writeFileSync(path.join(directory, '.env'), envFile);
    return directory;
  }

  const yaml = 'environment: ${<.env}\npackages:\n  - name: p\n    environment:\n      NEEDED: "${NEEDED}"\n    functions: []\n';

  it('fails with the deployer\'s message when a required value is empty in .env', () => {
    const dir = projectWith(yaml, 'NEEDED=\nOTHER=1\n');
    expect(() => loadProject(dir, { sources: { environment: {}, envFile: { NEEDED: '' }, projectFile: () => ({ NEEDED: '', OTHER: '1' }) } })).toThrow(
      /The following substitutions could not be resolved: 'NEEDED'/,
    );
  });

  it('fails when a value breaks the YAML, as the deploy would', () => {
    const dir = projectWith('packages:\n  - name: p\n    environment:\n      SECRET: "${SECRET}"\n    functions: []\n');
    expect(() => loadProject(dir, { variables: { SECRET: 'a"b' } })).toThrow();
  });

  it('fails on a tab that a value brings in (the deployer checks after substitution)', () => {
    const dir = projectWith('packages:\n  - name: p\n    environment:\n      SECRET: "${SECRET}"\n    functions: []\n');
    expect(() => loadProject(dir, { variables: { SECRET: 'a\tb' } })).toThrow(/tabs/);
  });
});

describe('the local platform', () => {
  it('refuses to start, naming the variables, when a setting project.yml names is empty — before it starts any service', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-refused-'));
    try {
      const env = { ALLOW_ANONYMOUS_UPLOADS: '', SPACES_BUCKET: '' };
      await expect(startPlatform({ rootDir, dataDir, ports: { web: 0, functions: 0, spaces: 0, postgres: 0 }, env, triggers: false })).rejects.toThrow(
        /could not be resolved: 'SPACES_BUCKET', 'ALLOW_ANONYMOUS_UPLOADS'/,
      );
      // Postgres and the S3 server would have made their folders here.
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
