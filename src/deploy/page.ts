// The page's API base, and the page built with it. The base is read back from the deployed
// functions (`doctl serverless functions get presign/create --url`), never typed by hand, and
// reaches the page as web/dist/config.json through `vite build` with SLUICE_API_BASE
// (vite.config.ts), the same build App Platform runs for .do/app.yaml.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import * as z from 'zod';
import { StepFailure } from './report.js';

/** The function whose URL names the API base (any web function would do; the page calls this one first). */
export const urlFunctionName = 'presign/create';
export const functionUrlArgs = ['serverless', 'functions', 'get', urlFunctionName, '--url'] as const;
/** The build-time variable vite.config.ts turns into web/dist/config.json, and .do/app.yaml sets. */
export const apiBaseVariable = 'SLUICE_API_BASE';
/** A page build takes seconds; a minute means something hangs. */
export const pageBuildTimeoutMs = 5 * 60_000;
/** The last lines of a failed build are what explain it. */
const failureTailLines = 15;

/** `https://<host>/api/v1/web/<namespace>/presign/create` → `https://<host>/api/v1/web/<namespace>`. */
export function apiBaseOf(functionUrl: URL): string {
  const suffix = `/${urlFunctionName}`;
  const match = /^(\/api\/v1\/web\/[^/]+)\/presign\/create\/?$/.exec(functionUrl.pathname);
  if (!match?.[1] || functionUrl.search !== '') {
    throw new StepFailure(
      `${functionUrl.href} is not a web function URL ending in ${suffix}`,
      'check that project.yml keeps presign/create a web function, then run npm run deploy:functions',
    );
  }
  return `${functionUrl.origin}${match[1]}`;
}

const configFileSchema = z.object({ apiBase: z.string() });

/** `vite build` with SLUICE_API_BASE; checks that web/dist/config.json names `apiBase`. */
export async function buildPage(rootDir: string, apiBase: string, environment: Record<string, string | undefined>): Promise<string> {
  const vite = path.join(rootDir, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) throw new StepFailure('vite is not installed', 'run npm install (Vite is a devDependency)');
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build'], {
      cwd: rootDir,
      env: { ...environment, [apiBaseVariable]: apiBase },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new StepFailure(`vite build did not finish within ${pageBuildTimeoutMs / 60_000} minutes`, 'run `npx vite build` to see where it stops'));
    }, pageBuildTimeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode ?? 1);
    });
  });
  if (code !== 0) {
    const tail = output.join('').trimEnd().split(/\r?\n/).slice(-failureTailLines);
    throw new StepFailure(`vite build failed (exit ${code})`, `fix what it reports (below), then run npm run deploy:page`, tail);
  }
  const configFile = path.join(rootDir, 'web', 'dist', 'config.json');
  const written = existsSync(configFile) ? configFileSchema.safeParse(JSON.parse(readFileSync(configFile, 'utf8'))) : undefined;
  if (!written?.success || written.data.apiBase !== apiBase) {
    throw new StepFailure(`vite build did not write ${apiBase} into web/dist/config.json`, `check the ${apiBaseVariable} plugin in vite.config.ts`);
  }
  return configFile;
}

/**
 * Sets SLUICE_API_BASE in the App Platform spec (the `envs` of its static site), so
 * `doctl apps create|update --spec .do/app.yaml` builds the page with the deployed API base.
 * Comments and layout stay; returns whether the file changed.
 */
export function writeAppSpecApiBase(specFile: string, apiBase: string): 'updated' | 'unchanged' {
  if (!existsSync(specFile)) throw new StepFailure(`${specFile} does not exist`, 'restore .do/app.yaml from the repository');
  const text = readFileSync(specFile, 'utf8');
  const document = parseDocument(text);
  const sites = document.get('static_sites');
  const entries = isSeq(sites) ? sites.items.filter(isMap) : [];
  const variables = entries.flatMap((site: YAMLMap) => {
    const envs = site.get('envs');
    return isSeq(envs) ? envs.items.filter(isMap).filter((entry: YAMLMap) => entry.get('key') === apiBaseVariable) : [];
  });
  const [variable, ...more] = variables;
  if (variable === undefined || more.length > 0) {
    throw new StepFailure(
      `${specFile} should set ${apiBaseVariable} once in a static site's envs (found ${variables.length})`,
      `add \`- {key: ${apiBaseVariable}, scope: BUILD_TIME, value: …}\` under the static site's envs`,
    );
  }
  if (variable.get('value') === apiBase) return 'unchanged';
  variable.set('value', apiBase);
  writeFileSync(specFile, document.toString());
  return 'updated';
}
