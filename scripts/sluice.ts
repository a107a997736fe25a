// `sluice` (bin/sluice.js, `npx sluice`, `npm run sluice --`): the command line of src/cli/. This
// file only wires it to the process: arguments, streams, Ctrl-C and the exit code.
import path from 'node:path';
import { exitCodes } from '../src/cli/errors.js';
import { runCli } from '../src/cli/main.js';

const rootDir = path.resolve(import.meta.dirname, '..');
const controller = new AbortController();

// First Ctrl-C: cancel cleanly (uploads under way are aborted through presign/abort). Second: quit now.
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(exitCodes.interrupted);
  process.stderr.write('\nsluice: cancelling (Ctrl-C again to quit at once)\n');
  controller.abort(new Error('cancelled (Ctrl-C)'));
});

// The AWS SDK (jobs cancel) warns on Node 20 that its releases from 2027 on need Node 22: nothing a
// user of this command can act on, printed in the middle of its output. The functions run on 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// stdout carries only the command's output (one JSON document with --json). The core logs with
// console.log (src/log.ts, JSON lines for the function logs): here those lines go to stderr.
console.log = console.error;
console.info = console.error;

process.exitCode = await runCli(process.argv.slice(2), {
  rootDir,
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
