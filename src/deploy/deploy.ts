// `npm run deploy`: from a clone with a filled-in `.env` and a connected doctl to a working
// deployment, in order:
//   settings → doctl → access key → migrations → bucket → functions → page → smoke
// The first two only look (and both always run, so every problem shows at once); nothing is
// changed unless both pass. `--dry-run` runs every step's checks and read-only doctl commands and
// says what the step would do; it creates no key, contacts neither Postgres nor Spaces, and
// deploys nothing. Each later step also runs alone (`npm run setup:bucket`, `deploy:functions`,
// `deploy:page`, `smoke`) with the checks it needs.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { S3ServiceException } from '@aws-sdk/client-s3';
import {
  checkDeploymentSettings,
  ConfigError,
  corsMaxAgeSeconds,
  loadCorsConfig,
  loadDatabaseConfig,
  loadSpacesConfig,
  requiredSettings,
} from '../config.js';
import { defaultMigrationsDirectory, migrate } from '../db/migrate.js';
import { buildProject, formatBytes } from '../local/build.js';
import { deploySources, loadProject, ProjectError, readEnvFile } from '../local/project.js';
import { abortIncompleteUploadsAfterDays, bucketCorsMethods, configureBucket, createBucketStorage } from '../storage/bucket-setup.js';
import { createAccessKey, dispatchKeyName, planAccessKey, type ConfiguredKey } from './access-key.js';
import {
  createDoctl,
  DoctlMissingError,
  doctlDeployTimeoutMs,
  doctlErrorOf,
  doctlInstallHint,
  isNotAuthenticated,
  parseAccount,
  parseFunctionUrl,
  parseServerlessStatus,
  serverlessProblemOf,
  type ConnectedNamespace,
  type Doctl,
} from './doctl.js';
import { setEnvFileValue } from './env-file.js';
import { apiBaseOf, apiBaseVariable, buildPage, functionUrlArgs, urlFunctionName, writeAppSpecApiBase } from './page.js';
import { createReporter, StepFailure, type Reporter } from './report.js';
import { runSmokeChecks } from './smoke.js';

/** What a command runs: everything, or one step with the checks it needs. */
export const deployTargets = ['all', 'bucket', 'functions', 'page', 'smoke'] as const;
export type DeployTarget = (typeof deployTargets)[number];

export interface DeployOptions {
  rootDir: string;
  target: DeployTarget;
  dryRun: boolean;
  /** Also write the API base into .do/app.yaml (steps that build the page). */
  appSpec: boolean;
  /** The shell's environment: it wins over `.env` (as for doctl), and its PATH finds doctl. */
  environment: Record<string, string | undefined>;
  write: (line: string) => void;
  /**
   * How the settings are judged before anything runs (default: checkDeploymentSettings). Tests
   * that deploy onto the local stand-ins, which speak plain http and Postgres without TLS, pass
   * their own; every step still parses what it uses with src/config.ts.
   */
  checkSettings?: (env: Record<string, string | undefined>, options: { ignore: readonly string[] }) => string[];
}

const deployCommand = 'doctl serverless deploy .';
const accessKeyVariable = 'FUNCTIONS_ACCESS_KEY';
/** What stands in for the key in a dry run's project check when the deploy would create it. */
const pendingKeyPlaceholder = '<created by npm run deploy>';
const envFileHint = '.env.example says what each takes';

interface Context {
  options: DeployOptions;
  report: Reporter;
  envFile: string;
  /** `.env` overlaid with the shell's non-empty values: what the deploy substitutes (deployer: `process.env[v] || props[v]`). */
  env: Record<string, string | undefined>;
  doctl: Doctl;
  namespace?: ConnectedNamespace;
  /** FUNCTIONS_ACCESS_KEY as it will be deployed; undefined in a dry run that would create it. */
  accessKey?: string;
  keyPending?: boolean;
  functionUrl?: URL;
  apiBase?: string;
}

interface Step {
  name: string;
  /** Looks only; every preflight step runs before anything is changed. */
  preflight: boolean;
  run(context: Context): Promise<string>;
}

const stepsByTarget: Record<DeployTarget, readonly Step[]> = {
  all: [settingsStep(['FUNCTIONS_ACCESS_KEY']), doctlStep(), accessKeyStep(), migrationsStep(), bucketStep(), functionsStep(), pageStep(), smokeStep()],
  bucket: [bucketStep()],
  functions: [settingsStep([]), doctlStep(), functionsStep()],
  page: [doctlStep(), pageStep()],
  smoke: [doctlStep(), smokeStep()],
};

/** Runs the target's steps; true when every one passed. */
export async function runDeploy(options: DeployOptions): Promise<boolean> {
  const report = createReporter(options.write);
  const envFile = path.join(options.rootDir, '.env');
  const context: Context = {
    options,
    report,
    envFile,
    env: deploymentSettings(readEnvFile(envFile), options.environment),
    doctl: createDoctl({ cwd: options.rootDir, environment: options.environment }),
  };
  report.line(`${options.target === 'all' ? 'Deploying' : `Running "${options.target}" for`} ${options.rootDir}${options.dryRun ? ' (dry run: nothing will be changed)' : ''}`);

  const steps = stepsByTarget[options.target];
  let failedAt: string | undefined;
  for (const step of steps) {
    if (failedAt !== undefined && !step.preflight) break;
    try {
      report.ok(step.name, await step.run(context));
    } catch (error) {
      report.failed(step.name, asStepFailure(error));
      failedAt ??= step.name;
    }
  }

  if (failedAt !== undefined) {
    report.line(`Stopped at "${failedAt}"${options.dryRun ? '' : '; the steps after it did not run'}. Fix what it says and run the command again.`);
    return false;
  }
  if (options.dryRun) {
    report.line(`Dry run: nothing was changed. Run the same command without --dry-run to do the steps above.`);
  } else if (context.apiBase !== undefined && context.functionUrl !== undefined && options.target === 'all') {
    report.line('Deployed.');
    report.line(`  API base (${apiBaseVariable}): ${context.apiBase}`);
    report.line(`  ${urlFunctionName}: ${context.functionUrl.href}`);
    report.line(
      options.appSpec
        ? '  Page: web/dist/ is built; .do/app.yaml has the API base: commit it, then `doctl apps create --spec .do/app.yaml` (or `doctl apps update <app id> --spec .do/app.yaml`)'
        : '  Page: web/dist/ is built; publish it, or for App Platform run `npm run deploy:page -- --app-spec` and `doctl apps create --spec .do/app.yaml`',
    );
  }
  return true;
}

/** `.env`, then the shell's non-empty values over it: an empty shell variable does not hide a `.env` line, as with doctl. */
export function deploymentSettings(envFile: Record<string, string>, shell: Record<string, string | undefined>): Record<string, string | undefined> {
  const settings: Record<string, string | undefined> = { ...envFile };
  for (const [name, value] of Object.entries(shell)) if (value) settings[name] = value;
  return settings;
}

/** "1 day", "2 days". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function asStepFailure(error: unknown): StepFailure {
  if (error instanceof StepFailure) return error;
  if (error instanceof ConfigError) return new StepFailure(error.message, `fix it in .env (${envFileHint})`);
  if (error instanceof DoctlMissingError) return new StepFailure(error.message, doctlInstallHint);
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const stack = error instanceof Error && error.stack ? error.stack.split('\n').slice(1, 6).map((line) => line.trim()) : [];
  return new StepFailure(message, 'an unexpected error (details below); report it with this output', stack);
}

// ---- settings ---------------------------------------------------------------------------------

function settingsStep(ignore: readonly string[]): Step {
  return {
    name: 'settings',
    preflight: true,
    async run(context) {
      if (!existsSync(context.envFile)) {
        throw new StepFailure(`${context.envFile} does not exist`, 'cp .env.example .env and fill in the required lines (README "Deploying to DigitalOcean")');
      }
      const check = context.options.checkSettings ?? checkDeploymentSettings;
      const problems = check(context.env, { ignore });
      if (problems.length > 0) {
        throw new StepFailure(
          `${count(problems.length, 'setting')} to fix (below)`,
          `fix ${problems.length === 1 ? 'it' : 'them'} in .env (${envFileHint}), then run the command again`,
          problems,
        );
      }
      const checked = requiredSettings.filter((name) => !ignore.includes(name));
      return `.env has all ${checked.length} required settings, and they parse`;
    },
  };
}

// ---- doctl --------------------------------------------------------------------------------------

function doctlStep(): Step {
  return {
    name: 'doctl',
    preflight: true,
    async run(context) {
      const account = await context.doctl.run(['account', 'get', '--output', 'json']);
      if (account.code !== 0) {
        const message = doctlErrorOf(account);
        if (isNotAuthenticated(message)) {
          throw new StepFailure(`doctl is not authenticated (${message})`, 'run `doctl auth init` with an API token that may manage Functions (scope function:admin)');
        }
        throw new StepFailure(`doctl account get failed: ${message}`, 'check `doctl auth list` and your network, then run the command again');
      }
      const status = await context.doctl.run(['serverless', 'status']);
      if (status.code !== 0) {
        const message = doctlErrorOf(status);
        switch (serverlessProblemOf(message)) {
          case 'not-installed':
            throw new StepFailure('doctl has no serverless support installed', 'run `doctl serverless install`');
          case 'needs-upgrade':
            throw new StepFailure('doctl\'s serverless support is older than doctl needs', 'run `doctl serverless upgrade`');
          case 'not-connected':
            throw new StepFailure(
              'doctl is not connected to a functions namespace',
              'run `doctl serverless connect` (no namespace yet? `doctl serverless namespaces create --label sluice --region <region>` first)',
            );
          default:
            throw new StepFailure(`doctl serverless status failed: ${message}`, 'run `doctl serverless status` to see why');
        }
      }
      const namespace = parseServerlessStatus(status.stdout);
      if (namespace === undefined) {
        throw new StepFailure('doctl serverless status did not name a connected namespace', 'run `doctl serverless connect`, then `doctl serverless status`');
      }
      context.namespace = namespace;
      const who = parseAccount(account.stdout);
      const identity = who?.email ? `authenticated as ${who.email}${who.team?.name ? ` (team ${who.team.name})` : ''}` : 'authenticated';
      return `${identity}; connected to namespace ${namespace.namespace} on ${namespace.apiHost}`;
    },
  };
}

// ---- access key ---------------------------------------------------------------------------------

function accessKeyStep(): Step {
  return {
    name: 'access key',
    preflight: false,
    async run(context) {
      const shellValue = context.options.environment[accessKeyVariable];
      const fileValue = readEnvFile(context.envFile)[accessKeyVariable];
      const configured: ConfiguredKey | undefined = shellValue ? { value: shellValue, source: 'shell' } : fileValue ? { value: fileValue, source: '.env' } : undefined;
      const plan = await planAccessKey(context.doctl, configured);
      if (plan.kind === 'reuse') {
        context.accessKey = plan.value;
        return `reusing ${plan.id} (${plan.source === 'shell' ? 'from the shell environment' : 'from .env'}), which the namespace lists`;
      }
      for (const key of plan.unusedKeys) {
        context.report.detail(`note: key ${key.id} is also named ${dispatchKeyName} and is not the one in .env; if nothing uses it, \`doctl serverless key delete ${key.id}\``);
      }
      if (context.options.dryRun) {
        context.keyPending = true;
        return `would create key "${dispatchKeyName}" (${plan.reason}) with \`doctl serverless key create --name ${dispatchKeyName} --expiration never\` and write ${accessKeyVariable} to .env`;
      }
      const created = await createAccessKey(context.doctl);
      setEnvFileValue(context.envFile, accessKeyVariable, created.value);
      context.accessKey = created.value;
      context.env[accessKeyVariable] = created.value;
      return `created ${created.id} (${plan.reason}); ${accessKeyVariable} written to .env`;
    },
  };
}

// ---- migrations ---------------------------------------------------------------------------------

function migrationsStep(): Step {
  return {
    name: 'migrations',
    preflight: false,
    async run(context) {
      const database = loadDatabaseConfig(context.env);
      const target = describeDatabase(database.url);
      if (context.options.dryRun) {
        const files = readdirSync(defaultMigrationsDirectory).filter((name) => name.endsWith('.sql')).sort();
        return `would apply whichever of the ${files.length} migrations (${files[0] ?? '-'} … ${files.at(-1) ?? '-'}) ${target} lacks (not contacted in a dry run)`;
      }
      let applied: string[];
      try {
        applied = await migrate(database.url, { caCert: database.caCert });
      } catch (error) {
        throw new StepFailure(
          `could not migrate ${target}: ${error instanceof Error ? error.message : String(error)}`,
          "check DATABASE_URL and DATABASE_CA_CERT, and that the cluster's trusted sources admit this machine; then run npm run migrate",
        );
      }
      return applied.length > 0 ? `applied ${applied.length} to ${target}: ${applied.join(', ')}` : `${target} is up to date`;
    },
  };
}

function describeDatabase(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname}`;
}

// ---- bucket -------------------------------------------------------------------------------------

function bucketStep(): Step {
  return {
    name: 'bucket',
    preflight: false,
    async run(context) {
      const spaces = loadSpacesConfig(context.env);
      const { allowedOrigins } = loadCorsConfig(context.env);
      if (allowedOrigins.length === 0) {
        throw new StepFailure('ALLOWED_ORIGINS is empty, so no browser could upload to the bucket', `set it to the page's origin in .env (${envFileHint})`);
      }
      const where = `${spaces.bucket} at ${spaces.endpoint}`;
      const origins = allowedOrigins.join(', ');
      if (context.options.dryRun) {
        return (
          `would make ${where} private, allow ${bucketCorsMethods.join('/')} from ${origins} (ETag exposed, preflights cached ${corsMaxAgeSeconds} s), ` +
          `and abort incomplete multipart uploads after ${count(abortIncompleteUploadsAfterDays, 'day')}, keeping other lifecycle rules (not contacted in a dry run)`
        );
      }
      const storage = createBucketStorage(spaces);
      try {
        const result = await configureBucket(storage, { allowedOrigins });
        const kept = result.otherLifecycleRules > 0 ? `; ${count(result.otherLifecycleRules, 'other lifecycle rule')} kept` : '';
        return `${where}: private (${result.acl}), CORS for ${origins} (${result.cors}), abort after ${count(abortIncompleteUploadsAfterDays, 'day')} (${result.lifecycle})${kept}`;
      } catch (error) {
        const reason = error instanceof S3ServiceException ? `${error.name} (${error.$metadata.httpStatusCode ?? '?'}): ${error.message}` : error instanceof Error ? error.message : String(error);
        throw new StepFailure(
          `could not configure ${where}: ${reason}`,
          'check SPACES_ENDPOINT and SPACES_BUCKET, and that the SPACES_KEY pair may manage this bucket; then run npm run setup:bucket',
        );
      } finally {
        storage.client.destroy();
      }
    },
  };
}

// ---- functions ----------------------------------------------------------------------------------

function functionsStep(): Step {
  return {
    name: 'functions',
    preflight: false,
    async run(context) {
      const { rootDir, environment, dryRun } = context.options;
      // What the deployer will substitute, checked the way it does before anything is built.
      const overlay = context.keyPending ? { [accessKeyVariable]: pendingKeyPlaceholder } : {};
      let functionCount: number;
      try {
        const sources = { ...deploySources(rootDir), environment: { ...environment, ...overlay }, envFile: readEnvFile(context.envFile) };
        functionCount = loadProject(rootDir, { sources }).functions.length;
      } catch (error) {
        if (!(error instanceof ProjectError)) throw error;
        throw new StepFailure(error.message, 'fix .env (or project.yml), then run npm run deploy:functions');
      }
      const namespace = context.namespace?.namespace ?? 'the connected namespace';
      if (dryRun) return `would build ${functionCount} functions and run \`${deployCommand}\` to ${namespace} (project.yml resolves as the deployer will)`;

      const built = await buildProject(rootDir);
      context.report.detail(`built ${built.length} bundles, ${formatBytes(built.reduce((sum, fn) => sum + fn.bytes, 0))} in all`);
      context.report.detail(`$ ${deployCommand}`);
      const result = await context.doctl.run(['serverless', 'deploy', '.'], { timeoutMs: doctlDeployTimeoutMs, onLine: (line) => context.report.detail(`│ ${line}`) });
      if (result.code !== 0) {
        throw new StepFailure(`${deployCommand} failed (exit ${result.code}): ${doctlErrorOf(result)}`, 'read its output above, fix the cause, then run npm run deploy:functions');
      }
      return `deployed ${built.length} functions to ${namespace}`;
    },
  };
}

// ---- page ---------------------------------------------------------------------------------------

/** The deployed API base, read back from doctl; remembered for the steps after. */
async function readApiBase(context: Context): Promise<{ url: URL; apiBase: string }> {
  if (context.functionUrl !== undefined && context.apiBase !== undefined) return { url: context.functionUrl, apiBase: context.apiBase };
  const result = await context.doctl.run(functionUrlArgs);
  if (result.code !== 0) {
    throw new StepFailure(`doctl ${functionUrlArgs.join(' ')} failed: ${doctlErrorOf(result)}`, 'deploy the functions first: npm run deploy:functions');
  }
  const url = parseFunctionUrl(result.stdout);
  if (url === undefined) throw new StepFailure(`doctl ${functionUrlArgs.join(' ')} printed no URL`, 'run it yourself to see what it says');
  context.functionUrl = url;
  context.apiBase = apiBaseOf(url);
  return { url, apiBase: context.apiBase };
}

function pageStep(): Step {
  return {
    name: 'page',
    preflight: false,
    async run(context) {
      const { rootDir, dryRun, appSpec, environment } = context.options;
      const specFile = path.join(rootDir, '.do', 'app.yaml');
      if (dryRun) {
        const spec = appSpec ? ` and set ${apiBaseVariable} in .do/app.yaml` : '';
        if (context.options.target === 'all') return `would read the API base with \`doctl ${functionUrlArgs.join(' ')}\` after the deploy and build web/dist with it${spec}`;
        const { apiBase } = await readApiBase(context);
        return `would build web/dist with ${apiBaseVariable}=${apiBase}${spec}`;
      }
      const { apiBase } = await readApiBase(context);
      await buildPage(rootDir, apiBase, environment);
      const spec = appSpec ? `; .do/app.yaml ${apiBaseVariable} ${writeAppSpecApiBase(specFile, apiBase)}` : '';
      return `web/dist built with ${apiBaseVariable}=${apiBase}${spec}`;
    },
  };
}

// ---- smoke --------------------------------------------------------------------------------------

function smokeStep(): Step {
  return {
    name: 'smoke',
    preflight: false,
    async run(context) {
      const { allowedOrigins } = loadCorsConfig(context.env);
      if (context.options.dryRun) {
        return `would GET presign/limits, send a CORS preflight from ${allowedOrigins[0] ?? '(no origin)'}, and invoke process/sweep {"dryRun": true} with ${accessKeyVariable}`;
      }
      const accessKey = context.accessKey ?? context.env[accessKeyVariable];
      if (!accessKey) throw new StepFailure(`${accessKeyVariable} is not set`, 'run npm run deploy (it creates the key and writes it to .env)');
      const { apiBase } = await readApiBase(context);
      const checks = await runSmokeChecks({ apiBase, allowedOrigins, accessKey });
      const failed = checks.filter((check) => !check.ok);
      if (failed.length > 0) {
        throw new StepFailure(
          `${failed.length} of ${checks.length} checks failed (below)`,
          failed[0]?.fix ?? 'see below',
          checks.map((check) => `${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}${check.fix ? ` → ${check.fix}` : ''}`),
        );
      }
      return checks.map((check) => check.detail).join('; ');
    },
  };
}
