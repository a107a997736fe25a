// What every command is handed: where it runs, what it may talk to, where it writes, and the
// signal that Ctrl-C aborts.
import type { Sources } from './target.js';

export type OutputStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface CliContext {
  sources: Sources;
  /** The directory relative paths are resolved against (userDirectory in target.ts). */
  cwd: string;
  /** Machine output with --json, results otherwise. */
  stdout: OutputStream;
  /** Everything for people: progress, notes, errors. */
  stderr: OutputStream;
  /** Aborted by Ctrl-C. */
  signal: AbortSignal;
}

/** Prints one line for people (stderr). */
export function say(context: Pick<CliContext, 'stderr'>, line: string): void {
  context.stderr.write(`${line}\n`);
}

/** Prints one line of a command's result (stdout). */
export function tell(context: Pick<CliContext, 'stdout'>, line: string): void {
  context.stdout.write(`${line}\n`);
}

/** Writes the one JSON document of --json (stdout). */
export function printJson(context: Pick<CliContext, 'stdout'>, value: unknown): void {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
