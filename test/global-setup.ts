// Builds the function bundles once for the whole run: the tests drive the same files that
// `doctl serverless deploy` would ship.
import path from 'node:path';
import { buildProject } from '../src/local/build.js';

export default async function setup(): Promise<void> {
  await buildProject(path.resolve(import.meta.dirname, '..'));
}
