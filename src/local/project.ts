// Reads project.yml the way `doctl serverless deploy` does: `${VAR}` replaced textually from the
// environment, else the root .env (an unresolved one is an error), then parsed and checked against
// the deployer's rules (docs/platform-facts.md "project.yml"). The local platform and the build both
// start here, so what runs locally is what would deploy.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';

/** Functions whose limits are not set run with the platform default of 3 s (docs: functions/details/limits). */
export const platformDefaultTimeoutMs = 3_000;
export const platformDefaultMemoryMb = 256;

const stringMap = z.record(z.string(), z.string());

const triggerSchema = z.union([
  // The form in DigitalOcean's "How to Schedule Functions" page.
  z.object({
    name: z.string().min(1),
    enabled: z.boolean().optional(),
    sourceType: z.literal('scheduler'),
    sourceDetails: z.object({ cron: z.string().min(1), withBody: z.record(z.string(), z.unknown()).optional() }),
  }),
  // The form the deployer's validateDeployConfig also accepts.
  z.object({
    name: z.string().min(1),
    enabled: z.boolean().optional(),
    type: z.literal('SCHEDULED'),
    scheduledDetails: z.object({ cron: z.string().min(1), body: z.record(z.string(), z.unknown()).optional() }),
  }),
]);

const functionSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'function names are letters, digits, - and _'),
  runtime: z.string().optional(),
  main: z.string().optional(),
  binary: z.boolean().optional(),
  web: z.union([z.boolean(), z.literal('raw')]).optional(),
  webSecure: z.union([z.literal(false), z.string()]).optional(),
  environment: stringMap.optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
  limits: z
    .strictObject({
      timeout: z.number().int().positive().optional(),
      memory: z.number().int().positive().optional(),
      logs: z.number().int().positive().optional(),
    })
    .optional(),
  triggers: z.array(triggerSchema).optional(),
});

const packageSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'package names are letters, digits, - and _'),
  functions: z.array(functionSchema).default([]),
  shared: z.boolean().optional(),
  web: z.union([z.boolean(), z.literal('raw')]).optional(),
  environment: stringMap.optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});

export const projectSchema = z.strictObject({
  targetNamespace: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  environment: stringMap.optional(),
  packages: z.array(packageSchema).min(1),
});

export type ProjectFile = z.infer<typeof projectSchema>;

export interface ScheduledTrigger {
  name: string;
  cron: string;
  enabled: boolean;
  body: Record<string, unknown>;
}

export interface FunctionSpec {
  /** `<package>/<function>`, the name used in URLs and invocations. */
  qualifiedName: string;
  packageName: string;
  name: string;
  runtime: string;
  main: string;
  /** true: public web function; 'raw': raw HTTP web function; false: invoke API only. */
  web: boolean | 'raw';
  annotations: Record<string, unknown>;
  /** Project, package and function environment merged (function wins). */
  environment: Record<string, string>;
  /** Final parameters: a web request that tries to override one gets 400. */
  parameters: Record<string, unknown>;
  timeoutMs: number;
  memoryMb: number;
  triggers: ScheduledTrigger[];
  /** The function's directory, `packages/<package>/<function>`. */
  directory: string;
  /** Files named by the directory's `.include`, relative to it. */
  includes: string[];
}

export interface Project {
  rootDir: string;
  functions: FunctionSpec[];
}

export class ProjectError extends Error {
  override name = 'ProjectError';
}

/** Parses a `.env` file with dotenv, the parser the deployer itself uses (deployer src/util.ts getPropsFromFile). */
export function parseEnvFile(text: string): Record<string, string> {
  return parseDotenv(text);
}

export function readEnvFile(file: string): Record<string, string> {
  return existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8')) : {};
}

/**
 * What `doctl serverless deploy` substitutes project.yml from (deployer src/util.ts
 * substituteFromEnvAndFiles): the shell environment, which wins, then the properties of the env
 * file (the root `.env`); and, for `${<path}`, a file of the project read as properties.
 */
export interface SubstitutionSources {
  environment: Record<string, string | undefined>;
  envFile: Record<string, string>;
  /** The properties of a project file named by `${<path}` (path relative to the project root); undefined when it does not exist. */
  projectFile: (relativePath: string) => Record<string, string> | undefined;
}

/** The sources a deploy from `rootDir` sees: this process's environment and the files on disk. */
export function deploySources(rootDir: string): SubstitutionSources {
  return {
    environment: process.env,
    envFile: readEnvFile(path.join(rootDir, '.env')),
    projectFile: (relativePath) => readPropertiesFile(path.join(rootDir, relativePath)),
  };
}

/**
 * The sources of a deploy whose `.env` holds exactly `values` and whose shell sets none of them:
 * how the local platform deploys (its `.env` is the local services' settings). `${<.env}` reads
 * `values`; any other `${<path}` reads the file under `rootDir`.
 */
export function envFileSources(rootDir: string, values: Record<string, string>): SubstitutionSources {
  return {
    environment: {},
    envFile: values,
    projectFile: (relativePath) => (path.normalize(relativePath) === '.env' ? values : readPropertiesFile(path.join(rootDir, relativePath))),
  };
}

/** A properties file as the deployer reads one: JSON if it parses as JSON, else dotenv. */
function readPropertiesFile(file: string): Record<string, string> | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, string>;
  } catch {
    // Not JSON: a properties file.
  }
  return parseDotenv(text);
}

export interface Substitution {
  content: string;
  /** Every reference that could not be resolved, in order: a deploy with any of them fails. */
  unresolved: string[];
}

/**
 * Substitutes project.yml exactly as the deployer does (deployer src/util.ts
 * substituteFromEnvAndFiles), because what the local platform accepts must deploy:
 * - `${VAR}`: `environment[VAR] || envFile[VAR]`, inserted as it is (no escaping of `"` or `\`;
 *   only newlines become `\n`). **An empty value is unresolved**, like a missing one.
 * - `${|VAR}`: the same, without turning newlines into `\n`.
 * - `${<path}`: the project file at `path` read as properties, inserted as JSON; a missing or
 *   empty file is unresolved.
 * - `$(A B …)` (and `${A B}`): a JSON dictionary of those variables; each must resolve.
 * An unresolved reference is replaced by `<name>` (or, for a file, `unresolvedFile` when given) and
 * reported; a reference without its closing brace is an error.
 */
export function substituteLikeDeployer(input: string, sources: SubstitutionSources, options: { unresolvedFile?: string } = {}): Substitution {
  const unresolved: string[] = [];
  const lookup = (name: string): string | undefined => sources.environment[name] || sources.envFile[name] || undefined;
  let rest = input;
  let content = '';
  for (let next = nextReference(rest); next !== undefined; next = nextReference(rest)) {
    const after = rest.slice(next.index + 2);
    const end = after.indexOf(next.terminator);
    if (end < 0) throw new ProjectError('project.yml has a runaway variable name or path directive (a "${" or "$(" that is never closed)');
    let name = after.slice(0, end).trim();
    let value: string | undefined;
    let escapeNewlines = true;
    if (next.terminator === ')' || /\s/.test(name)) {
      const dictionary: Record<string, string> = {};
      for (const token of name.split(/\s+/)) {
        const found = lookup(token);
        if (found === undefined) unresolved.push(token);
        dictionary[token] = found ?? `<${token}>`;
      }
      value = JSON.stringify(dictionary);
    } else if (name.startsWith('<')) {
      const properties = sources.projectFile(name.slice(1).trim());
      const json = properties === undefined ? '{}' : JSON.stringify(properties);
      value = json === '{}' ? undefined : json;
    } else {
      if (name.startsWith('|')) {
        name = name.slice(1).trim();
        escapeNewlines = false;
      }
      value = lookup(name);
    }
    if (value === undefined) {
      unresolved.push(name);
      value = name.startsWith('<') && options.unresolvedFile !== undefined ? options.unresolvedFile : `<${name}>`;
    } else if (escapeNewlines) {
      value = value.split('\n').join('\\n');
    }
    content += rest.slice(0, next.index) + value;
    rest = after.slice(end + 1);
  }
  return { content: content + rest, unresolved };
}

function nextReference(text: string): { index: number; terminator: '}' | ')' } | undefined {
  const brace = text.indexOf('${');
  const paren = text.indexOf('$(');
  if (brace < 0 && paren < 0) return undefined;
  if (paren < 0 || (brace >= 0 && brace < paren)) return { index: brace, terminator: '}' };
  return { index: paren, terminator: ')' };
}

/** The deployer's own words for a failed substitution, so a local failure reads like the deploy's. */
export function unresolvedMessage(unresolved: string[]): string {
  return `The following substitutions could not be resolved: '${unresolved.join("', '")}' (missing or empty in the shell and in .env)`;
}

export interface LoadProjectOptions {
  /** Where `${…}` values come from; default: this process's environment and the root .env, as for a deploy. */
  sources?: SubstitutionSources;
  /** Shorthand for `envFileSources(rootDir, variables)`: deploy as if `.env` held exactly these. */
  variables?: Record<string, string>;
  /**
   * 'placeholder' reads the project's shape without any configuration (the build; tests of the
   * layout): unresolved references keep the deployer's `<name>` placeholder. Deploys and the
   * local platform use 'error'.
   */
  unresolved?: 'error' | 'placeholder';
}

export function loadProject(rootDir: string, options: LoadProjectOptions = {}): Project {
  const file = path.join(rootDir, 'project.yml');
  const text = readFileSync(file, 'utf8');
  const sources = options.sources ?? (options.variables === undefined ? deploySources(rootDir) : envFileSources(rootDir, options.variables));
  // Reading only the shape, a missing `.env` stands for an empty dictionary, so it still parses.
  const substituted = substituteLikeDeployer(text, sources, options.unresolved === 'placeholder' ? { unresolvedFile: '{}' } : {});
  if (substituted.unresolved.length > 0 && options.unresolved !== 'placeholder') {
    throw new ProjectError(`${file}: ${unresolvedMessage(substituted.unresolved)}`);
  }
  // The deployer checks for tabs after substitution, so a value with a tab fails the deploy too.
  if (substituted.content.includes('\t')) throw new ProjectError(`${file}: YAML configuration may not contain tabs (in project.yml or a substituted value)`);
  const parsed = projectSchema.safeParse(parseYaml(substituted.content));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ProjectError(`${file} is not a valid project:\n${issues.join('\n')}`);
  }
  return { rootDir, functions: describeFunctions(rootDir, parsed.data) };
}

function describeFunctions(rootDir: string, project: ProjectFile): FunctionSpec[] {
  const specs: FunctionSpec[] = [];
  for (const pkg of project.packages) {
    for (const fn of pkg.functions) {
      const directory = path.join(rootDir, 'packages', pkg.name, fn.name);
      specs.push({
        qualifiedName: `${pkg.name}/${fn.name}`,
        packageName: pkg.name,
        name: fn.name,
        runtime: fn.runtime ?? 'nodejs:default',
        main: fn.main ?? 'main',
        web: fn.web ?? pkg.web ?? true,
        annotations: { ...pkg.annotations, ...fn.annotations },
        environment: { ...project.environment, ...pkg.environment, ...fn.environment },
        parameters: { ...project.parameters, ...pkg.parameters, ...fn.parameters },
        timeoutMs: fn.limits?.timeout ?? platformDefaultTimeoutMs,
        memoryMb: fn.limits?.memory ?? platformDefaultMemoryMb,
        triggers: (fn.triggers ?? []).map(toScheduledTrigger),
        directory,
        includes: readIncludes(directory),
      });
    }
  }
  return specs;
}

function toScheduledTrigger(trigger: z.infer<typeof triggerSchema>): ScheduledTrigger {
  if ('sourceDetails' in trigger) {
    return { name: trigger.name, cron: trigger.sourceDetails.cron, enabled: trigger.enabled ?? true, body: trigger.sourceDetails.withBody ?? {} };
  }
  return { name: trigger.name, cron: trigger.scheduledDetails.cron, enabled: trigger.enabled ?? true, body: trigger.scheduledDetails.body ?? {} };
}

function readIncludes(directory: string): string[] {
  const file = path.join(directory, '.include');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The single bundled file a function ships: the one its `.include` names. */
export function bundlePath(fn: FunctionSpec): string {
  const [only, ...rest] = fn.includes;
  if (only === undefined || rest.length > 0) {
    throw new ProjectError(`${fn.directory}/.include must name exactly one bundled file (found ${fn.includes.length})`);
  }
  return path.join(fn.directory, only);
}
