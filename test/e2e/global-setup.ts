// Builds what the browser tests drive: the function bundles (as `doctl serverless deploy` ships
// them) and the page (web/dist, as the static site serves it).
import path from 'node:path';
import { build as buildPage } from 'vite';
import { buildProject } from '../../src/local/build.js';

export default async function setup(): Promise<void> {
  const rootDir = path.resolve(import.meta.dirname, '../..');
  await Promise.all([buildProject(rootDir), buildPage({ configFile: path.join(rootDir, 'vite.config.ts'), logLevel: 'warn' })]);
}
