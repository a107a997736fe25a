// Bundles every function in project.yml into the one CommonJS file its `.include` names, with
// `exports.main`, so the deployed function needs no node_modules and `doctl serverless deploy .`
// ships exactly that file (docs/platform-facts.md: `.include` with one file → a single-file action).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build as esbuild } from 'esbuild';
import { bundlePath, loadProject, ProjectError, type FunctionSpec } from './project.js';

/** The deployed runtime is nodejs:22; the local platform runs bundles on this machine's Node 20. */
const bundleTarget = 'node20';

export interface BuiltFunction {
  qualifiedName: string;
  bundle: string;
  bytes: number;
  /** Content hash of the bundle: the version an activation records. */
  buildId: string;
}

export async function buildProject(rootDir: string): Promise<BuiltFunction[]> {
  const project = loadProject(rootDir, { unresolved: 'placeholder' });
  return Promise.all(project.functions.map((fn) => buildFunction(fn)));
}

export async function buildFunction(fn: FunctionSpec): Promise<BuiltFunction> {
  const entry = path.join(fn.directory, 'index.ts');
  if (!existsSync(entry)) throw new ProjectError(`${fn.qualifiedName}: ${entry} is missing`);
  const bundle = bundlePath(fn);
  const built = await esbuild({
    entryPoints: [entry],
    outfile: bundle,
    // Written below, whole or not at all: a rebuild (npm run dev's, another test run's) must
    // never let a platform that starts meanwhile read half a bundle.
    write: false,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: bundleTarget,
    // Prefer packages' ES module builds: esbuild can drop what is not used from those (the AWS SDK
    // ships both, and its CommonJS build keeps everything).
    mainFields: ['module', 'main'],
    // Those ES builds load some Node modules lazily with `import()` (the AWS SDK's HTTP handler
    // does `await import('node:http')`). A single-file action is evaluated as a CommonJS script,
    // where a dynamic import has no module loader to call; as `require` it works everywhere.
    supported: { 'dynamic-import': false },
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const code = built.outputFiles[0]?.contents;
  if (code === undefined) throw new ProjectError(`${fn.qualifiedName}: esbuild wrote no bundle`);
  writeWhole(bundle, code);
  return describeBundle(fn.qualifiedName, bundle);
}

/**
 * Replaces `file` with `code` atomically (a temporary file renamed over it), and not at all when it
 * holds these bytes already, so an unchanged rebuild touches nothing.
 */
function writeWhole(file: string, code: Uint8Array): void {
  if (existsSync(file) && Buffer.compare(readFileSync(file), code) === 0) return;
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, code);
  renameSync(temporary, file);
}

export function describeBundle(qualifiedName: string, bundle: string): BuiltFunction {
  const bytes = statSync(bundle).size;
  return { qualifiedName, bundle, bytes, buildId: buildIdOf(readFileSync(bundle)) };
}

/** The build's name: a hash of the bundle's bytes, so an unchanged rebuild keeps it (and its warm workers). */
export function buildIdOf(code: Buffer): string {
  return createHash('sha256').update(code).digest('hex').slice(0, 12);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}
