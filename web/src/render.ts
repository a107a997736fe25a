// Turns job views and result sections into elements: a compact row per job (name, status, time,
// one line of what it means) that opens onto the details and the actions. Layout only: what to
// say is decided in result-view.ts and messages.ts.
import type { JobEvent, JobView } from '../../src/client/index.js';
import { h } from './dom.js';
import { describeType, formatBytes, formatSpeed, formatTime, plural } from './format.js';
import { renderCharts } from './charts.js';
import { explainJob, explainProblemFile, rejectionHeadline, statusLabels, statusTones, type Explanation, type Tone } from './messages.js';
import { describeResult, humanize, resultHeadline, type Block, type ResultSection } from './result-view.js';
import { uploadPercent, type UploadView } from './upload-state.js';

/** What the page knows about a job before (or besides) the server's view of it. */
export interface JobCardModel {
  jobId: string;
  filename: string;
  size: number;
  contentType: string;
  createdAt: string;
  /** The latest view from `status`, once one arrived. */
  job?: JobView;
  /** The upload as this page sees it, while the server waits for the bytes. */
  upload?: UploadView;
  /** An object URL of the file's bytes while the page has them (an image's preview before any download). */
  localUrl?: string;
  /** Something the page itself has to say (a failed `complete`, polling trouble, a refused retry). */
  notice?: Explanation & { tone: Tone };
  /** The action the person started and the page waits for. */
  busy?: 'retry' | 'remove';
  /** The SHA-256 was just copied (the button says so for a moment). */
  copied?: boolean;
}

/** What the card's buttons do; the panel decides. */
export interface CardActions {
  toggle(): void;
  retry(): void;
  remove(): void;
  copyHash(hash: string): void;
  /** Before the browser follows the link: the panel may swap an expired URL for a fresh one. */
  download(event: MouseEvent, link: HTMLAnchorElement): void;
}

/** Identifiers shown in full would dominate a phone screen; the full value stays in the title. */
const shortIdChars = 8;

/** How a card reads at a glance: the status word, its tone and one line of what it means. */
export interface CardStatus {
  label: string;
  tone: Tone;
  summary: string;
  /** Upload progress in percent, while the bytes go. */
  percent?: number;
  outcome: Explanation;
}

/** Server status and upload progress in one: while the server waits for the bytes, the upload speaks. */
export function cardStatus(model: JobCardModel): CardStatus {
  const { job, upload } = model;
  const status = job?.status ?? 'awaiting_upload';
  if (status === 'awaiting_upload') return uploadStatus(model, upload);
  const outcome = explainJob(job as JobView);
  const tone = statusTones[status];
  if (status === 'succeeded') {
    // The job worked; the file itself may still have a problem (invalid JSON, malformed rows).
    const headline = resultHeadline(job?.result);
    if (headline?.tone === 'warning') return { label: 'File has problems', tone: 'warning', summary: headline.text, outcome: explainProblemFile(job as JobView) };
    return { label: statusLabels[status], tone, summary: headline?.text ?? outcome.title, outcome };
  }
  if (status === 'rejected') return { label: statusLabels[status], tone, summary: rejectionHeadline(job as JobView), outcome };
  return { label: statusLabels[status], tone, summary: status === 'failed' ? firstSentence(outcome.detail) : outcome.title, outcome };
}

function uploadStatus(model: JobCardModel, upload: UploadView | undefined): CardStatus {
  const size = formatBytes(upload?.bytesTotal ?? model.size);
  if (upload === undefined) {
    const outcome = model.job ? explainJob(model.job) : { title: 'Starting', detail: '' };
    return { label: 'Uploading', tone: 'progress', summary: outcome.title, outcome };
  }
  const percent = uploadPercent(upload);
  const done = `${percent}% of ${size}`;
  switch (upload.activity) {
    case 'starting':
      return { label: 'Uploading', tone: 'progress', summary: 'Starting the upload…', percent, outcome: { title: 'Starting the upload', detail: 'The bytes go straight to storage; processing starts once they are all there.' } };
    case 'uploading':
    case 'retrying': {
      const speed = upload.bytesPerSecond === undefined ? '' : ` · ${formatSpeed(upload.bytesPerSecond)}`;
      const retrying = upload.activity === 'retrying' ? ' · retrying a part' : '';
      return {
        label: 'Uploading',
        tone: 'progress',
        summary: `${done}${speed}${retrying}`,
        percent,
        outcome: { title: `Uploading: ${done}${speed}`, detail: 'Processing starts once every byte is stored.' },
      };
    }
    case 'paused':
      return { label: 'Paused', tone: 'warning', summary: `Paused at ${done}`, percent, outcome: { title: `Paused at ${done}`, detail: 'Resume it in the upload box above; what is stored stays.' } };
    case 'ready':
      return {
        label: 'Paused',
        tone: 'warning',
        summary: `Ready to resume at ${done}`,
        percent,
        outcome: { title: `Ready to resume at ${done}`, detail: 'The page was reloaded. Press Upload (or Resume) in the box above to send the rest.' },
      };
    case 'needs-file':
      return {
        label: 'Interrupted',
        tone: 'warning',
        summary: 'Add the same file again to resume',
        percent,
        outcome: { title: `Interrupted at ${done}`, detail: 'This page no longer has the file. Add the same file again above: only the missing parts are sent.' },
      };
    case 'failed':
      return {
        label: 'Upload failed',
        tone: 'error',
        summary: upload.message ?? 'The upload stopped',
        percent,
        outcome: { title: 'The upload stopped', detail: `${upload.message ? `${upload.message} ` : ''}Retry it from the upload box above; what is stored stays.` },
      };
  }
}

function firstSentence(text: string): string {
  const end = text.search(/[.!?](\s|$)/);
  return end === -1 ? text : text.slice(0, end + 1);
}

/** The hash the bytes were found to have (the file analysis), else the one declared at create. */
export function sha256Of(job: JobView | undefined): string | undefined {
  const file = job?.result !== null && typeof job?.result === 'object' ? (job.result as Record<string, unknown>).file : undefined;
  const found = file !== null && typeof file === 'object' ? (file as Record<string, unknown>).sha256 : undefined;
  const hash = typeof found === 'string' ? found : (job?.sha256 ?? undefined);
  return hash !== undefined && /^[0-9a-f]{64}$/.test(hash) ? hash : undefined;
}

/** What Remove does to the stored file, said before the person presses it. */
function removeNote(model: JobCardModel): { label: string; note: string } {
  switch (model.job?.status ?? 'awaiting_upload') {
    case 'awaiting_upload':
      return { label: 'Cancel and remove', note: 'Cancels the upload; nothing is kept.' };
    case 'queued':
    case 'processing':
      return { label: 'Remove', note: 'Removes it from this list only: processing goes on and the stored file stays.' };
    case 'succeeded':
    case 'failed':
      return { label: 'Remove', note: 'Removes it from this list only; the stored file stays in storage.' };
    case 'rejected':
    case 'cancelled':
    case 'expired':
      return { label: 'Remove', note: 'Removes it from this list; nothing is stored.' };
  }
}

export function renderJobCard(model: JobCardModel, open: boolean, actions: CardActions): HTMLElement {
  const { job } = model;
  const status = job?.status ?? 'awaiting_upload';
  const card = cardStatus(model);
  const ids = { name: `job-${model.jobId}-name`, body: `job-${model.jobId}-body`, status: `job-${model.jobId}-status`, summary: `job-${model.jobId}-summary` };
  const toggle = h(
    'button',
    { type: 'button', class: 'job-toggle', 'aria-expanded': String(open), 'aria-controls': ids.body, 'aria-describedby': `${ids.status} ${ids.summary}`, 'data-focus-key': 'toggle' },
    h('span', { class: 'chevron', 'aria-hidden': 'true' }),
    h('span', { class: 'job-filename' }, model.filename),
  );
  toggle.addEventListener('click', () => actions.toggle());
  const body = h(
    'div',
    { class: 'job-body', id: ids.body },
    h(
      'p',
      { class: 'job-meta' },
      // Size and type are the file analysis's first line once there is one.
      hasFileSummary(job) ? '' : `${formatBytes(job?.size ?? model.size)} · ${describeType(job?.contentType ?? model.contentType)} · `,
      h('span', { class: 'mono', title: `Job ${model.jobId}` }, `job ${model.jobId.slice(0, shortIdChars)}`),
      job && job.attempts > 0 ? ` · attempt ${job.attempts} of ${job.maxAttempts}` : '',
      job?.buildId ? ' · build ' : '',
      job?.buildId ? h('span', { class: 'mono', title: `Build ${job.buildId}` }, job.buildId.slice(0, shortIdChars)) : null,
    ),
    h(
      'div',
      { class: `job-outcome tone-${card.tone}`, 'data-testid': 'job-outcome' },
      h('strong', {}, card.outcome.title),
      card.outcome.detail ? ` ${card.outcome.detail}` : '',
    ),
    model.notice
      ? h('p', { class: `notice tone-${model.notice.tone}`, role: 'alert' }, h('strong', {}, model.notice.title), ` ${model.notice.detail}`)
      : null,
    renderActions(model, actions),
    renderPreview(model),
    ...renderResult(job),
    job?.events && job.events.length > 0 ? renderHistory(job.events) : null,
    job ? h('details', { class: 'raw' }, h('summary', {}, 'Raw JSON'), h('pre', { class: 'mono' }, JSON.stringify(job, null, 2))) : null,
  );
  body.hidden = !open;
  const row = h(
    'header',
    { class: 'job-row' },
    h('h3', { id: ids.name, class: 'job-name' }, toggle),
    h('span', { id: ids.status, class: `badge tone-${card.tone}`, 'data-testid': 'job-status' }, card.label),
    h('time', { class: 'job-time', datetime: model.createdAt }, formatTime(job?.createdAt ?? model.createdAt)),
    h('p', { id: ids.summary, class: 'job-summary', 'data-testid': 'job-summary' }, card.summary),
    card.percent !== undefined ? h('progress', { class: 'job-progress', max: 100, value: card.percent, 'aria-label': `Upload of ${model.filename}` }) : null,
  );
  // The whole row is a target for a pointer; the keyboard has the button (which handles its own clicks).
  row.addEventListener('click', (event) => {
    if (!(event.target instanceof Element && event.target.closest('button'))) actions.toggle();
  });
  return h(
    'article',
    {
      class: `job tone-${card.tone}${open ? ' open' : ''}`,
      'aria-labelledby': ids.name,
      'data-job-id': model.jobId,
      'data-status': status,
      'data-activity': status === 'awaiting_upload' ? model.upload?.activity : undefined,
    },
    row,
    body,
  );
}

function renderActions(model: JobCardModel, actions: CardActions): HTMLElement {
  const { job } = model;
  const hash = sha256Of(job);
  const download = job?.downloadUrl
    ? h('a', { class: 'download', href: job.downloadUrl, download: model.filename, 'data-focus-key': 'download' }, `Download ${model.filename}`)
    : null;
  download?.addEventListener('click', (event) => actions.download(event, download));
  const copy = hash
    ? h('button', { type: 'button', class: 'secondary', 'data-focus-key': 'copy', 'aria-label': `Copy the SHA-256 of ${model.filename}` }, model.copied ? 'Copied' : 'Copy SHA-256')
    : null;
  copy?.addEventListener('click', () => actions.copyHash(hash ?? ''));
  const retry =
    job?.status === 'failed'
      ? h('button', { type: 'button', 'data-focus-key': 'retry', disabled: model.busy === 'retry', 'aria-label': `Retry ${model.filename}` }, model.busy === 'retry' ? 'Retrying…' : 'Retry')
      : null;
  retry?.addEventListener('click', () => actions.retry());
  const { label, note } = removeNote(model);
  const noteId = `job-${model.jobId}-remove-note`;
  const remove = h(
    'button',
    { type: 'button', class: 'secondary', 'data-focus-key': 'remove', disabled: model.busy === 'remove', 'aria-label': `${label}: ${model.filename}`, 'aria-describedby': noteId },
    label,
  );
  remove.addEventListener('click', () => actions.remove());
  return h(
    'div',
    { class: 'job-actions' },
    download,
    // Once the file's facts are shown they hold the full hash; before, the declared one is shown here.
    hash && !hasFileSummary(job) ? h('span', { class: 'hash' }, 'SHA-256 ', h('code', { class: 'mono', title: hash }, `${hash.slice(0, 12)}…`)) : null,
    copy,
    retry,
    remove,
    h('span', { id: noteId, class: 'hint remove-note' }, note),
  );
}

/** Images only: from the page's own copy of the file while it has one, else the signed download URL. */
function renderPreview(model: JobCardModel): HTMLElement | null {
  const type = model.job?.contentType ?? model.contentType;
  if (!type.toLowerCase().startsWith('image/')) return null;
  const src = model.localUrl ?? model.job?.downloadUrl;
  if (src === undefined) return null;
  return h('figure', { class: 'preview' }, h('img', { src, alt: `Preview of ${model.filename}`, loading: 'lazy', decoding: 'async' }));
}

function renderResult(job: JobView | undefined): HTMLElement[] {
  const sections = job?.result === undefined || job.result === null ? [] : describeResult(job.result);
  return sections.length > 0 ? [h('div', { class: 'result', 'data-testid': 'job-result' }, ...sections.map(renderSection))] : [];
}

export function renderSection(section: ResultSection): HTMLElement {
  return h(
    'section',
    { class: 'result-section', 'data-analyzer': section.analyzer },
    h('h4', {}, section.title, h('span', { class: 'headline' }, section.headline)),
    ...section.blocks.map(renderBlock),
  );
}

function renderBlock(block: Block): HTMLElement {
  switch (block.kind) {
    case 'facts':
      return h(
        'dl',
        { class: 'facts' },
        ...block.facts.flatMap((fact) => [h('dt', {}, fact.label), h('dd', { class: fact.mono ? 'mono' : undefined }, fact.value)]),
      );
    case 'table':
      return renderTable(block.caption, block.head, block.rows, new Set(block.numeric ?? []));
    case 'list':
      return h(
        'div',
        { class: 'key-list' },
        h('span', { class: 'key-list-label' }, `${block.label}:`),
        h('ul', {}, ...block.items.map((item) => h('li', { class: 'mono' }, item))),
        block.more ? h('span', { class: 'more' }, block.more) : null,
      );
    case 'note':
      return h('p', { class: `notice tone-${block.tone}` }, block.text);
    case 'charts':
      return renderCharts(block.caption, block.charts);
  }
}

function hasFileSummary(job: JobView | undefined): boolean {
  const result = job?.result;
  return result !== null && typeof result === 'object' && 'file' in result;
}

/**
 * Wide tables scroll sideways inside their own box on a phone; the box is focusable and labelled so
 * a keyboard user can scroll it too, and a hint under it (shown by the panel only while the table
 * is wider than its box) says there is more to the side.
 */
function renderTable(caption: string, head: string[], rows: string[][], numeric: ReadonlySet<number>): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': caption },
      h(
        'table',
        {},
        h('caption', {}, caption),
        h('thead', {}, h('tr', {}, ...head.map((name, index) => h('th', { scope: 'col', class: numeric.has(index) ? 'num' : undefined }, name)))),
        h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((value, index) => h('td', { class: numeric.has(index) ? 'num' : undefined }, value))))),
      ),
    ),
    h('p', { class: 'scroll-hint' }, 'Scroll sideways for more columns →'),
  );
}

function renderHistory(events: JobEvent[]): HTMLElement {
  const rows = events.map((event) => [
    formatTime(event.at),
    humanize(event.event),
    event.from === null || event.from === event.to ? statusLabels[event.to] : `${statusLabels[event.from]} → ${statusLabels[event.to]}`,
    event.attempt > 0 ? String(event.attempt) : '—',
    event.codeVersion ? event.codeVersion.slice(0, shortIdChars) : '—',
    event.activationId ? event.activationId.slice(0, shortIdChars) : '—',
    describeDetail(event.detail),
  ]);
  const attempts = Math.max(0, ...events.map((event) => event.attempt));
  return h(
    'details',
    { class: 'history' },
    h('summary', {}, `History: ${plural(events.length, 'event')}${attempts > 0 ? `, ${plural(attempts, 'attempt')}` : ''}`),
    renderTable('Job history', ['Time', 'Event', 'Status', 'Attempt', 'Build', 'Activation', 'Detail'], rows, new Set([3])),
  );
}

const maxDetailChars = 160;

/** An event's specifics in a line: its message when it has one, else its fields. */
function describeDetail(detail: Record<string, unknown> | null): string {
  if (detail === null) return '';
  if (typeof detail.message === 'string') return detail.message;
  const text = Object.entries(detail)
    .map(([key, value]) => `${humanize(key).toLowerCase()}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
  return text.length > maxDetailChars ? `${text.slice(0, maxDetailChars - 1)}…` : text;
}
