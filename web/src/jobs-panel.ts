// The list of this browser's jobs, each watched live by polling `status` (processing happens in
// another function; there is no push channel to a static page, DESIGN "Data flow"). Jobs still
// waiting for their bytes are polled slowly, submitted ones every second until they settle.
import { isSluiceApiError, terminalJobStatuses, waitForJob, type JobStatus, type JobView, type SluiceClient } from '../../src/client/index.js';
import { h } from './dom.js';
import type { JobStore, StoredJob } from './job-store.js';
import { explainError, type Explanation, type Tone } from './messages.js';
import { renderJobCard, type JobCardModel } from './render.js';
import type { RetryReporter } from './server-status.js';

/** Submitted jobs: often enough to watch queued → processing → succeeded happen. */
const activePollMs = 1_000;
/** Jobs waiting for their bytes change only when the upload ends, which this page usually sees itself. */
const waitingPollMs = 10_000;
const beyondUpload: readonly JobStatus[] = ['queued', 'processing', ...terminalJobStatuses];

interface Card {
  model: JobCardModel;
  item: HTMLLIElement;
  /** Stops this card's polling loop. */
  watcher?: AbortController;
  rendered?: string;
}

export class JobsPanel {
  private readonly cards = new Map<string, Card>();

  constructor(
    private readonly list: HTMLOListElement,
    private readonly emptyNote: HTMLElement,
    private readonly store: JobStore,
    private readonly client: () => SluiceClient,
    private readonly retries: RetryReporter,
  ) {}

  /** Cards for every stored job, newest first, each fetching its current state. */
  restore(): void {
    for (const job of [...this.store.list()].reverse()) this.show(job);
  }

  /** Adds or refreshes a job's card and (re)starts watching it. */
  show(job: StoredJob, view?: JobView): void {
    const card = this.cards.get(job.jobId) ?? this.addCard(job);
    if (view !== undefined) card.model.job = view;
    this.render(card);
    if (card.model.job === undefined || !terminalJobStatuses.includes(card.model.job.status)) this.watch(card, job);
  }

  notice(job: StoredJob, notice: Explanation, tone: Tone = 'error'): void {
    const card = this.cards.get(job.jobId) ?? this.addCard(job);
    card.model.notice = { ...notice, tone };
    this.render(card);
  }

  private addCard(job: StoredJob): Card {
    const item = h('li', { class: 'job-item' });
    const card: Card = {
      model: { jobId: job.jobId, filename: job.filename, size: job.size, contentType: job.contentType, createdAt: job.createdAt },
      item,
    };
    this.cards.set(job.jobId, card);
    this.list.prepend(item);
    this.emptyNote.hidden = true;
    return card;
  }

  private watch(card: Card, job: StoredJob): void {
    card.watcher?.abort();
    const watcher = new AbortController();
    card.watcher = watcher;
    const onRetry = this.retries.retrying.bind(this.retries);
    const onJob = (view: JobView): void => {
      this.retries.settled();
      card.model.job = view;
      delete card.model.notice;
      this.render(card);
    };
    const poll = async (): Promise<void> => {
      const current = this.store.get(job.jobId) ?? job;
      if (current.phase === 'uploading') {
        await waitForJob(this.client(), job.jobId, job.token, { until: beyondUpload, intervalMs: waitingPollMs, signal: watcher.signal, onJob, onRetry });
      }
      await waitForJob(this.client(), job.jobId, job.token, { intervalMs: activePollMs, signal: watcher.signal, onJob, onRetry });
    };
    poll().catch((error: unknown) => {
      if (watcher.signal.aborted) return;
      this.retries.settled();
      const explanation = explainError(error);
      card.model.notice = {
        ...explanation,
        detail: isSluiceApiError(error) && error.code === 'JOB_NOT_FOUND' ? 'The server no longer has this job.' : explanation.detail,
        tone: 'warning',
      };
      this.render(card);
    });
  }

  private render(card: Card): void {
    const signature = JSON.stringify(card.model);
    if (signature === card.rendered) return;
    card.rendered = signature;
    // Re-rendering must not close what the reader opened (history, raw JSON), nor drop the keyboard
    // focus of someone who tabbed into the card while it was still being processed.
    const open = new Set([...card.item.querySelectorAll('details[open]')].map((details) => details.className));
    const focused = focusKey(card.item);
    const article = renderJobCard(card.model);
    for (const details of article.querySelectorAll('details')) if (open.has(details.className)) details.open = true;
    const finished = card.model.job !== undefined && terminalJobStatuses.includes(card.model.job.status);
    const remove = finished
      ? h('button', { type: 'button', class: 'link-button', 'aria-label': `Remove ${card.model.filename} from this list` }, 'Remove from list')
      : null;
    remove?.addEventListener('click', () => this.forget(card));
    card.item.replaceChildren(article, ...(remove ? [remove] : []));
    if (focused !== undefined) card.item.querySelector<HTMLElement>(focused)?.focus();
  }

  private forget(card: Card): void {
    card.watcher?.abort();
    this.cards.delete(card.model.jobId);
    this.store.remove(card.model.jobId);
    const next = card.item.nextElementSibling ?? card.item.previousElementSibling;
    card.item.remove();
    this.emptyNote.hidden = this.cards.size > 0;
    // Keep keyboard focus in the list instead of dropping it to the top of the page.
    if (next instanceof HTMLElement) next.querySelector<HTMLElement>('button, summary')?.focus();
  }
}

/**
 * A selector for the focused element of a card, if any, that finds its counterpart after a
 * re-render even when result sections have appeared before it: a toggle by its details' class,
 * a scrollable table by its label, the button by its class.
 */
function focusKey(container: Element): string | undefined {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !container.contains(active)) return undefined;
  if (active.tagName === 'SUMMARY' && active.parentElement instanceof HTMLDetailsElement) return `details.${CSS.escape(active.parentElement.className)} > summary`;
  const label = active.getAttribute('aria-label');
  if (label !== null) return `${active.tagName.toLowerCase()}[aria-label="${CSS.escape(label)}"]`;
  return undefined;
}
