// One line near the top of the page while API calls wait to be retried: during an outage (503
// with Retry-After, no answer at all) an upload would otherwise just look stuck. Each waiting call
// reports its wait; the line counts down to the latest retry and goes away as soon as a call
// settles (it succeeded, or failed for good and says so where the failure is shown).
import type { RetryNotice } from '../../src/client/index.js';
import { byId } from './dom.js';

/** What the uploader and the job cards tell about their retries. */
export interface RetryReporter {
  retrying(notice: RetryNotice): void;
  settled(): void;
}

const tickMs = 1_000;

export class ServerStatus implements RetryReporter {
  private readonly line = byId('server-status', HTMLElement);
  private retryAtMs = 0;
  private reason = '';
  private ticker: ReturnType<typeof setInterval> | undefined;

  retrying(notice: RetryNotice): void {
    this.retryAtMs = Date.now() + notice.delayMs;
    this.reason = reasonOf(notice);
    this.render();
    this.ticker ??= setInterval(() => this.render(), tickMs);
  }

  settled(): void {
    if (this.ticker === undefined) return;
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.line.hidden = true;
    this.line.textContent = '';
  }

  private render(): void {
    const seconds = Math.ceil((this.retryAtMs - Date.now()) / 1_000);
    this.line.textContent = seconds > 0 ? `${this.reason}; retrying in ${seconds} s.` : `${this.reason}; retrying now.`;
    this.line.hidden = false;
  }
}

function reasonOf({ error }: RetryNotice): string {
  if (error.status === 503) return 'The server is busy';
  if (error.status === 429) return 'The server asks to slow down';
  if (error.status === 0) return 'The server could not be reached';
  return 'The server had a problem';
}
