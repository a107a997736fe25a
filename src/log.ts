// Structured log lines (one JSON object per line) on stdout/stderr: the Functions runtime keeps an
// activation's output with its record (`doctl serverless activations logs`), and JSON stays
// searchable there.
type Fields = Record<string, unknown>;

function line(level: 'info' | 'warn' | 'error', message: string, fields: Fields): string {
  return JSON.stringify({ level, message, ...fields });
}

export const log = {
  info(message: string, fields: Fields = {}): void {
    console.log(line('info', message, fields));
  },
  warn(message: string, fields: Fields = {}): void {
    console.warn(line('warn', message, fields));
  },
  error(message: string, fields: Fields = {}): void {
    console.error(line('error', message, fields));
  },
};

export function describeError(error: unknown): Fields {
  if (error instanceof Error) return { error: error.message, errorName: error.name, stack: error.stack };
  return { error: String(error) };
}
