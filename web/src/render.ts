// Turns job views and result sections into elements. Layout only: what to say is decided in
// result-view.ts and messages.ts.
import type { JobEvent, JobView } from '../../src/client/index.js';
import { h } from './dom.js';
import { formatBytes, formatTime, plural } from './format.js';
import { explainJob, statusLabels, statusTones, type Explanation, type Tone } from './messages.js';
import { describeResult, humanize, type Block, type ResultSection } from './result-view.js';

/** What the page knows about a job before (or besides) the server's view of it. */
export interface JobCardModel {
  jobId: string;
  filename: string;
  size: number;
  contentType: string;
  createdAt: string;
  /** The latest view from `status`, once one arrived. */
  job?: JobView;
  /** Something the page itself has to say (a failed `complete`, polling trouble). */
  notice?: Explanation & { tone: Tone };
}

/** Identifiers shown in full would dominate a phone screen; the full value stays in the title. */
const shortIdChars = 8;

export function renderJobCard(model: JobCardModel): HTMLElement {
  const { job } = model;
  const status = job?.status ?? 'awaiting_upload';
  const explanation = job ? explainJob(job) : { title: 'Starting', detail: '' };
  const headingId = `job-${model.jobId}-name`;
  const sections = job?.result === undefined || job.result === null ? [] : describeResult(job.result);
  return h(
    'article',
    { class: `job tone-${statusTones[status]}`, 'aria-labelledby': headingId, 'data-job-id': model.jobId, 'data-status': status },
    h(
      'header',
      { class: 'job-header' },
      h('h3', { id: headingId, class: 'job-name' }, model.filename),
      h('span', { class: `badge tone-${statusTones[status]}`, 'data-testid': 'job-status' }, statusLabels[status]),
    ),
    h(
      'p',
      { class: 'job-meta' },
      `${formatBytes(job?.size ?? model.size)} · ${job?.contentType ?? model.contentType} · `,
      h('span', { class: 'mono', title: `Job ${model.jobId}` }, `job ${model.jobId.slice(0, shortIdChars)}`),
      job && job.attempts > 0 ? ` · attempt ${job.attempts} of ${job.maxAttempts}` : '',
      job?.buildId ? ' · build ' : '',
      job?.buildId ? h('span', { class: 'mono', title: `Build ${job.buildId}` }, job.buildId.slice(0, shortIdChars)) : null,
      ` · ${formatTime(job?.createdAt ?? model.createdAt)}`,
    ),
    h(
      'div',
      { class: `job-outcome tone-${statusTones[status]}`, 'data-testid': 'job-outcome' },
      h('strong', {}, explanation.title),
      explanation.detail ? ` ${explanation.detail}` : '',
    ),
    model.notice
      ? h('p', { class: `notice tone-${model.notice.tone}`, role: 'alert' }, h('strong', {}, model.notice.title), ` ${model.notice.detail}`)
      : null,
    sections.length > 0 ? h('div', { class: 'result', 'data-testid': 'job-result' }, ...sections.map(renderSection)) : null,
    job?.events && job.events.length > 0 ? renderHistory(job.events) : null,
    job ? h('details', { class: 'raw' }, h('summary', {}, 'Raw JSON'), h('pre', { class: 'mono' }, JSON.stringify(job, null, 2))) : null,
  );
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
  }
}

/**
 * Wide tables scroll sideways inside their own box on a phone; the box is focusable and labelled so
 * a keyboard user can scroll it too.
 */
function renderTable(caption: string, head: string[], rows: string[][], numeric: ReadonlySet<number>): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': caption },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...head.map((name, index) => h('th', { scope: 'col', class: numeric.has(index) ? 'num' : undefined }, name)))),
      h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((value, index) => h('td', { class: numeric.has(index) ? 'num' : undefined }, value))))),
    ),
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
