/**
 * The timeline of a batch monitored chunk by chunk (``monitor(..., time=, chunk=)``), from the
 * saved data alone. Same findings, same order as the static HTML (render/timeline.py) and the
 * widget (widgets/timeline.py): the verdict and notes, performance per chunk (estimate with its
 * ±3 SE band and expected range, realized, registered value, alerts ringed), the drift strip
 * (columns × chunks, worst columns first, chunk statuses on top), then one row per chunk.
 */

import { h, s } from '../dom';
import { asArray, asRecord, asString, fmtInt, fmtNum, fmtPct, isNumber } from '../format';
import { dataTable, IColumn } from '../table';
import { badge, Data, header, list, View } from './common';
import { metricValue } from './monitor';

const PREFERRED = ['roc_auc', 'roc_auc_ovr', 'accuracy', 'f1', 'f1_macro', 'mae', 'rmse'];
const BLUE = '#4c78a8';
const ORANGE = '#f58518';
const RED = '#cf222e';
const STATUS_FILL: Record<string, string> = { ok: '#6fbf73', alert: '#cf222e', error: '#9a6700' };
/** Drift cell colours, as the static strip: [key, colour, words]. */
const CELLS: [string, string, string][] = [
  ['none', '#eaeef2', 'not tested'],
  ['low', '#e3eee0', 'effect < ½ threshold'],
  ['mid', '#f3ecd0', 'effect ½–1× threshold'],
  ['loud', '#e6cf95', 'effect ≥ threshold, not significant'],
  ['drift', '#e5534b', 'drifted'],
  ['strong', '#a40e26', 'drifted, effect ≥ 3× threshold']
];
const CELL_COLOUR = Object.fromEntries(CELLS.map(([k, c]) => [k, c]));

function cellKey(score: unknown, drifted: unknown): string {
  if (drifted === null || drifted === undefined) {
    return 'none';
  }
  const ratio = isNumber(score) ? score : 0;
  if (drifted) {
    return ratio >= 3 ? 'strong' : 'drift';
  }
  return ratio >= 1 ? 'loud' : ratio >= 0.5 ? 'mid' : 'low';
}

function metricsOf(chunks: Data[]): string[] {
  const seen = new Set<string>();
  for (const c of chunks) {
    Object.keys(asRecord(c.estimated)).forEach(k => seen.add(k));
    Object.keys(asRecord(c.metrics)).forEach(k => seen.add(k));
  }
  const rank = (m: string) => (PREFERRED.includes(m) ? PREFERRED.indexOf(m) : 99);
  return [...seen].sort((a, b) => rank(a) - rank(b));
}

function leadMetric(chunks: Data[]): string | null {
  const names = metricsOf(chunks);
  const estimated = names.filter(m => chunks.some(c => m in asRecord(c.estimated)));
  return estimated[0] ?? names[0] ?? null;
}

function estimate(chunk: Data, metric: string): Data {
  return asRecord(asRecord(chunk.estimated)[metric]);
}

function num(value: unknown): number | null {
  return isNumber(value) && Number.isFinite(value) ? value : null;
}

/** Performance of ``metric`` per chunk (or the drift share without one), as SVG. */
function performanceChart(chunks: Data[], metric: string | null, registered: number | null): SVGSVGElement {
  const width = 640;
  const height = 200;
  const m = { top: 14, right: 12, bottom: 24, left: 48 };
  const n = chunks.length;
  const x = (i: number) => m.left + (n > 1 ? (i / (n - 1)) * (width - m.left - m.right) : (width - m.left - m.right) / 2);
  const series = (get: (c: Data) => unknown) => chunks.map((c, i) => ({ i, v: num(get(c)) }));
  const est = metric ? series(c => estimate(c, metric).value) : series(c => c.drift_share);
  const real = metric ? series(c => asRecord(c.metrics)[metric] ?? estimate(c, metric).realized) : [];
  const lower = metric ? series(c => estimate(c, metric).lower) : [];
  const upper = metric ? series(c => estimate(c, metric).upper) : [];
  const bandLo = metric ? series(c => estimate(c, metric).band_lower) : [];
  const bandHi = metric ? series(c => estimate(c, metric).band_upper) : [];
  const values = [...est, ...real, ...lower, ...upper, ...bandLo, ...bandHi].map(p => p.v).filter((v): v is number => v !== null);
  if (registered !== null) {
    values.push(registered);
  }
  const title = metric ?? 'share of drifted columns';
  const svg = s('svg', { class: 'mb-chart-svg mb-timeline-chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': `${title} per chunk` });
  if (!values.length) {
    return svg;
  }
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const pad = Math.max((hi - lo) * 0.08, Math.abs(hi) * 0.01, 1e-6);
  lo -= pad;
  hi += pad;
  const y = (v: number) => m.top + (1 - (v - lo) / (hi - lo)) * (height - m.top - m.bottom);
  const fmt = (v: number) => (metric ? fmtNum(v) : fmtPct(v, 0));
  svg.appendChild(s('text', { x: m.left, y: 10, fill: 'currentColor', 'font-size': 11 }, `${title} per chunk`));
  const axis = s('g', { fill: 'currentColor', 'font-size': 10 });
  for (const v of [lo + pad, hi - pad]) {
    axis.appendChild(s('text', { x: m.left - 4, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
    axis.appendChild(s('line', { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v), stroke: 'currentColor', 'stroke-opacity': 0.15 }));
  }
  const step = Math.max(1, Math.ceil(n / 8));
  chunks.forEach((c, i) => {
    if (i % step === 0) {
      const anchor = x(i) + 32 > width ? 'end' : x(i) - 32 < 0 ? 'start' : 'middle';
      axis.appendChild(s('text', { x: x(i), y: height - 6, 'text-anchor': anchor }, asString(c.label).split(' – ')[0]));
    }
  });
  svg.appendChild(axis);
  const band = (a: { i: number; v: number | null }[], b: { i: number; v: number | null }[], fill: string, opacity: number) => {
    const pts = a.map((p, k) => ({ i: p.i, lo: p.v, hi: b[k].v })).filter(p => p.lo !== null && p.hi !== null);
    if (pts.length < 1) {
      return;
    }
    const path = [...pts.map(p => `${x(p.i)},${y(p.hi as number)}`), ...pts.reverse().map(p => `${x(p.i)},${y(p.lo as number)}`)].join(' ');
    svg.appendChild(s('polygon', { points: path, fill, 'fill-opacity': opacity }));
  };
  band(bandLo, bandHi, '#8c959f', 0.18);
  band(lower, upper, BLUE, 0.22);
  if (registered !== null) {
    svg.appendChild(s('line', { x1: m.left, x2: width - m.right, y1: y(registered), y2: y(registered), stroke: 'currentColor', 'stroke-dasharray': '5 3' }));
  }
  const line = (pts: { i: number; v: number | null }[], colour: string, label: string) => {
    const kept = pts.filter(p => p.v !== null);
    if (!kept.length) {
      return;
    }
    svg.appendChild(s('polyline', { points: kept.map(p => `${x(p.i)},${y(p.v as number)}`).join(' '), fill: 'none', stroke: colour, 'stroke-width': 1.6 }));
    for (const p of kept) {
      svg.appendChild(s('circle', { cx: x(p.i), cy: y(p.v as number), r: 2.5, fill: colour }, s('title', null, `${label}, ${asString(chunks[p.i].label)}: ${fmt(p.v as number)}`)));
    }
  };
  line(est, BLUE, metric ? `estimated ${metric}` : 'drift share');
  line(real, ORANGE, `realized ${metric ?? ''}`);
  chunks.forEach((c, i) => {
    const alerted = metric ? estimate(c, metric).status === 'alert' : c.status !== 'ok';
    const v = est[i].v ?? (real[i] ? real[i].v : null);
    if (alerted && v !== null) {
      svg.appendChild(s('circle', { cx: x(i), cy: y(v), r: 6, fill: 'none', stroke: RED, 'stroke-width': 1.6 }));
    }
  });
  return svg;
}

/** Columns × chunks (worst columns first) with a row of chunk statuses on top. */
function driftStrip(columns: string[], chunks: Data[]): HTMLElement | null {
  if (!columns.length || !chunks.length) {
    return null;
  }
  const label = Math.min(160, 12 + 6 * Math.max(...[...columns, 'chunk status'].map(c => c.length)));
  const width = 640;
  const cw = Math.max(2, Math.min(24, (width - label - 8) / chunks.length));
  const ch = 12;
  const height = 18 + ch * (columns.length + 1) + 8;
  const svg = s('svg', { class: 'mb-chart-svg mb-timeline-strip', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'drift per column and chunk, worst columns first' });
  const text = s('g', { fill: 'currentColor', 'font-size': 10 });
  text.appendChild(s('text', { x: label - 4, y: 18 + ch - 2, 'text-anchor': 'end' }, 'chunk status'));
  columns.forEach((c, r) => text.appendChild(s('text', { x: label - 4, y: 18 + ch * (r + 2) - 3, 'text-anchor': 'end' }, c)));
  svg.appendChild(text);
  chunks.forEach((chunk, j) => {
    const x = label + j * cw;
    const status = asString(chunk.status);
    svg.appendChild(s('rect', { x, y: 18, width: Math.max(1, cw - 1), height: ch - 1, fill: STATUS_FILL[status] ?? '#8c959f' }, s('title', null, `${asString(chunk.label)}: ${status}`)));
    const scores = asArray(chunk.drift);
    const flags = asArray(chunk.drifted);
    columns.forEach((c, r) => {
      const key = cellKey(scores[r], flags[r]);
      svg.appendChild(
        s('rect', { x, y: 18 + ch * (r + 1), width: Math.max(1, cw - 1), height: ch - 1, fill: CELL_COLOUR[key] },
          s('title', null, `${c}, ${asString(chunk.label)}: ${CELLS.find(k => k[0] === key)?.[2] ?? key}${isNumber(scores[r]) ? ` (effect ÷ threshold ${fmtNum(scores[r])})` : ''}`))
      );
    });
  });
  const legend = h('div', { class: 'mb-legend' }, ...CELLS.map(([, colour, words]) => h('span', { class: 'mb-legend-item' }, h('span', { class: 'mb-swatch', style: `background:${colour}` }), words)));
  return h('div', { class: 'mb-chart' }, svg, legend);
}

export const monitorTimeline: View = d => {
  const chunks = asArray(d.chunks).map(asRecord);
  const columns = asArray(d.columns).map(c => asString(c));
  const registered = asRecord(d.registered);
  const bad = chunks.filter(c => c.status !== 'ok').length;
  const metrics = metricsOf(chunks);
  let metric = leadMetric(chunks);
  const chartBox = h('div', { class: 'mb-chart' });
  const draw = () => {
    const value = metric !== null ? num(registered[metric]) : null;
    chartBox.replaceChildren(performanceChart(chunks, metric, value));
  };
  draw();
  const picker = h(
    'select',
    {
      'aria-label': 'metric',
      onchange: (event: Event) => {
        const chosen = (event.target as HTMLSelectElement).value;
        metric = chosen === '' ? null : chosen;
        draw();
      }
    },
    ...metrics.map(m => h('option', { value: m }, m)),
    h('option', { value: '' }, '(share of drifted columns)')
  );
  (picker as HTMLSelectElement).value = metric ?? '';
  const lead = leadMetric(chunks);
  const spec: IColumn<Data>[] = [
    { key: 'index', label: 'chunk', value: r => r.index, numeric: true },
    { key: 'label', label: 'period', value: r => r.label },
    { key: 'n_rows', label: 'rows', value: r => r.n_rows, cell: r => fmtInt(r.n_rows), numeric: true },
    { key: 'status', label: 'status', value: r => r.status, cell: r => badge(r.status) },
    { key: 'drift_share', label: 'drift share', value: r => r.drift_share, cell: r => fmtPct(r.drift_share, 0), numeric: true },
    { key: 'alerts', label: 'alerts', value: r => asArray(r.alerts).length, numeric: true }
  ];
  if (lead) {
    spec.push(
      { key: 'estimated', label: `estimated ${lead}`, value: r => estimate(r, lead).value, cell: r => (num(estimate(r, lead).value) !== null ? `${metricValue(lead, estimate(r, lead).value)} (${metricValue(lead, estimate(r, lead).lower)}–${metricValue(lead, estimate(r, lead).upper)})` : asString(estimate(r, lead).status, '')), numeric: true },
      { key: 'realized', label: `realized ${lead}`, value: r => asRecord(r.metrics)[lead], cell: r => metricValue(lead, asRecord(r.metrics)[lead]), numeric: true }
    );
  }
  const notes = asArray(d.notes);
  return h(
    'div',
    { class: `mb-view mb-timeline mb-monitor-${asString(d.status)}` },
    header(
      h('span', null, h('span', { class: 'mb-kind' }, 'timeline'), ' ', asString(d.target), ' ', badge(d.status)),
      `${chunks.length} chunks by ${asString(d.chunk)}${d.time ? ` of ${asString(d.time)}` : ''}`,
      `${fmtInt(d.n_rows)} rows`,
      bad ? `${bad} with alerts or errors` : 'every chunk ok',
      d.reference ? `reference ${asString(d.reference)}` : null
    ),
    notes.length ? list(notes, 'mb-notes') : null,
    h('div', { class: 'mb-bar' }, h('span', null, 'chart: '), picker),
    chartBox,
    driftStrip(columns, chunks),
    dataTable<Data>({
      columns: spec,
      rows: chunks,
      filter: true,
      filterPlaceholder: 'Filter chunks…',
      toggles: [{ label: 'alerts only', test: r => r.status !== 'ok' }],
      expand: r => list(asArray(r.alerts).map(a => { const x = asRecord(a); return `${asString(x.status)}: ${asString(x.check)}${x.column ? ` [${asString(x.column)}]` : ''}: ${asString(x.message)}`; }), 'mb-alerts'),
      rowClass: r => (r.status === 'ok' ? '' : 'mb-row-alert'),
      empty: 'No chunks.'
    })
  );
};
