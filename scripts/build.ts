// `npm run build`: one bundle per function in project.yml, sizes reported.
import path from 'node:path';
import { buildProject, formatBytes } from '../src/local/build.js';

const rootDir = path.resolve(import.meta.dirname, '..');
const started = performance.now();
const built = await buildProject(rootDir);
const width = Math.max(...built.map((fn) => fn.qualifiedName.length));
for (const fn of built.sort((a, b) => a.qualifiedName.localeCompare(b.qualifiedName))) {
  console.log(`  ${fn.qualifiedName.padEnd(width)}  ${formatBytes(fn.bytes).padStart(10)}  ${path.relative(rootDir, fn.bundle)}  (${fn.buildId})`);
}
console.log(`built ${built.length} functions in ${Math.round(performance.now() - started)} ms`);
