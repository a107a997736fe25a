// What `sluice upload` shows while it works, on stderr. On a terminal: one live line per file
// (bar, percentage, bytes, speed, time left) redrawn in place, and finished files printed above
// them once. Elsewhere (a pipe, a CI log): plain lines, a few per file, never a carriage return.
import { formatBytes } from '../../web/src/format.js';

/** Redraws at most this often: smooth to the eye, cheap for a slow terminal or ssh link. */
const redrawIntervalMs = 100;
/** Plain output notes progress at these fractions, so a log of a long upload shows it moving. */
const plainMilestones = [0.25, 0.5, 0.75];
const barWidth = 20;
/** Names longer than this are cut with an ellipsis, so the bars line up. */
const maxNameColumn = 32;
const minNameColumn = 8;
/** Used when the terminal does not say how wide it is. */
const defaultColumns = 80;
/** Cursor up n lines (ECMA-48 CUU). */
const cursorUp = (lines: number) => `\x1b[${lines}A`;

export interface Transfer {
  sent: number;
  total: number;
  /** When the first byte was about to go (ms, from `now`). */
  startedMs: number;
  nowMs: number;
}

/**
 * "big.bin   ██████░░░░░░░░░░░░░░  30%  12 MB / 40 MB  8.1 MB/s  ETA 4s": the name in a column of
 * `nameWidth`, cut to `width` at the end.
 */
export function progressLine(name: string, nameWidth: number, transfer: Transfer, width: number): string {
  const fraction = transfer.total === 0 ? 1 : Math.min(1, transfer.sent / transfer.total);
  const filled = Math.round(fraction * barWidth);
  const bar = '█'.repeat(filled) + '░'.repeat(barWidth - filled);
  const seconds = (transfer.nowMs - transfer.startedMs) / 1000;
  const rate = seconds > 0 && transfer.sent > 0 ? transfer.sent / seconds : undefined;
  const speed = rate === undefined ? '' : `  ${formatBytes(Math.round(rate))}/s  ETA ${formatDuration((transfer.total - transfer.sent) / rate)}`;
  const line = `${fitName(name, nameWidth)}  ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(transfer.sent)} / ${formatBytes(transfer.total)}${speed}`;
  return line.slice(0, Math.max(0, width));
}

/** "4s", "2m 05s", "1h 03m": a time left, never with more precision than it has. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

function fitName(name: string, width: number): string {
  return name.length <= width ? name.padEnd(width) : `${name.slice(0, width - 1)}…`;
}

/** The name column: as wide as the longest name, within bounds that leave the bar room. */
function nameColumn(names: readonly string[], width: number): number {
  const longest = Math.max(0, ...names.map((name) => name.length));
  return Math.max(minNameColumn, Math.min(longest, maxNameColumn, width - 60));
}

export interface FileRow {
  /** Bytes confirmed by the store so far (whole parts). */
  transferred(sent: number, total: number): void;
  /** A state after the upload: "processing (attempt 1 of 5)". */
  status(text: string): void;
  /** The file's last line, on the results stream; the live line goes. */
  finish(line: string): void;
}

export interface Board {
  add(name: string): FileRow;
  /** A line of its own (a warning, a refusal) on the progress stream, above the live lines. */
  note(line: string): void;
  /** A result line (as `finish` writes) for a file that never got a row, e.g. one refused. */
  result(line: string): void;
  /** Draws the last state and stops redrawing. */
  close(): void;
}

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface BoardOptions {
  /** Progress: live lines or plain ones (stderr). */
  stream: Stream;
  /** Where the files' last lines go (stdout; stderr when stdout carries JSON). */
  results: Stream;
  /** Live lines or plain ones; default: whether `stream` is a terminal. */
  live?: boolean;
  now?: () => number;
}

export function createBoard(options: BoardOptions): Board {
  const live = options.live ?? options.stream.isTTY === true;
  const now = options.now ?? (() => performance.now());
  return live ? new LiveBoard(options.stream, options.results, now) : new PlainBoard(options.stream, options.results, now);
}

interface LiveRow {
  name: string;
  transfer?: Transfer;
  status?: string;
}

/** Erases from the cursor to the end of the screen (ECMA-48 ED). */
const eraseBelow = '\x1b[J';

class LiveBoard implements Board {
  private readonly rows: LiveRow[] = [];
  private drawnLines = 0;
  private lastDrawMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly stream: Stream,
    private readonly results: Stream,
    private readonly now: () => number,
  ) {}

  add(name: string): FileRow {
    const row: LiveRow = { name };
    this.rows.push(row);
    this.schedule();
    return {
      transferred: (sent, total) => {
        const nowMs = this.now();
        row.transfer = { sent, total, startedMs: row.transfer?.startedMs ?? nowMs, nowMs };
        this.schedule();
      },
      status: (text) => {
        row.status = text;
        this.schedule();
      },
      finish: (line) => {
        const index = this.rows.indexOf(row);
        if (index >= 0) this.rows.splice(index, 1);
        this.draw({ stream: this.results, line });
      },
    };
  }

  note(line: string): void {
    this.draw({ stream: this.stream, line });
  }

  result(line: string): void {
    this.draw({ stream: this.results, line });
  }

  close(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.draw();
    this.closed = true;
  }

  /** Draws at once if the last draw is old enough, else once the interval has passed (changes in between coalesce). */
  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    const waitMs = this.lastDrawMs + redrawIntervalMs - this.now();
    if (waitMs <= 0) {
      this.draw();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, waitMs);
  }

  /**
   * Erases the live lines, prints `above` for good, then the live lines again. Both streams are
   * written synchronously when they are terminals (Node writes TTYs synchronously), so the lines
   * land in this order even when results and progress are different streams of one terminal.
   */
  private draw(above?: { stream: Stream; line: string }): void {
    if (this.closed) {
      if (above !== undefined) above.stream.write(`${above.line}\n`);
      return;
    }
    if (this.drawnLines > 0) this.stream.write(`${cursorUp(this.drawnLines)}\r${eraseBelow}`);
    this.drawnLines = 0;
    if (above !== undefined) above.stream.write(`${above.line}\n`);
    // One column short of the width: a line that fills it exactly wraps in some terminals.
    // A pseudo-terminal nobody sized (script(1) without a terminal) reports 0 columns.
    const width = (this.stream.columns || defaultColumns) - 1;
    const nowMs = this.now();
    const nameWidth = nameColumn(this.rows.map((row) => row.name), width);
    const lines = this.rows.map((row) => this.lineOf(row, nameWidth, width, nowMs));
    if (lines.length > 0) this.stream.write(lines.map((line) => `${line}\n`).join(''));
    this.drawnLines = lines.length;
    this.lastDrawMs = nowMs;
  }

  private lineOf(row: LiveRow, nameWidth: number, width: number, nowMs: number): string {
    const name = fitName(row.name, nameWidth);
    if (row.status !== undefined) return `${name}  ${row.status}`.slice(0, width);
    if (row.transfer === undefined) return `${name}  starting…`.slice(0, width);
    return progressLine(row.name, nameWidth, { ...row.transfer, nowMs }, width);
  }
}

class PlainBoard implements Board {
  constructor(
    private readonly stream: Stream,
    private readonly results: Stream,
    private readonly now: () => number,
  ) {}

  add(name: string): FileRow {
    let startedMs: number | undefined;
    let milestone = 0;
    let lastStatus = '';
    return {
      transferred: (sent, total) => {
        const nowMs = this.now();
        startedMs ??= nowMs;
        const fraction = total === 0 ? 1 : sent / total;
        if (sent === 0 || sent >= total || (plainMilestones[milestone] ?? 2) > fraction) return;
        while ((plainMilestones[milestone] ?? 2) <= fraction) milestone++;
        const seconds = (nowMs - startedMs) / 1000;
        const rate = seconds > 0 ? `, ${formatBytes(Math.round(sent / seconds))}/s` : '';
        this.note(`${name}: ${Math.floor(fraction * 100)}% (${formatBytes(sent)} of ${formatBytes(total)}${rate})`);
      },
      status: (text) => {
        if (text === lastStatus) return;
        lastStatus = text;
        this.note(`${name}: ${text}`);
      },
      finish: (line) => this.result(line),
    };
  }

  note(line: string): void {
    this.stream.write(`${line}\n`);
  }

  result(line: string): void {
    this.results.write(`${line}\n`);
  }

  close(): void {}
}
