// Writing FUNCTIONS_ACCESS_KEY into a person's .env (src/deploy/env-file.ts): the one line
// changes or is appended, every other byte stays, the file ends up 0600, and a file it cannot
// change safely is left alone with a message.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvFileError, setEnvFileValue } from '../../src/deploy/env-file.js';

let directory: string;
let counter = 0;

beforeAll(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sluice-env-file-'));
});
afterAll(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

function envFile(text: string | undefined, mode = 0o644): string {
  counter += 1;
  const file = path.join(directory, `env-${counter}`);
  if (text !== undefined) writeFileSync(file, text, { mode });
  return file;
}

const key = 'dof_v1_5f2a9c1e7b3d4a60:q7Zp3xK9mW2vB8nR4tY6uH1jL5cF0dS';

describe('setEnvFileValue', () => {
  it('replaces the line in place and keeps every other byte, CRLF and comments included', () => {
    const before = '# Sluice\r\nDATABASE_URL=postgres://x\r\n\r\n# the dispatch key\r\nFUNCTIONS_ACCESS_KEY=dof_v1_old:secret # stale\r\nALLOWED_ORIGINS=https://a.example\r\n';
    const file = envFile(before);
    setEnvFileValue(file, 'FUNCTIONS_ACCESS_KEY', key);
    expect(readFileSync(file, 'utf8')).toBe(before.replace('FUNCTIONS_ACCESS_KEY=dof_v1_old:secret # stale', `FUNCTIONS_ACCESS_KEY=${key}`));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('replaces the last assignment, the one dotenv reads, and an empty one too', () => {
    const file = envFile('FUNCTIONS_ACCESS_KEY=\nA=1\nexport FUNCTIONS_ACCESS_KEY=dof_v1_x:y\n');
    setEnvFileValue(file, 'FUNCTIONS_ACCESS_KEY', key);
    expect(readFileSync(file, 'utf8')).toBe(`FUNCTIONS_ACCESS_KEY=\nA=1\nFUNCTIONS_ACCESS_KEY=${key}\n`);
    expect(parseDotenv(readFileSync(file))).toEqual({ A: '1', FUNCTIONS_ACCESS_KEY: key });
  });

  it('appends a line when none assigns the variable, after a missing final newline', () => {
    const file = envFile('A=1\n# B=2');
    setEnvFileValue(file, 'FUNCTIONS_ACCESS_KEY', key);
    expect(readFileSync(file, 'utf8')).toBe(`A=1\n# B=2\nFUNCTIONS_ACCESS_KEY=${key}\n`);
  });

  it('creates the file 0600 when there is none', () => {
    const file = envFile(undefined);
    setEnvFileValue(file, 'FUNCTIONS_ACCESS_KEY', key);
    expect(readFileSync(file, 'utf8')).toBe(`FUNCTIONS_ACCESS_KEY=${key}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('quotes a value dotenv would otherwise cut at a # or a space', () => {
    const file = envFile('');
    setEnvFileValue(file, 'SPACES_SECRET', 'abc#def ghi');
    expect(parseDotenv(readFileSync(file))).toEqual({ SPACES_SECRET: 'abc#def ghi' });
  });

  it('appends rather than edit a look-alike line inside a quoted value of another setting', () => {
    const before = 'DATABASE_CA_CERT="-----BEGIN CERTIFICATE-----\nFUNCTIONS_ACCESS_KEY=inside\n-----END CERTIFICATE-----"\n';
    const file = envFile(before);
    setEnvFileValue(file, 'FUNCTIONS_ACCESS_KEY', key);
    expect(readFileSync(file, 'utf8')).toBe(`${before}FUNCTIONS_ACCESS_KEY=${key}\n`);
    expect(parseDotenv(readFileSync(file)).DATABASE_CA_CERT).toBe(parseDotenv(before).DATABASE_CA_CERT);
  });

  it('refuses a value a .env line cannot hold, and leaves the file alone', () => {
    const file = envFile('A=1\n');
    expect(() => setEnvFileValue(file, 'B', `it's\nbroken`)).toThrow(EnvFileError);
    expect(readFileSync(file, 'utf8')).toBe('A=1\n');
  });
});
