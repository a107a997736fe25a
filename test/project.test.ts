// project.yml follows the deployer's rules (docs/platform-facts.md "project.yml"), and the build gives
// every declared function the one bundle its .include names.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  checkDeploymentSettings,
  leaseSecondsDefault,
  loadCorsConfig,
  loadDatabaseConfig,
  loadDispatchConfig,
  loadProcessingConfig,
  loadSpacesConfig,
  loadUploadConfig,
  maxUploadBytesDefault,
  optionalSettings,
  requiredSettings,
} from '../src/config.js';
import { bundlePath, deploySources, loadProject, parseEnvFile, projectSchema } from '../src/local/project.js';
import { rootDir } from './helpers/paths.js';

const projectText = readFileSync(path.join(rootDir, 'project.yml'), 'utf8');
const project = projectSchema.parse(parseYaml(projectText.replace('${<.env}', '{}')));
const functions = project.packages.flatMap((pkg) => pkg.functions.map((fn) => ({ pkg, fn, name: `${pkg.name}/${fn.name}` })));
const variablesUsed = [...new Set([...projectText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1] ?? ''))];

/** A `.env` with every required setting filled as a person would, and nothing else. */
const requiredOnly: Record<string, string> = {
  DATABASE_URL: 'postgresql://doadmin:secret@db-postgresql-nyc3-12345-do-user-1-0.k.db.ondigitalocean.com:25061/sluice-pool?sslmode=require',
  DATABASE_CA_CERT: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64'),
  SPACES_ENDPOINT: 'https://nyc3.digitaloceanspaces.com',
  SPACES_BUCKET: 'my-uploads',
  SPACES_KEY: 'DO00EXAMPLEKEY',
  SPACES_SECRET: 'example/secret+key',
  ALLOWED_ORIGINS: 'https://sluice-abc12.ondigitalocean.app',
  ALLOW_ANONYMOUS_UPLOADS: 'true',
  FUNCTIONS_ACCESS_KEY: 'dof_v1_0123456789abcdef:examplesecret',
};

/** Resolves project.yml with the deployer's rules from a project folder holding this `.env` and no shell variables. */
function deployWith(envFileText: string) {
  const directory = mkdtempSync(path.join(tmpdir(), 'sluice-deploy-'));
  try {
    writeFileSync(path.join(directory, 'project.yml'), projectText);
    writeFileSync(path.join(directory, '.env'), envFileText);
    return loadProject(directory, { sources: { ...deploySources(directory), environment: {} } });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function envFileText(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${value}\n`)
    .join('');
}

describe('project.yml', () => {
  it('declares the functions of the design', () => {
    expect(functions.map((f) => f.name).sort()).toEqual(
      [
        'presign/abort',
        'presign/complete',
        'presign/create',
        'presign/limits',
        'presign/parts',
        'presign/retry',
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
    // Every API call may start a sweep (docs/processing.md "The sweep"); complete, sweep and process/file (handing its slot on) dispatch jobs.
    const invokers = ['presign/create', 'presign/parts', 'presign/complete', 'presign/abort', 'presign/status', 'presign/retry', 'process/sweep', 'process/file'];
    for (const { fn, name } of functions) {
      if (invokers.includes(name)) expect(fn.annotations?.['provide-api-key'], name).toBe(true);
    }
  });

  it('quotes every ${VAR} so values stay strings, and names only the required settings', () => {
    const lines = projectText.split('\n').filter((line) => line.includes('${') && !line.trim().startsWith('#') && !line.startsWith('environment:'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.trim(), line).toMatch(/^[A-Z_]+: "\$\{[A-Z_]+\}"$/);
    // An optional setting named here would fail every deploy that leaves it out (empty = unresolved).
    expect([...variablesUsed].sort()).toEqual([...requiredSettings].sort());
  });

  it('schedules the sweep every minute', () => {
    const sweep = loadProject(rootDir, { unresolved: 'placeholder' }).functions.find((fn) => fn.qualifiedName === 'process/sweep');
    expect(sweep?.triggers).toEqual([expect.objectContaining({ cron: '* * * * *', enabled: true })]);
  });
});

describe('a deployment configured with only the required settings', () => {
  it('resolves with the deployer\'s rules, and every function can read its configuration', () => {
    const deployed = deployWith(envFileText(requiredOnly));
    for (const fn of deployed.functions) {
      const env = fn.environment;
      expect(env.DATABASE_URL, fn.qualifiedName).toBe(requiredOnly.DATABASE_URL);
      expect(loadDatabaseConfig(env).caCert, fn.qualifiedName).toContain('BEGIN CERTIFICATE');
      expect(loadSpacesConfig(env), fn.qualifiedName).toMatchObject({ bucket: 'my-uploads', region: 'nyc3' });
      expect(loadProcessingConfig(env).leaseSeconds, fn.qualifiedName).toBe(leaseSecondsDefault);
      expect(loadDispatchConfig(env).accessKey, fn.qualifiedName).toBe(requiredOnly.FUNCTIONS_ACCESS_KEY);
      if (fn.packageName === 'presign') {
        expect(loadCorsConfig(env).allowedOrigins, fn.qualifiedName).toEqual([requiredOnly.ALLOWED_ORIGINS]);
        expect(loadUploadConfig(env).maxUploadBytes, fn.qualifiedName).toBe(maxUploadBytesDefault);
      }
    }
    expect(checkDeploymentSettings(requiredOnly)).toEqual([]);
  });

  it('passes an optional setting that a line of .env sets to every function', () => {
    const deployed = deployWith(`${envFileText(requiredOnly)}MAX_UPLOAD_BYTES=1048576\nLEASE_SECONDS=30\n`);
    for (const fn of deployed.functions) {
      expect(loadProcessingConfig(fn.environment).leaseSeconds, fn.qualifiedName).toBe(30);
      if (fn.packageName === 'presign') expect(loadUploadConfig(fn.environment).maxUploadBytes).toBe(1_048_576);
    }
  });

  it('refuses to deploy, naming every missing or empty required setting', () => {
    const { SPACES_SECRET: _missing, ...rest } = requiredOnly;
    expect(() => deployWith(envFileText({ ...rest, ALLOWED_ORIGINS: '' }))).toThrow(
      /The following substitutions could not be resolved: 'SPACES_SECRET', 'ALLOWED_ORIGINS'/,
    );
    expect(checkDeploymentSettings({ ...rest, ALLOWED_ORIGINS: '' })).toEqual([
      'SPACES_SECRET is required (see .env.example)',
      'ALLOWED_ORIGINS is required (see .env.example)',
    ]);
  });

  it('is what .env.example asks for: its uncommented lines are exactly the required settings', () => {
    const example = parseEnvFile(readFileSync(path.join(rootDir, '.env.example'), 'utf8'));
    expect(Object.keys(example).sort()).toEqual([...requiredSettings].sort());
    // Every optional setting is documented there too, commented out with its default.
    const exampleText = readFileSync(path.join(rootDir, '.env.example'), 'utf8');
    for (const name of optionalSettings) expect(exampleText, name).toMatch(new RegExp(`^# ${name}=`, 'm'));
  });
});

describe('the build', () => {
  it('writes one small CommonJS bundle exporting main per function', () => {
    for (const fn of loadProject(rootDir, { unresolved: 'placeholder' }).functions) {
      expect(fn.includes, `${fn.qualifiedName}/.include`).toEqual(['index.js']);
      const bundle = bundlePath(fn);
      expect(readFileSync(bundle).byteLength, bundle).toBeLessThan(1024 * 1024);
      const loaded = loadAsSingleFileAction(readFileSync(bundle, 'utf8'));
      expect(typeof loaded.main, `${fn.qualifiedName} exports.main`).toBe('function');
    }
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
