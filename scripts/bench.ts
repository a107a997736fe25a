// `npm run bench [-- analyzers|system] [--size-mib N]`: speed and memory, measured — not asserted in
// tests. Prints markdown tables; the README's figures come from this script on the dev machine.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchAnalyzers } from '../bench/analyzers.js';
import { mebibyte, table } from '../bench/measure.js';
import { benchLatency, benchProcessing, benchUpload, startBenchPlatform } from '../bench/system.js';
import { buildProject, formatBytes } from '../src/local/build.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'size-mib': { type: 'string', default: '256' }, calls: { type: 'string', default: '200' } },
});
const sizeBytes = Number(values['size-mib']) * mebibyte;
const calls = Number(values.calls);
if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || !Number.isInteger(calls) || calls <= 0) {
  console.error('usage: npm run bench [-- analyzers|system] [--size-mib N] [--calls N]');
  process.exit(2);
}
const sections = positionals.length > 0 ? positionals : ['analyzers', 'system'];
const rootDir = new URL('..', import.meta.url).pathname;

console.log(`# Sluice benchmarks — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}\n`);

const built = await buildProject(rootDir);
console.log('## Bundles\n');
console.log(table(built.sort((a, b) => a.qualifiedName.localeCompare(b.qualifiedName)).map((fn) => ({ function: fn.qualifiedName, size: formatBytes(fn.bytes) }))));

if (sections.includes('analyzers')) {
  console.log(`\n## Analyzers (in process, ${sizeBytes / mebibyte} MiB each)\n`);
  console.log(table(await benchAnalyzers(sizeBytes)));
}

if (sections.includes('system')) {
  console.log('\n## The local platform\n');
  const { platform, startMs } = await startBenchPlatform({ MULTIPART_THRESHOLD_BYTES: String(64 * mebibyte) });
  try {
    console.log(`Start (fresh Postgres cluster, S3 server, runtime, page): ${(startMs / 1000).toFixed(1)} s\n`);
    console.log(table(await benchLatency(platform, calls)));
    console.log();
    console.log(table(await benchUpload(platform, sizeBytes)));
    console.log();
    const rows = [];
    for (const kind of ['csv', 'binary'] as const) {
      rows.push(await benchProcessing(platform, kind, sizeBytes));
      console.log(`  processing: ${kind} done`);
    }
    console.log(table(rows));
  } finally {
    await platform.stop();
  }
}
