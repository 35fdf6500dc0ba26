/** Shared pieces of the result views: types, badges, headers, JSON tree, drift table. */

import { categoryChart, histogramChart, ISeries } from '../chart';
import { Child, h } from '../dom';
import {
  asArray,
  asNumbers,
  asRecord,
  asString,
  fmtInt,
  fmtNum,
  isNumber
} from '../format';
import { dataTable, IColumn, kvTable } from '../table';

export const MIME_TYPE = 'application/vnd.modelbook.v1+json';

export interface IBundle {
  type: string;
  version: number;
  data: unknown;
}

export type Data = Record<string, unknown>;
export type View = (data: Data) => HTMLElement;

// -- small pieces ---------------------------------------------------------------------------

export function badge(status: unknown): HTMLElement {
  const text = asString(status, 'unknown');
  return h('span', { class: `mb-badge mb-status-${text.replace(/[^a-z]/gi, '')}` }, text);
}

export function chips(values: unknown[]): HTMLElement {
  return h('span', { class: 'mb-chips' }, ...values.map(v => h('span', { class: 'mb-chip' }, asString(v))));
}

export function header(title: Child, ...meta: Child[]): HTMLElement {
  return h(
    'div',
    { class: 'mb-header' },
    h('div', { class: 'mb-title' }, title),
    h('div', { class: 'mb-meta' }, ...meta.filter(Boolean).map(m => h('span', { class: 'mb-meta-item' }, m)))
  );
}

export function mapping(value: unknown): [string, Child][] {
  return Object.entries(asRecord(value)).map(([k, v]) => [k, scalarOrTree(v)]);
}

export function scalarOrTree(value: unknown): Child {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'number') {
    return fmtNum(value);
  }
  if (typeof value === 'object') {
    return jsonTree(value, 1);
  }
  return String(value);
}

export function list(items: unknown[], className = ''): HTMLElement {
  return h('ul', { class: `mb-list ${className}`.trim() }, ...items.map(i => h('li', null, asString(i))));
}

/** A collapsible tree of any JSON value. */
export function jsonTree(value: unknown, depth = 0): HTMLElement {
  if (value === null || typeof value !== 'object') {
    const type = value === null ? 'null' : typeof value;
    return h('span', { class: `mb-json-${type}` }, value === null ? 'null' : JSON.stringify(value));
  }
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as [string, unknown])
    : Object.entries(value as Data);
  const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  const details = h(
    'details',
    { class: 'mb-json' },
    h('summary', null, summary),
    h(
      'ul',
      null,
      ...entries.map(([k, v]) => h('li', null, h('span', { class: 'mb-json-key' }, `${k}: `), jsonTree(v, depth + 1)))
    )
  );
  details.open = depth < 2;
  return details;
}

// -- distributions --------------------------------------------------------------------------

/** The chart for one stored column profile (a single series). */
export function profileChart(column: Data): HTMLElement {
  const name = asString(column.name);
  const topValues = asArray(column.top_values).map(v => asString(v));
  const edges = asNumbers(column.hist_edges);
  if (edges.length >= 2 && asArray(column.hist_counts).length > 0) {
    return histogramChart(edges, [{ label: name, counts: asNumbers(column.hist_counts), className: 'mb-cur' }], `distribution of ${name}`);
  }
  if (topValues.length > 0) {
    const counts = asNumbers(column.top_counts);
    const other = Number(column.other_count ?? 0);
    const labels = other > 0 ? [...topValues, '(other)'] : topValues;
    return categoryChart(labels, [{ label: name, counts: other > 0 ? [...counts, other] : counts, className: 'mb-cur' }], `categories of ${name}`);
  }
  return h('div', { class: 'mb-muted' }, 'No distribution stored for this column.');
}

export function profileDetail(column: Data): HTMLElement {
  const quantiles = asNumbers(column.quantiles);
  const stats: [string, Child][] = [
    ['count', fmtInt(column.count)],
    ['nulls', fmtInt(column.nulls)],
    ['NaN', fmtInt(column.nan)],
    ['+∞ / −∞', `${fmtInt(column.pos_inf)} / ${fmtInt(column.neg_inf)}`],
    ['distinct', fmtInt(column.distinct)]
  ];
  if (quantiles.length >= 3) {
    stats.push(['median', fmtNum(quantiles[Math.floor(quantiles.length / 2)])]);
  }
  return h('div', { class: 'mb-detail-body' }, profileChart(column), kvTable(stats, 'mb-compact'));
}

/** Reference vs current chart for one drift verdict. */
export function driftChart(column: Data): HTMLElement {
  const name = asString(column.column);
  const series: ISeries[] = [
    { label: 'reference', counts: asNumbers(column.reference_counts), className: 'mb-ref' },
    { label: 'current', counts: asNumbers(column.current_counts), className: 'mb-cur' }
  ];
  const edges = asNumbers(column.bin_edges);
  const labels = asArray(column.bin_labels).map(v => asString(v));
  if (labels.length > 0) {
    return categoryChart(labels, series, `${name}: reference vs current`);
  }
  return histogramChart(edges, series, `${name}: reference vs current`);
}

export function driftDetail(column: Data): HTMLElement {
  const stats: [string, Child][] = Object.entries(asRecord(column.stats)).map(([k, v]) => [k, fmtNum(v)]);
  if (column.p_value !== null && column.p_value !== undefined) {
    stats.unshift(['p-value', fmtNum(column.p_value)]);
  }
  if (isNumber(column.p_threshold)) {
    stats.splice(1, 0, ['p-value held to', fmtNum(column.p_threshold)]);
  }
  const verdict = asString(column.verdict, '');
  return h(
    'div',
    { class: 'mb-detail-body' },
    driftChart(column),
    h(
      'div',
      null,
      verdict ? h('p', { class: 'mb-verdict' }, verdict) : null,
      h('p', { class: 'mb-reason' }, asString(column.reason)),
      kvTable(stats, 'mb-compact')
    )
  );
}

/** The decision first: drifted columns, then by p-value (smallest first), then by statistic. */
export function byDecision(a: Data, b: Data): number {
  const rank = (c: Data) => (c.drifted ? 0 : c.tested === false ? 2 : 1);
  const num = (v: unknown, missing: number) => (isNumber(v) ? v : missing);
  return (
    rank(a) - rank(b) ||
    num(a.p_value, Infinity) - num(b.p_value, Infinity) ||
    num(b.statistic, -Infinity) - num(a.statistic, -Infinity) ||
    asString(a.column).localeCompare(asString(b.column))
  );
}

export function driftTable(columns: Data[]): HTMLElement {
  const spec: IColumn<Data>[] = [
    { key: 'column', label: 'column', value: r => r.column },
    { key: 'kind', label: 'kind', value: r => r.kind },
    { key: 'test', label: 'test', value: r => r.test },
    { key: 'statistic', label: 'statistic', value: r => r.statistic, cell: r => fmtNum(r.statistic), numeric: true },
    { key: 'threshold', label: 'threshold', value: r => r.threshold, cell: r => fmtNum(r.threshold), numeric: true },
    { key: 'p_value', label: 'p-value', value: r => r.p_value, cell: r => fmtNum(r.p_value), numeric: true },
    {
      key: 'drifted',
      label: 'drifted',
      value: r => (r.tested === false ? null : Boolean(r.drifted)),
      cell: r => (r.tested === false ? h('span', { class: 'mb-muted' }, 'not tested') : badge(r.drifted ? 'drift' : 'ok'))
    }
  ];
  if (columns.some(c => asString(c.verdict, ''))) {
    spec.push({ key: 'verdict', label: 'verdict', value: r => asString(r.verdict, ''), cell: r => h('span', { class: 'mb-verdict' }, asString(r.verdict, '')) });
  }
  return dataTable<Data>({
    columns: spec,
    rows: [...columns].sort(byDecision),
    filter: true,
    filterPlaceholder: 'Filter columns…',
    toggles: [{ label: 'drifted only', test: r => Boolean(r.drifted) }],
    expand: driftDetail,
    rowClass: r => (r.drifted ? 'mb-row-alert' : ''),
    className: 'mb-drift'
  });
}
