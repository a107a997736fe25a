// Logs are at most 256 KB per activation: the record keeps the first lines that fit, weighed as
// OpenWhisk weighs them, then one line saying they were truncated; records report the limit.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { annotation, startFixtureRuntime, type FixtureRuntime } from './helpers.js';

const maxLogBytes = 256 * 1024;
const lineBytes = 1000;
/**
 * The invoker weighs a line as its JSON `{"time":"<ISO time>","stream":"stdout","log":"…"}` plus a
 * newline: 63 bytes besides the text for a 24-character ISO time.
 */
const lineWeightBytes = lineBytes + 63;

let fixture: FixtureRuntime;
beforeAll(async () => {
  fixture = await startFixtureRuntime();
});
afterAll(async () => {
  await fixture?.cleanup();
});

it('keeps the first 256 KB of log lines and ends with the truncation notice', async () => {
  const record = await fixture.runtime.invoke('jobs/chatty', { lines: 400, lineBytes });
  expect(record.response.success).toBe(true);
  const kept = Math.floor(maxLogBytes / lineWeightBytes);
  expect(record.logs).toHaveLength(kept + 1);
  record.logs.slice(0, kept).forEach((line, index) => expect(line).toMatch(new RegExp(`^\\S+ stdout: ${String(index).padStart(6, '0')} x{${lineBytes - 7}}$`)));
  expect(record.logs.at(-1)).toMatch(/^\S+ stderr: Logs were truncated because the total bytes size exceeds the limit of 262144 bytes\.$/);
  expect(annotation(record, 'limits')).toMatchObject({ logs: 0.25 });
});

it('keeps every line of an activation within the limit, with no notice', async () => {
  const lines = Math.floor(maxLogBytes / lineWeightBytes);
  const record = await fixture.runtime.invoke('jobs/chatty', { lines, lineBytes });
  expect(record.logs).toHaveLength(lines);
  expect(record.logs.at(-1)).toMatch(new RegExp(` stdout: ${String(lines - 1).padStart(6, '0')} x+$`));
});
