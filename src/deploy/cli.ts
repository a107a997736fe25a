// The command line of scripts/deploy.ts: `[<step>] [--dry-run] [--app-spec]`, parsed with
// node:util parseArgs. The npm scripts name the steps (package.json).
import { parseArgs } from 'node:util';
import { deployTargets, type DeployTarget } from './deploy.js';

export const usage = `Usage:
  npm run deploy              settings, doctl, access key, migrations, bucket, functions, page, smoke
  npm run setup:bucket        make the bucket private, set its CORS and lifecycle rules
  npm run deploy:functions    build the bundles and run doctl serverless deploy .
  npm run deploy:page         build web/dist with the deployed API base
  npm run smoke               check the deployment answers (limits, CORS, access key)
  npm run migrate             apply the database migrations
Options (after --, e.g. npm run deploy -- --dry-run):
  --dry-run    check everything that can be checked without changing anything, and print the plan
  --app-spec   (deploy, deploy:page) also write SLUICE_API_BASE into .do/app.yaml
  --help       this text
Exit status: 0 done, 1 a step failed, 2 usage error.`;

export type ParsedArguments =
  | { kind: 'run'; target: DeployTarget; dryRun: boolean; appSpec: boolean }
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string };

export function parseDeployArguments(argv: readonly string[]): ParsedArguments {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { 'dry-run': { type: 'boolean', default: false }, 'app-spec': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return { kind: 'usage-error', message: error instanceof Error ? error.message : String(error) };
  }
  if (parsed.values.help) return { kind: 'help' };
  const [step = 'all', ...extra] = parsed.positionals;
  if (extra.length > 0) return { kind: 'usage-error', message: `one step at a time (got ${parsed.positionals.join(', ')})` };
  const target = deployTargets.find((candidate) => candidate === step);
  if (target === undefined) return { kind: 'usage-error', message: `unknown step "${step}" (one of ${deployTargets.join(', ')})` };
  const appSpec = parsed.values['app-spec'];
  if (appSpec && target !== 'all' && target !== 'page') return { kind: 'usage-error', message: '--app-spec goes with deploy or deploy:page' };
  return { kind: 'run', target, dryRun: parsed.values['dry-run'], appSpec };
}
