// Running `sluice` as a person does: the real bin (bin/sluice.js, through tsx's loader) in a child
// process, with its own environment, working directory and streams, against a local platform that
// it finds the way it finds `npm run dev`: a state file in the data dir (src/local/dev-state.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeDevState } from '../../src/local/dev-state.js';
import type { Platform } from '../../src/local/platform.js';
import { rootDir } from '../helpers/paths.js';

export const binPath = path.join(rootDir, 'bin/sluice.js');

export interface Run {
  stdout: string;
  stderr: string;
  /** The exit code; null when a signal ended the process. */
  code: number | null;
}

export interface RunOptions {
  cwd?: string;
  /** Added to a clean environment: PATH and HOME only, so nothing from the shell running the tests leaks in. */
  env?: Record<string, string>;
}

/** The environment a CLI run starts from: no SLUICE_*, DATABASE_URL or npm variables of the test runner's. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
}

export interface Started {
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  pid: number;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<Run>;
}

export function start(args: readonly string[], options: RunOptions = {}): Started {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: options.cwd ?? rootDir,
    env: { ...baseEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Run>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ stdout, stderr, code }));
  });
  return { stdout: () => stdout, stderr: () => stderr, pid: child.pid ?? 0, kill: (signal) => child.kill(signal), exited };
}

export function sluice(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  return start(args, options).exited;
}

/** Polls until `check` returns a value, or fails after `timeoutMs` saying what it waited for. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A data dir holding the platform's state file, as `npm run dev` leaves it: the CLI finds the platform through SLUICE_DATA_DIR. */
export function announce(platform: Platform): { env: Record<string, string>; dataDir: string; remove(): void } {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-state-'));
  writeDevState(dataDir, platform);
  return { env: { SLUICE_DATA_DIR: dataDir }, dataDir, remove: () => rmSync(dataDir, { recursive: true, force: true }) };
}

export function scratchDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `sluice-cli-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
