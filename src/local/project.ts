// Reads project.yml the way `doctl serverless deploy` does: `${VAR}` replaced textually from the
// environment, else the root .env (an unresolved one is an error), then parsed and checked against
// the deployer's rules (PLATFORM-FACTS.md "project.yml"). The local platform and the build both
// start here, so what runs locally is what would deploy.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
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

/** Parses a `.env` file: KEY=value lines, `#` comments, optional single or double quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, key, value = ''] = match as unknown as [string, string, string];
    const quoted = /^(['"])(.*)\1$/.exec(value);
    env[key] = quoted ? (quoted[2] ?? '') : value.replace(/\s+#.*$/, '');
  }
  return env;
}

export function readEnvFile(file: string): Record<string, string> {
  return existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8')) : {};
}

/**
 * Replaces every `${VAR}` textually, as the deployer does. The YAML is parsed afterwards, so a
 * value is inserted raw: that is why project.yml quotes them. Values are escaped for a
 * double-quoted YAML scalar so a secret with `"` or `\` in it cannot break the file.
 */
export function substituteVariables(
  text: string,
  variables: Record<string, string | undefined>,
  unresolved: 'error' | 'empty' = 'error',
): string {
  const missing = new Set<string>();
  const result = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_whole, name: string) => {
    const value = variables[name];
    if (value === undefined) {
      missing.add(name);
      return '';
    }
    return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  });
  if (missing.size > 0 && unresolved === 'error') {
    throw new ProjectError(
      `project.yml uses ${[...missing].map((name) => `\${${name}}`).join(', ')} but ${missing.size === 1 ? 'it is' : 'they are'} not set in the environment or .env`,
    );
  }
  return result;
}

export interface LoadProjectOptions {
  /** Values for `${VAR}`; defaults to the root .env overlaid with process.env (the shell wins, as with doctl). */
  variables?: Record<string, string | undefined>;
  /** 'empty' lets the build read the project without any configuration; deploys and the platform use 'error'. */
  unresolved?: 'error' | 'empty';
}

export function loadProject(rootDir: string, options: LoadProjectOptions = {}): Project {
  const file = path.join(rootDir, 'project.yml');
  const text = readFileSync(file, 'utf8');
  if (text.includes('\t')) throw new ProjectError(`${file} contains a tab character; the deployer rejects tabs`);
  const variables = options.variables ?? { ...readEnvFile(path.join(rootDir, '.env')), ...process.env };
  const parsed = projectSchema.safeParse(parseYaml(substituteVariables(text, variables, options.unresolved)));
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
