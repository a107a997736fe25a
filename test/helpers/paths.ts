import path from 'node:path';

/** The repository root: project.yml, packages/, web/. */
export const rootDir = path.resolve(import.meta.dirname, '../..');
