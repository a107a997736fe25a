// project.yml follows the deployer's rules (PLATFORM-FACTS.md "project.yml"), and the build gives
// every declared function the one bundle its .include names.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { localDefaults } from '../src/local/local-env.js';
import { bundlePath, loadProject, parseEnvFile, ProjectError, projectSchema, substituteVariables } from '../src/local/project.js';
import { rootDir } from './helpers/paths.js';

const projectText = readFileSync(path.join(rootDir, 'project.yml'), 'utf8');
const project = projectSchema.parse(parseYaml(projectText));
const functions = project.packages.flatMap((pkg) => pkg.functions.map((fn) => ({ pkg, fn, name: `${pkg.name}/${fn.name}` })));
const variablesUsed = [...new Set([...projectText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1] ?? ''))];
/** What the local platform fills in itself from the services it starts. */
const providedByPlatform = ['DATABASE_URL', 'ALLOWED_ORIGINS', 'SPACES_ENDPOINT', 'SPACES_REGION', 'SPACES_BUCKET', 'SPACES_KEY', 'SPACES_SECRET'];

describe('project.yml', () => {
  it('declares the functions of the design', () => {
    expect(functions.map((f) => f.name).sort()).toEqual(
      [
        'presign/abort',
        'presign/complete',
        'presign/create',
        'presign/limits',
        'presign/parts',
        'presign/status',
        'process/file',
        'process/sweep',
      ],
    );
  });

  it('has no tabs and only named packages', () => {
    expect(projectText).not.toContain('\t');
    for (const pkg of project.packages) expect(pkg.name).not.toBe('default');
  });

  it('runs every function on nodejs:22 with explicit limits', () => {
    for (const { name, fn } of functions) {
      expect(fn.runtime, name).toBe('nodejs:22');
      expect(fn.limits?.timeout, `${name} limits.timeout`).toBeGreaterThan(3000);
      expect(fn.limits?.timeout, `${name} limits.timeout`).toBeLessThanOrEqual(900_000);
      expect(fn.limits?.memory, `${name} limits.memory`).toBeGreaterThanOrEqual(128);
      expect(fn.limits?.memory, `${name} limits.memory`).toBeLessThanOrEqual(1024);
    }
  });

  it('keeps process/* private and makes presign/* answer CORS themselves', () => {
    for (const { pkg, fn, name } of functions) {
      if (pkg.name === 'process') expect(fn.web, name).toBe(false);
      if (pkg.name === 'presign') {
        expect(fn.web, name).toBe('raw');
        expect(fn.annotations?.['web-custom-options'], name).toBe(true);
      }
    }
  });

  it('uses no annotation the deployer forbids', () => {
    for (const { fn, name } of functions) {
      for (const forbidden of ['require-whisk-auth', 'web-export', 'raw-http']) expect(fn.annotations ?? {}, name).not.toHaveProperty(forbidden);
    }
  });

  it('gives an API key to the functions that invoke others', () => {
    // Every API call may start a sweep (DESIGN "project.yml"); complete and sweep dispatch jobs.
    const invokers = ['presign/create', 'presign/parts', 'presign/complete', 'presign/abort', 'presign/status', 'process/sweep'];
    for (const { fn, name } of functions) {
      if (invokers.includes(name)) expect(fn.annotations?.['provide-api-key'], name).toBe(true);
    }
  });

  it('quotes every ${VAR} so values stay strings', () => {
    const lines = projectText.split('\n').filter((line) => line.includes('${') && !line.trim().startsWith('#'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.trim(), line).toMatch(/^[A-Z_]+: "\$\{[A-Z_]+\}"$/);
  });

  it('schedules the sweep every minute', () => {
    const sweep = loadProject(rootDir, { unresolved: 'empty' }).functions.find((fn) => fn.qualifiedName === 'process/sweep');
    expect(sweep?.triggers).toEqual([expect.objectContaining({ cron: '* * * * *', enabled: true })]);
  });

  it('documents every variable in .env.example and resolves locally with no .env', () => {
    const example = parseEnvFile(readFileSync(path.join(rootDir, '.env.example'), 'utf8'));
    for (const name of variablesUsed) expect(Object.keys(example), `.env.example lacks ${name}`).toContain(name);
    const local = Object.fromEntries([...Object.entries(localDefaults), ...providedByPlatform.map((name) => [name, 'x'])]);
    expect(() => loadProject(rootDir, { variables: local })).not.toThrow();
  });
});

describe('the build', () => {
  it('writes one small CommonJS bundle exporting main per function', () => {
    for (const fn of loadProject(rootDir, { unresolved: 'empty' }).functions) {
      expect(fn.includes, `${fn.qualifiedName}/.include`).toEqual(['index.js']);
      const bundle = bundlePath(fn);
      expect(readFileSync(bundle).byteLength, bundle).toBeLessThan(1024 * 1024);
      const loaded = loadAsSingleFileAction(readFileSync(bundle, 'utf8'));
      expect(typeof loaded.main, `${fn.qualifiedName} exports.main`).toBe('function');
    }
  });
});

describe('${VAR} substitution', () => {
  it('names every variable that is not set', () => {
    expect(() => substituteVariables('a: "${ONE}"\nb: "${TWO}"', {})).toThrow(ProjectError);
    expect(() => substituteVariables('a: "${ONE}"\nb: "${TWO}"', {})).toThrow(/\$\{ONE\}, \$\{TWO\}/);
  });

  it('keeps a value with quotes or backslashes inside its YAML string', () => {
    const text = substituteVariables('key: "${SECRET}"', { SECRET: 'a"b\\c\nd' });
    expect(parseYaml(text)).toEqual({ key: 'a"b\\c\nd' });
  });

  it('reads .env files like the deployer', () => {
    expect(parseEnvFile('# comment\nA=1\nexport B="two words"\nC=\'x#y\'\nD=plain # trailing\n\nnot a line')).toEqual({
      A: '1',
      B: 'two words',
      C: 'x#y',
      D: 'plain',
    });
  });
});

/**
 * Loads a bundle as the Node runtime loads a single-file action: its text evaluated with `module`,
 * `exports` and `require` in scope (the repository's "type": "module" does not apply there).
 */
function loadAsSingleFileAction(code: string): { main?: unknown } {
  const module = { exports: {} as Record<string, unknown> };
  new Function('module', 'exports', 'require', code)(module, module.exports, createRequire(import.meta.url));
  return module.exports;
}
