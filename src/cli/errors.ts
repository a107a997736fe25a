// How `sluice` ends: one exit code per kind of outcome, and one error type whose message is the
// whole line a person reads (what went wrong, with the path or URL, then what to do).

export const exitCodes = {
  ok: 0,
  /** A file failed, was rejected or refused, or a command could not do its work. */
  failed: 1,
  /** The command line was wrong or something it needs is not configured: nothing was attempted. */
  usage: 2,
  /** Ctrl-C (128 + SIGINT, what shells report for a process killed by it). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode = exitCodes.failed,
    /** A stable code for --json output (the API's code when the API refused). */
    readonly code: string = exitCode === exitCodes.usage ? 'USAGE' : 'FAILED',
  ) {
    super(message);
  }
}

/** A wrong or incomplete command line: exit 2. */
export function usageError(message: string, code = 'USAGE'): CliError {
  return new CliError(message, exitCodes.usage, code);
}
