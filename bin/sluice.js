#!/usr/bin/env node
// The `sluice` bin (npx sluice, npm install -g): runs the TypeScript CLI in this process through
// tsx's loader, so a fresh clone needs no build step, and signals, the terminal and the exit code
// are this process's own (no child process to forward them to).
import { register } from 'tsx/esm/api';

register();
await import('../scripts/sluice.ts');
