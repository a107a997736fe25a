// `npm run deploy` and its single steps (`setup:bucket`, `deploy:functions`, `deploy:page`,
// `smoke`): src/deploy/deploy.ts does the work; this reads the command line and sets the exit code.
import path from 'node:path';
import { parseDeployArguments, usage } from '../src/deploy/cli.js';
import { runDeploy } from '../src/deploy/deploy.js';

const rootDir = path.resolve(import.meta.dirname, '..');
const parsed = parseDeployArguments(process.argv.slice(2));

if (parsed.kind === 'help') {
  console.log(usage);
} else if (parsed.kind === 'usage-error') {
  console.error(`deploy: ${parsed.message}\n\n${usage}`);
  process.exitCode = 2;
} else {
  const { target, dryRun, appSpec } = parsed;
  const ok = await runDeploy({ rootDir, target, dryRun, appSpec, environment: process.env, write: (line) => console.log(line) });
  process.exitCode = ok ? 0 : 1;
}
