// Writes one setting into `.env` (the access key `npm run deploy` creates), leaving every other
// byte of the file as it was: it is the person's file, with their comments and their layout.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';

/** Secrets live in `.env`: readable by its owner only. */
export const envFileMode = 0o600;

/** A value dotenv reads back unchanged without quotes: no spaces, quotes, `#`, `$` or backslashes. */
const plainValuePattern = /^[A-Za-z0-9_\-.:/+=@%,]*$/;

export class EnvFileError extends Error {
  override name = 'EnvFileError';
}

/**
 * Sets `name=value` in the file: the last line assigning `name` is replaced (dotenv, like the
 * deployer, lets the last assignment win), or a line is appended. Each candidate is checked by
 * reading it back with dotenv: `name` has the new value and every other setting is unchanged.
 * Written atomically (a temporary file renamed over it) with mode 0600.
 */
export function setEnvFileValue(file: string, name: string, value: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new EnvFileError(`${name} is not a variable name`);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const line = `${name}=${quoted(value)}`;
  const expected = JSON.stringify(sortedEntries({ ...parseDotenv(before), [name]: value }));
  const readsBack = (text: string) => JSON.stringify(sortedEntries(parseDotenv(text))) === expected;
  // In place when that reads back right; a "line" inside another value's quotes would not, and
  // then a line of its own at the end does.
  const candidates = [replaceLastAssignment(before, name, line), `${before}${before === '' || before.endsWith('\n') ? '' : '\n'}${line}\n`];
  const after = candidates.find((text): text is string => text !== undefined && readsBack(text));
  if (after === undefined) {
    throw new EnvFileError(`${file}: could not set ${name} without changing other settings (is a quoted value left open?); set it by hand`);
  }
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, after, { mode: envFileMode });
  chmodSync(temporary, envFileMode);
  renameSync(temporary, file);
}

function quoted(value: string): string {
  if (plainValuePattern.test(value)) return value;
  // Single quotes: dotenv takes what is inside literally (no escapes, no expansion).
  if (!value.includes("'") && !/[\r\n]/.test(value)) return `'${value}'`;
  throw new EnvFileError('the value has quotes or line breaks that a .env line cannot hold unchanged');
}

/** The text with the last `name=` line replaced by `line`, or undefined when no line assigns `name`. */
function replaceLastAssignment(text: string, name: string, line: string): string | undefined {
  const assignment = new RegExp(`^[ \\t]*(?:export[ \\t]+)?${name}[ \\t]*=.*$`, 'gm');
  let last: RegExpExecArray | undefined;
  for (let match = assignment.exec(text); match !== null; match = assignment.exec(text)) last = match;
  if (last === undefined) return undefined;
  // `.` stops before "\r", so a CRLF line ending stays as it was.
  return text.slice(0, last.index) + line + text.slice(last.index + last[0].length);
}

function sortedEntries(values: Record<string, string>): [string, string][] {
  return Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
}
