// What `sluice upload` draws: the bar line, times left, and the live board's redraws on a
// terminal (written to a recording stream), against plain lines elsewhere.
import { describe, expect, it } from 'vitest';
import { createBoard, formatDuration, progressLine } from '../../src/cli/progress.js';

function recorder(isTTY: boolean) {
  let text = '';
  return { stream: { isTTY, columns: 100, write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WriteStream, text: () => text };
}

describe('progressLine', () => {
  it('shows the bar, the share, the bytes, the speed and the time left', () => {
    const line = progressLine('big.bin', 10, { sent: 20 * 1024 * 1024, total: 80 * 1024 * 1024, startedMs: 0, nowMs: 2_000 }, 100);
    expect(line).toBe('big.bin     █████░░░░░░░░░░░░░░░  25%  20 MB / 80 MB  10 MB/s  ETA 6s');
  });

  it('says nothing of speed before the first part is stored, and cuts long names', () => {
    expect(progressLine('a-very-long-file-name.csv', 10, { sent: 0, total: 100, startedMs: 0, nowMs: 0 }, 100)).toBe('a-very-lo…  ░░░░░░░░░░░░░░░░░░░░   0%  0 bytes / 100 bytes');
  });

  it.each([
    [0.2, '1s'],
    [59, '59s'],
    [61, '1m 01s'],
    [3_700, '1h 01m'],
    [Number.POSITIVE_INFINITY, '—'],
  ])('formatDuration(%d) is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('the board', () => {
  it('on a terminal, redraws the live lines in place and prints finished files above them on the results stream', () => {
    const progress = recorder(true);
    const results = recorder(true);
    let now = 0;
    const board = createBoard({ stream: progress.stream, results: results.stream, now: () => now });
    const row = board.add('a.csv');
    now = 200;
    row.transferred(0, 2);
    now = 1_200;
    row.transferred(1, 2);
    row.finish('✓ a.csv  done');
    board.close();
    // Each redraw goes up over the live lines and erases below them; the finish erases the row for good.
    expect(progress.text().split('\x1b[1A\r\x1b[J')).toEqual([
      'a.csv     starting…\n',
      'a.csv     ░░░░░░░░░░░░░░░░░░░░   0%  0 bytes / 2 bytes\n',
      'a.csv     ██████████░░░░░░░░░░  50%  1 byte / 2 bytes  1 byte/s  ETA 1s\n',
      '',
    ]);
    expect(results.text()).toBe('✓ a.csv  done\n');
  });

  it('elsewhere, prints plain lines at a few milestones, with no escape sequences', () => {
    const progress = recorder(false);
    const results = recorder(false);
    let now = 0;
    const board = createBoard({ stream: progress.stream, results: results.stream, now: () => now });
    const row = board.add('b.bin');
    for (let part = 0; part <= 10; part++) {
      now = part * 1_000;
      row.transferred(part * 1024 * 1024, 10 * 1024 * 1024);
    }
    row.status('queued');
    row.status('queued');
    row.finish('✓ b.bin  done');
    expect(progress.text()).toBe('b.bin: 30% (3 MB of 10 MB, 1 MB/s)\nb.bin: 50% (5 MB of 10 MB, 1 MB/s)\nb.bin: 80% (8 MB of 10 MB, 1 MB/s)\nb.bin: queued\n');
    expect(results.text()).toBe('✓ b.bin  done\n');
  });
});
