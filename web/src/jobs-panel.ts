// The list of this browser's jobs, each watched live by polling `status` (processing happens in
// another function; there is no push channel to a static page, docs/architecture.md "Data flow"). Jobs still
// waiting for their bytes are polled slowly, submitted ones every second until they settle.
//
// A list that scales: every job is a compact row (name, status, time, one line of what it means)
// and one row at a time is open on its details and actions. Rows can be filtered by status, the
// finished ones cleared, and every status change this page sees is announced to screen readers.
import { isSluiceApiError, terminalJobStatuses, waitForJob, type JobStatus, type JobView, type SluiceClient } from '../../src/client/index.js';
import type { Announcer } from './announcer.js';
import { h } from './dom.js';
import { plural } from './format.js';
import type { JobStore, StoredJob } from './job-store.js';
import { explainError, type Explanation, type Tone } from './messages.js';
import { cardStatus, renderJobCard, type CardActions, type JobCardModel } from './render.js';
import type { RetryReporter } from './server-status.js';
import type { UploadView } from './upload-state.js';

/** Submitted jobs: often enough to watch queued → processing → succeeded happen. */
const activePollMs = 1_000;
/** Jobs waiting for their bytes change only when the upload ends, which this page usually sees itself. */
const waitingPollMs = 10_000;
const beyondUpload: readonly JobStatus[] = ['queued', 'processing', ...terminalJobStatuses];
/** A download URL this close to its expiry is fetched anew before the link is followed. */
const downloadExpiryMarginMs = 15_000;
/** How long "Copied" shows on the copy button. */
const copiedForMs = 2_000;

/** What the panel asks of the uploader: the page's own copy of a file, and cancelling an upload. */
export interface UploadControls {
  /** The file's bytes while the page has them (in the upload box), else undefined. */
  localFile(jobId: string): Blob | undefined;
  /** Cancels the job's upload (and takes its file out of the upload box). */
  cancel(jobId: string): Promise<void>;
}

interface Filter {
  id: string;
  label: string;
  statuses: readonly JobStatus[];
}

const filters: readonly Filter[] = [
  { id: 'all', label: 'All', statuses: [] },
  { id: 'active', label: 'In progress', statuses: ['awaiting_upload', 'queued', 'processing'] },
  { id: 'done', label: 'Done', statuses: ['succeeded'] },
  { id: 'problems', label: 'Failed or rejected', statuses: ['failed', 'rejected'] },
  { id: 'ended', label: 'Cancelled or expired', statuses: ['cancelled', 'expired'] },
];

interface Card {
  model: JobCardModel;
  item: HTMLLIElement;
  /** Stops this card's polling loop. */
  watcher?: AbortController;
  rendered?: string;
  /** The status last announced (or first seen), so only changes are told. */
  announced?: string;
  /** The person closed this card: it is not opened for them again. */
  closedByPerson?: boolean;
  /** Watches the card's wide tables for overflow (the scroll hint). */
  resizes?: ResizeObserver;
}

export class JobsPanel {
  private readonly cards = new Map<string, Card>();
  private openJobId: string | undefined;
  private filter: Filter = filters[0] as Filter;
  private uploads: UploadControls | undefined;
  private readonly filterButtons = new Map<string, HTMLButtonElement>();
  private readonly clearButton: HTMLButtonElement;
  private readonly toolbar: HTMLElement;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly emptyNote: HTMLElement,
    private readonly store: JobStore,
    private readonly client: () => SluiceClient,
    private readonly retries: RetryReporter,
    private readonly announcer: Announcer,
    toolbar: HTMLElement,
  ) {
    this.toolbar = toolbar;
    const group = h('div', { class: 'filters', role: 'group', 'aria-label': 'Show jobs' });
    for (const filter of filters) {
      const button = h('button', { type: 'button', class: 'filter', 'aria-pressed': String(filter === this.filter), 'data-filter': filter.id });
      button.addEventListener('click', () => this.applyFilter(filter));
      this.filterButtons.set(filter.id, button);
      group.append(button);
    }
    this.clearButton = h('button', { type: 'button', class: 'secondary clear-finished' }, 'Clear finished');
    this.clearButton.addEventListener('click', () => this.clearFinished());
    toolbar.replaceChildren(group, this.clearButton);
    this.updateToolbar();
  }

  /** The uploader, once it runs (it is started after the panel, which restores the list first). */
  connect(uploads: UploadControls): void {
    this.uploads = uploads;
  }

  /** Cards for every stored job, newest first, each fetching its current state. */
  restore(): void {
    for (const job of [...this.store.list()].reverse()) this.show(job);
  }

  /** Adds or refreshes a job's card and (re)starts watching it. */
  show(job: StoredJob, view?: JobView): void {
    if (this.removed(job.jobId)) return;
    const card = this.cards.get(job.jobId) ?? this.addCard(job);
    if (view !== undefined) card.model.job = view;
    this.render(card);
    if (card.model.job === undefined || !terminalJobStatuses.includes(card.model.job.status)) this.watch(card, job);
  }

  notice(job: StoredJob, notice: Explanation, tone: Tone = 'error'): void {
    if (this.removed(job.jobId)) return;
    const card = this.cards.get(job.jobId) ?? this.addCard(job);
    card.model.notice = { ...notice, tone };
    this.render(card);
  }

  /** The upload's progress, pauses and failures, from the uploader. */
  progress(job: StoredJob, upload: UploadView): void {
    if (this.removed(job.jobId)) return;
    const card = this.cards.get(job.jobId) ?? this.addCard(job);
    const before = card.model.upload?.activity;
    card.model.upload = upload;
    if (before !== undefined && before !== upload.activity && (upload.activity === 'paused' || before === 'paused')) {
      this.announcer.say(`${job.filename}: upload ${upload.activity === 'paused' ? 'paused' : 'resumed'}.`);
    }
    if (upload.activity === 'failed' && before !== 'failed') this.announcer.say(`${job.filename}: the upload stopped. ${upload.message ?? ''}`.trim());
    this.render(card);
  }

  /** Removed from the list by the person: late news of the job (an upload event, a poll) is dropped. */
  private removed(jobId: string): boolean {
    return !this.cards.has(jobId) && this.store.get(jobId) === undefined;
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
        detail: isSluiceApiError(error) && error.code === 'JOB_NOT_FOUND' ? 'The server no longer has this job. Remove it from the list; add the file again to upload it.' : explanation.detail,
        tone: 'warning',
      };
      this.render(card);
    });
  }

  private actionsFor(card: Card): CardActions {
    return {
      toggle: () => this.toggle(card),
      retry: () => void this.retry(card),
      remove: () => void this.remove(card),
      copyHash: (hash) => void this.copy(card, hash),
      download: (event, link) => void this.download(card, event, link),
    };
  }

  private render(card: Card): void {
    this.announceChange(card);
    this.autoOpen(card);
    card.model.localUrl ??= this.localUrlOf(card);
    const open = this.openJobId === card.model.jobId;
    const signature = JSON.stringify([card.model, open]);
    if (signature === card.rendered) return;
    card.rendered = signature;
    // Re-rendering must not close what the reader opened (history, raw JSON), nor drop the keyboard
    // focus of someone who tabbed into the card while it was still being processed.
    const openDetails = new Set([...card.item.querySelectorAll('details[open]')].map((details) => details.className));
    const focused = focusKey(card.item);
    const previousPreview = card.item.querySelector('figure.preview img');
    const article = renderJobCard(card.model, open, this.actionsFor(card));
    for (const details of article.querySelectorAll('details')) if (openDetails.has(details.className)) details.open = true;
    // The same picture stays the same element: no flash, no second download.
    const preview = article.querySelector('figure.preview img');
    if (preview instanceof HTMLImageElement && previousPreview instanceof HTMLImageElement && previousPreview.src === preview.src) preview.replaceWith(previousPreview);
    card.item.replaceChildren(article);
    card.item.hidden = !this.shown(card);
    if (focused !== undefined) card.item.querySelector<HTMLElement>(focused)?.focus();
    this.watchOverflow(card);
    this.updateToolbar();
  }

  /** Polite announcements of what changed, in words: "report.csv: Done. CSV · 4 rows × 4 columns". */
  private announceChange(card: Card): void {
    const { jobId, filename } = card.model;
    const status = card.model.job?.status;
    // Before its first view a restored card knows only its phase in this browser.
    if (status === 'awaiting_upload' || (status === undefined && this.store.get(jobId)?.phase === 'uploading')) {
      this.seenUploading.add(jobId);
      card.announced = 'awaiting_upload';
      return;
    }
    if (status === undefined) return;
    const previous = card.announced;
    card.announced = status;
    if (previous === status) return;
    // The state a reload finds is the starting point, not news.
    if (previous === undefined && !this.seenUploading.has(jobId)) return;
    const { label, summary } = cardStatus(card.model);
    // "Rejected: the bytes are …" says its status already.
    this.announcer.say(`${filename}: ${summary.startsWith(`${label}:`) ? summary : `${label}. ${summary}`}`);
  }

  /** Jobs this page has seen before `complete`: their end is news, and their card opens on it. */
  private readonly seenUploading = new Set<string>();

  /** A job this page watched finish opens by itself, unless another card is open or the person closed it. */
  private autoOpen(card: Card): void {
    const status = card.model.job?.status;
    if (status === undefined || !terminalJobStatuses.includes(status) || !this.seenUploading.has(card.model.jobId)) return;
    if (this.openJobId === undefined && !card.closedByPerson) this.openJobId = card.model.jobId;
  }

  private toggle(card: Card): void {
    const opening = this.openJobId !== card.model.jobId;
    const previous = this.openJobId === undefined ? undefined : this.cards.get(this.openJobId);
    this.openJobId = opening ? card.model.jobId : undefined;
    if (!opening) card.closedByPerson = true;
    // One open at a time: the list stays a list.
    if (previous !== undefined && previous !== card) this.render(previous);
    this.render(card);
  }

  private async retry(card: Card): Promise<void> {
    const stored = this.store.get(card.model.jobId);
    if (stored === undefined) return;
    card.model.busy = 'retry';
    delete card.model.notice;
    this.render(card);
    try {
      const { job } = await this.client().retry({ jobId: stored.jobId, token: stored.token });
      this.announcer.say(`${card.model.filename}: retry requested.`);
      delete card.model.busy;
      this.show(stored, job);
    } catch (error) {
      delete card.model.busy;
      card.model.notice = { ...explainError(error), tone: 'error' };
      this.render(card);
      // A 409 means the job moved on meanwhile: show where it is now.
      this.show(stored);
    }
  }

  private async remove(card: Card): Promise<void> {
    const status = card.model.job?.status ?? 'awaiting_upload';
    if (status === 'awaiting_upload' && this.uploads !== undefined) {
      card.model.busy = 'remove';
      this.render(card);
      await this.uploads.cancel(card.model.jobId);
    }
    this.announcer.say(`${card.model.filename} removed from the list.`);
    this.forget(card, true);
  }

  private async copy(card: Card, hash: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(hash);
      card.model.copied = true;
      this.announcer.say(`SHA-256 of ${card.model.filename} copied.`);
      this.render(card);
      setTimeout(() => {
        delete card.model.copied;
        this.render(card);
      }, copiedForMs);
    } catch {
      card.model.notice = { title: 'Could not copy', detail: `The browser refused the clipboard. The SHA-256 is ${hash}.`, tone: 'warning' };
      this.render(card);
    }
  }

  /** A link older than its expiry (the card finished long ago) is signed again before it is followed. */
  private async download(card: Card, event: MouseEvent, link: HTMLAnchorElement): Promise<void> {
    const expiresAt = Date.parse(card.model.job?.downloadExpiresAt ?? '');
    if (!Number.isFinite(expiresAt) || expiresAt - Date.now() > downloadExpiryMarginMs) return;
    event.preventDefault();
    const stored = this.store.get(card.model.jobId);
    if (stored === undefined) return;
    try {
      const { job } = await this.client().status({ jobId: stored.jobId, token: stored.token });
      card.model.job = job;
      this.render(card);
      if (job.downloadUrl !== undefined) window.location.assign(job.downloadUrl);
      else link.removeAttribute('href');
    } catch (error) {
      card.model.notice = { ...explainError(error), tone: 'warning' };
      this.render(card);
    }
  }

  private localUrlOf(card: Card): string | undefined {
    if (!card.model.contentType.toLowerCase().startsWith('image/')) return undefined;
    const file = this.uploads?.localFile(card.model.jobId);
    return file === undefined ? undefined : URL.createObjectURL(file);
  }

  private forget(card: Card, moveFocus: boolean): void {
    card.watcher?.abort();
    card.resizes?.disconnect();
    if (card.model.localUrl !== undefined) URL.revokeObjectURL(card.model.localUrl);
    this.cards.delete(card.model.jobId);
    this.store.remove(card.model.jobId);
    if (this.openJobId === card.model.jobId) this.openJobId = undefined;
    const next = nextShown(card.item);
    card.item.remove();
    this.emptyNote.hidden = this.cards.size > 0;
    this.updateToolbar();
    // Keep keyboard focus in the list instead of dropping it to the top of the page.
    if (moveFocus) (next?.querySelector<HTMLElement>('button.job-toggle') ?? this.clearButton).focus();
  }

  private clearFinished(): void {
    const finished = [...this.cards.values()].filter((card) => card.model.job !== undefined && terminalJobStatuses.includes(card.model.job.status));
    for (const card of finished) this.forget(card, false);
    this.announcer.say(finished.length === 0 ? 'Nothing finished to clear.' : `Cleared ${plural(finished.length, 'finished job')} from the list; stored files stay.`);
    this.filterButtons.get(this.filter.id)?.focus();
  }

  private applyFilter(filter: Filter): void {
    this.filter = filter;
    for (const card of this.cards.values()) card.item.hidden = !this.shown(card);
    this.updateToolbar();
    const shown = [...this.cards.values()].filter((card) => this.shown(card)).length;
    this.announcer.say(`Showing ${filter.id === 'all' ? 'all jobs' : filter.label.toLowerCase()}: ${plural(shown, 'job')}.`);
  }

  private shown(card: Card): boolean {
    return this.filter.statuses.length === 0 || this.filter.statuses.includes(card.model.job?.status ?? 'awaiting_upload');
  }

  /** Counts per status group, and Clear finished only when there is something finished. */
  private updateToolbar(): void {
    const statuses = [...this.cards.values()].map((card) => card.model.job?.status ?? 'awaiting_upload');
    for (const filter of filters) {
      const button = this.filterButtons.get(filter.id);
      if (button === undefined) continue;
      const count = filter.statuses.length === 0 ? statuses.length : statuses.filter((status) => filter.statuses.includes(status)).length;
      button.replaceChildren(filter.label, ' ', h('span', { class: 'count' }, String(count)));
      button.setAttribute('aria-pressed', String(filter === this.filter));
      button.hidden = count === 0 && filter !== this.filter && filter.id !== 'all';
    }
    const finished = statuses.filter((status) => terminalJobStatuses.includes(status)).length;
    this.clearButton.disabled = finished === 0;
    this.clearButton.textContent = finished === 0 ? 'Clear finished' : `Clear finished (${finished})`;
    this.toolbar.hidden = this.cards.size === 0;
  }

  /** The scroll hint under a wide table shows only while the table is wider than its box. */
  private watchOverflow(card: Card): void {
    card.resizes?.disconnect();
    const boxes = [...card.item.querySelectorAll<HTMLElement>('.table-scroll')];
    if (boxes.length === 0) return;
    const mark = (box: HTMLElement): void => {
      box.parentElement?.classList.toggle('overflowing', box.scrollWidth > box.clientWidth + 1);
    };
    card.resizes = new ResizeObserver((entries) => {
      for (const entry of entries) if (entry.target instanceof HTMLElement) mark(entry.target);
    });
    for (const box of boxes) card.resizes.observe(box);
  }
}

function nextShown(item: Element): HTMLElement | undefined {
  for (const sibling of [item.nextElementSibling, item.previousElementSibling]) if (sibling instanceof HTMLElement && !sibling.hidden) return sibling;
  return undefined;
}

/**
 * A selector for the focused element of a card, if any, that finds its counterpart after a
 * re-render even when result sections have appeared before it: a control by its focus key, a
 * toggle by its details' class, a scrollable table by its label.
 */
function focusKey(container: Element): string | undefined {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !container.contains(active)) return undefined;
  const key = active.dataset.focusKey;
  if (key !== undefined) return `[data-focus-key="${CSS.escape(key)}"]`;
  if (active.tagName === 'SUMMARY' && active.parentElement instanceof HTMLDetailsElement) return `details.${CSS.escape(active.parentElement.className)} > summary`;
  const label = active.getAttribute('aria-label');
  if (label !== null) return `${active.tagName.toLowerCase()}[aria-label="${CSS.escape(label)}"]`;
  return undefined;
}
