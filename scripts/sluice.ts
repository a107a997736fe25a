// `npm run sluice -- upload <file…>` and `npm run sluice -- status <jobId> <token>`: the typed client
// from a terminal. Uploads show progress, then wait for processing and print what it found.
import { openAsBlob } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, isSluiceApiError, uploadFile, waitForJob, type JobView, type SluiceClient } from '../src/client/index.js';
import { localNamespace, devPorts } from '../src/local/local-env.js';

const usage = `usage:
  npm run sluice -- upload <file…> [--type <content type>] [--no-wait]
  npm run sluice -- status <jobId> <token>

  --api <url>   web functions base (default: $SLUICE_API_BASE, else npm run dev's)
  --key <key>   API key (default: $SLUICE_API_KEY), needed when anonymous uploads are off`;

/** Common types by extension; anything else is sent as application/octet-stream. */
const typesByExtension: Record<string, string> = {
  '.csv': 'text/csv',
  '.tsv': 'text/tab-separated-values',
  '.txt': 'text/plain',
  '.md': 'text/plain',
  '.log': 'text/plain',
  '.json': 'application/json',
  '.ndjson': 'application/x-ndjson',
  '.jsonl': 'application/x-ndjson',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    api: { type: 'string', default: process.env.SLUICE_API_BASE ?? `http://127.0.0.1:${devPorts.functions}/api/v1/web/${localNamespace}` },
    key: { type: 'string', default: process.env.SLUICE_API_KEY },
    type: { type: 'string' },
    'no-wait': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const [command, ...args] = positionals;
const client = createClient({ apiBase: values.api, ...(values.key ? { apiKey: values.key } : {}) });
const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('cancelled')));

try {
  if (values.help || command === undefined) {
    console.log(usage);
  } else if (command === 'upload' && args.length > 0) {
    let failures = 0;
    for (const file of args) failures += (await uploadOne(client, file)) ? 0 : 1;
    process.exitCode = failures === 0 ? 0 : 1;
  } else if (command === 'status' && args.length === 2) {
    const { job } = await client.status({ jobId: args[0] ?? '', token: args[1] ?? '' });
    printJob(job);
  } else {
    console.error(usage);
    process.exitCode = 2;
  }
} catch (error) {
  console.error(describeFailure(error));
  process.exitCode = 1;
}

async function uploadOne(client: SluiceClient, file: string): Promise<boolean> {
  const name = path.basename(file);
  const contentType = values.type ?? typesByExtension[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const progress = progressLine(name);
  try {
    const blob = await openAsBlob(file);
    const uploaded = await uploadFile(client, blob, {
      filename: name,
      contentType,
      signal: controller.signal,
      onProgress: ({ bytesSent, bytesTotal }) => progress.update(bytesSent, bytesTotal),
    });
    progress.done(`uploaded, job ${uploaded.jobId}`);
    console.log(`  resume or check later: npm run sluice -- status ${uploaded.jobId} ${uploaded.token}`);
    if (values['no-wait']) return true;
    let last = '';
    const job = await waitForJob(client, uploaded.jobId, uploaded.token, {
      signal: controller.signal,
      intervalMs: 500,
      onJob: (view) => {
        if (view.status !== last) console.log(`  ${(last = view.status)}${view.attempts > 0 ? ` (attempt ${view.attempts} of ${view.maxAttempts})` : ''}`);
      },
    });
    printJob(job);
    return job.status === 'succeeded';
  } catch (error) {
    progress.done('failed');
    console.error(`  ${describeFailure(error)}`);
    return false;
  }
}

/** One line that redraws itself on a terminal; plain lines elsewhere (CI logs, pipes). */
function progressLine(name: string) {
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  const width = 24;
  return {
    update(sent: number, total: number) {
      const fraction = total === 0 ? 1 : sent / total;
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? sent / seconds : 0;
      const bar = '█'.repeat(Math.round(fraction * width)).padEnd(width, '░');
      const line = `${name}  ${bar} ${(fraction * 100).toFixed(0).padStart(3)}%  ${megabytes(sent)}/${megabytes(total)} MB  ${megabytes(rate)} MB/s`;
      if (tty) process.stderr.write(`\r${line}`);
      else if (sent === 0 || sent === total) console.error(line);
    },
    done(message: string) {
      if (tty) process.stderr.write('\n');
      console.log(`${name}: ${message} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    },
  };
}

function megabytes(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1);
}

function printJob(job: JobView): void {
  console.log(`${job.filename}: ${job.status}${job.buildId ? ` (build ${job.buildId})` : ''}`);
  if (job.error) console.log(`  ${job.error.code}: ${job.error.message}`);
  if (job.result) console.log(JSON.stringify(job.result, null, 2).replace(/^/gm, '  '));
}

function describeFailure(error: unknown): string {
  if (isSluiceApiError(error)) return `${error.code} (${error.status}): ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
