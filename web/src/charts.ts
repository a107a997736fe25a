// Column distributions drawn from the CSV profile (result-view.ts decides what to draw and writes
// the text alternative): a histogram in plain SVG for numbers and dates, bars for a text column's
// most frequent values. No charting library: a few rectangles need none, and the page stays small.
//
// Each chart is one image to assistive technology: role="img", named "Distribution of <column>",
// described by a sentence with the figures (visually hidden), so the chart is never the only place
// a number is. Each bin and bar also has a tooltip with its range and count.
import { h } from './dom.js';
import { formatNumber } from './format.js';
import type { Chart } from './result-view.js';

const svgNamespace = 'http://www.w3.org/2000/svg';
/** The histogram's drawing box; it is stretched to the chart's width by CSS. */
const plotWidth = 240;
const plotHeight = 64;

let nextId = 0;

function svg(tag: string, attributes: Record<string, string | number>, ...children: Array<Node | string>): SVGElement {
  const element = document.createElementNS(svgNamespace, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element as SVGElement;
}

export function renderCharts(caption: string, charts: readonly Chart[]): HTMLElement {
  return h('div', { class: 'charts' }, h('p', { class: 'charts-caption' }, caption), h('div', { class: 'chart-grid' }, ...charts.map(renderChart)));
}

function renderChart(chart: Chart): HTMLElement {
  nextId += 1;
  const descriptionId = `chart-${nextId}-description`;
  const graphic = chart.kind === 'histogram' ? histogram(chart, descriptionId) : bars(chart, descriptionId);
  return h(
    'figure',
    { class: `chart chart-${chart.kind}`, 'data-column': chart.column },
    h('figcaption', { class: 'chart-title' }, chart.column),
    graphic,
    h('p', { id: descriptionId, class: 'visually-hidden' }, chart.summary),
  );
}

function histogram(chart: Extract<Chart, { kind: 'histogram' }>, descriptionId: string): HTMLElement {
  const highest = Math.max(1, ...chart.counts);
  const barWidth = plotWidth / chart.counts.length;
  // A hairline between bins while they are wide enough to show one.
  const gap = barWidth > 3 ? 0.6 : 0;
  const rects = chart.counts.map((count, index) => {
    // A bin that has values is never drawn as nothing.
    const height = count === 0 ? 0 : Math.max(1.5, (count / highest) * plotHeight);
    return svg(
      'rect',
      { x: (index * barWidth + gap / 2).toFixed(2), y: (plotHeight - height).toFixed(2), width: Math.max(0.5, barWidth - gap).toFixed(2), height: height.toFixed(2) },
      svg('title', {}, chart.binLabels[index] ?? formatNumber(count)),
    );
  });
  const plot = svg(
    'svg',
    { class: 'histogram', viewBox: `0 0 ${plotWidth} ${plotHeight}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `Distribution of ${chart.column}`, 'aria-describedby': descriptionId },
    svg('line', { class: 'baseline', x1: 0, y1: plotHeight, x2: plotWidth, y2: plotHeight }),
    ...rects,
  );
  return h('div', { class: 'chart-body' }, plot, h('div', { class: 'chart-axis', 'aria-hidden': 'true' }, h('span', {}, chart.from), h('span', {}, chart.to)));
}

function bars(chart: Extract<Chart, { kind: 'bars' }>, descriptionId: string): HTMLElement {
  const highest = Math.max(1, ...chart.bars.map((bar) => bar.count));
  return h(
    'div',
    { class: 'bars', role: 'img', 'aria-label': `Distribution of ${chart.column}`, 'aria-describedby': descriptionId },
    ...chart.bars.map((bar) => {
      const fill = h('span', { class: 'bar-fill' });
      // Through the CSSOM, not a style attribute: a strict Content-Security-Policy allows this.
      fill.style.width = `${((bar.count / highest) * 100).toFixed(1)}%`;
      const share = chart.total > 0 ? ` (${Math.round((bar.count / chart.total) * 100)} %)` : '';
      return h(
        'div',
        { class: 'bar', title: `${bar.label}: ${formatNumber(bar.count)}${share}` },
        h('span', { class: 'bar-label' }, bar.label),
        h('span', { class: 'bar-track' }, fill),
        h('span', { class: 'bar-count' }, formatNumber(bar.count)),
      );
    }),
  );
}
