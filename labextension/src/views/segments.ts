/**
 * The monitor report's segments and fairness sections, from the saved JSON alone: the same
 * findings in the same order as the static HTML (render/segments.py) and the live widget.
 *
 * Segments, per slice: per-segment drift bars (largest effect ÷ threshold, worst first,
 * insufficient groups labelled), a sortable, filterable table of segments × checks (worst
 * first; every segment, insufficient ones marked in words; a row expands to its columns), then
 * the segments with findings, the first ten open. Fairness, per sensitive column: measures
 * ("ratio 0.71 < 0.8"), per-group bars of selection rate / TPR / FPR with n and a dashed line
 * at the ratio threshold, and the groups with why a group is insufficient.
 */

import { h, s, section } from '../dom';
import { asArray, asRecord, asString, fmtInt, fmtNum, fmtPct, isNumber } from '../format';
import { dataTable, IColumn } from '../table';
import { badge, Data } from './common';

/** Segments shown open, segments drawn per chart, segments with findings detailed. */
const OPEN = 10;
const CHART_SEGMENTS = 20;
const DETAILS = 30;
const CAP = 3;
const RANK: Record<string, number> = { alert: 0, error: 1, insufficient: 2, info: 3, ok: 4 };
const P_VALUE_TESTS = ['ks', 'chisquare'];
const RATES: [string, string][] = [
  ['selection_rate', 'selection rate'],
  ['tpr', 'TPR'],
  ['fpr', 'FPR']
];
const ERRORS: [string, string][] = [
  ['mae', 'MAE'],
  ['rmse', 'RMSE']
];

const status = (d: Data): string => asString(d.status, 'ok');
const records = (v: unknown): Data[] => asArray(v).map(asRecord);
const num = (v: unknown, digits = 3): string => (isNumber(v) ? String(Number(v.toPrecision(digits))) : '—');
const rate = (v: unknown): string => (isNumber(v) ? v.toFixed(3) : '—');

export function segmentLabel(column: Data, group: Data): string {
  return `${asString(column.key)}=${asString(group.value)}`;
}

/** Worst first: alert, error, insufficient, then the rest in the engine's order. */
export function orderedGroups(column: Data): Data[] {
  return records(column.groups)
    .map((g, i) => ({ g, i }))
    .sort((a, b) => (RANK[status(a.g)] ?? 5) - (RANK[status(b.g)] ?? 5) || a.i - b.i)
    .map(x => x.g);
}

/** Effect ÷ threshold; −log10(p) ÷ −log10(threshold) for p-value tests. */
function driftRatio(d: Data): number | null {
  const threshold = d.threshold;
  if (!isNumber(threshold) || threshold <= 0) {
    return null;
  }
  if (P_VALUE_TESTS.includes(asString(d.test))) {
    const p = isNumber(d.p_value) ? d.p_value : 1;
    const denominator = -Math.log10(threshold);
    return denominator > 0 ? Math.min(-Math.log10(Math.max(p, 1e-300)) / denominator, 1e3) : null;
  }
  return isNumber(d.statistic) ? d.statistic / threshold : null;
}

function rankedDrift(group: Data): Data[] {
  return records(group.drift).sort(
    (a, b) => Number(!a.drifted) - Number(!b.drifted) || (driftRatio(b) ?? 0) - (driftRatio(a) ?? 0)
  );
}

function score(group: Data): number {
  return Math.max(0, ...records(group.drift).map(d => driftRatio(d) ?? 0));
}

function drifted(group: Data): string[] {
  return rankedDrift(group)
    .filter(d => d.drifted)
    .map(d => asString(d.column));
}

function driftWords(group: Data, names = 3): string {
  const drift = asArray(group.drift);
  if (!drift.length) {
    return '';
  }
  const found = drifted(group);
  const noun = drift.length === 1 ? 'column' : 'columns';
  if (!found.length) {
    return `no drift in ${drift.length} ${noun}`;
  }
  const shown = found.slice(0, names).join(', ') + (found.length > names ? ' …' : '');
  return `drift in ${found.length} of ${drift.length} ${noun} (${shown})`;
}

function predictionWords(group: Data): string {
  const p = group.prediction_drift ? asRecord(group.prediction_drift) : null;
  if (!p) {
    return '';
  }
  const sign = p.drifted ? '≥' : '<';
  return `${p.drifted ? 'drifted' : 'no drift'} (${asString(p.test)} ${num(p.statistic, 2)} ${sign} ${num(p.threshold, 2)})`;
}

/** "accuracy 0.91, roc_auc 0.95 (n 1,234)": realized quality, n said once when shared. */
function qualityWords(group: Data, limit?: number): string {
  const items = Object.entries(asRecord(group.quality));
  const ns = new Set(items.map(([, q]) => asRecord(q).n));
  const shared = ns.size === 1 && items.every(([, q]) => q !== null && typeof q === 'object');
  const parts = items.slice(0, limit ?? items.length).map(([name, q]) => {
    const r = asRecord(q);
    const value = isNumber(q) ? q : r.value;
    return `${name} ${num(value)}${isNumber(r.n) && !shared ? ` (n ${fmtInt(r.n)})` : ''}`;
  });
  if (limit !== undefined && items.length > limit) {
    parts.push('…');
  }
  const n = shared ? [...ns][0] : null;
  return parts.join(', ') + (isNumber(n) && parts.length ? ` (n ${fmtInt(n)})` : '');
}

function nanWords(group: Data): string {
  return Object.entries(asRecord(group.nan))
    .map(([column, counts]) => {
      const c = asRecord(counts);
      const kinds = [
        ['nan', 'NaN'],
        ['inf', 'inf']
      ]
        .filter(([k]) => isNumber(c[k]) && (c[k] as number) > 0)
        .map(([k, label]) => `${fmtInt(c[k])} ${label}`);
      return kinds.length ? `${column}: ${kinds.join(' + ')}` : '';
    })
    .filter(Boolean)
    .join('; ');
}

/** What the segment shows, in the static report's words. */
export function groupWords(group: Data): string {
  if (status(group) === 'insufficient') {
    return `insufficient: ${asString(group.reason, 'too few rows')}; not in any aggregate`;
  }
  const parts = [driftWords(group)];
  const p = asRecord(group.prediction_drift);
  if (p.drifted) {
    parts.push(`prediction drift ${predictionWords(group).replace(/^drifted /, '')}`);
  }
  const nan = nanWords(group);
  if (nan) {
    parts.push(`NaN/inf in ${nan}`);
  }
  const bad = records(group.checks)
    .filter(
      c =>
        (c.status === 'alert' || c.status === 'error') &&
        !asString(c.check).includes('.drift.') &&
        !asString(c.check).includes('.prediction_drift') &&
        c.message
    )
    .map(c => asString(c.message));
  parts.push(...bad.slice(0, 2));
  return parts.filter(Boolean).join('; ');
}

function rowsWords(group: Data): string {
  const rows = isNumber(group.rows) ? `${fmtInt(group.rows)} rows` : 'rows unknown';
  return isNumber(group.share) ? `${rows} (${fmtPct(group.share, 1)})` : rows;
}

/** "region=north (drift in 3 of 30 columns)" when a segment is not ok. */
export function worstSegment(segments: Data): string | null {
  const worst = segments.worst ? asRecord(segments.worst) : null;
  if (!worst || !worst.segment || !worst.status || worst.status === 'ok') {
    return null;
  }
  return `${asString(worst.segment)}${worst.message ? ` (${asString(worst.message)})` : ''}`;
}

// -- charts ---------------------------------------------------------------------------------

interface IBar {
  label: string;
  value: number;
  text: string;
  className: string;
}

/** Horizontal bars on [0, max], each labelled; an optional dashed line (the threshold). */
function barChart(
  bars: IBar[],
  options: { max: number; line?: number | null; title: string; subtitle?: string; width?: number; labels?: boolean; right?: number }
): SVGSVGElement {
  const labels = options.labels ?? true;
  const left = labels ? Math.min(180, 12 + 6.2 * Math.max(4, ...bars.map(b => b.label.length))) : 6;
  const plot = options.width ?? 200;
  const right = options.right ?? 150;
  const step = 16;
  const top = options.subtitle ? 30 : 18;
  const W = left + plot + right;
  const H = top + step * bars.length + 20;
  const x = (v: number) => left + (Math.max(0, Math.min(v, options.max)) / options.max) * plot;
  const svg = s('svg', { class: 'mb-chart-svg mb-bars', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': options.title });
  svg.appendChild(s('title', null, options.subtitle ? `${options.title}: ${options.subtitle}` : options.title));
  svg.appendChild(s('text', { x: 2, y: 11, 'font-size': 11, 'font-weight': 600 }, options.title));
  if (options.subtitle) {
    svg.appendChild(s('text', { x: 2, y: 24, 'font-size': 9 }, options.subtitle));
  }
  bars.forEach((bar, i) => {
    const y = top + i * step;
    if (labels) {
      svg.appendChild(s('text', { x: left - 4, y: y + 11, 'text-anchor': 'end', 'font-size': 10 }, bar.label));
    }
    svg.appendChild(s('rect', { class: `mb-bar ${bar.className}`, x: left, y: y + 2, width: Math.max(0, x(bar.value) - left), height: step - 4 }));
    svg.appendChild(s('text', { x: x(bar.value) + 3, y: y + 11, 'font-size': 9 }, bar.text));
  });
  const bottom = top + step * bars.length;
  svg.appendChild(s('line', { x1: left, x2: left + plot, y1: bottom + 2, y2: bottom + 2, stroke: 'var(--jp-border-color1)' }));
  for (const v of [0, options.max / 2, options.max]) {
    svg.appendChild(s('text', { x: x(v), y: bottom + 15, 'text-anchor': 'middle', 'font-size': 9 }, fmtNum(v)));
  }
  if (isNumber(options.line)) {
    svg.appendChild(s('line', { class: 'mb-threshold', x1: x(options.line), x2: x(options.line), y1: top, y2: bottom + 2, 'stroke-dasharray': '4 3' }));
  }
  return svg;
}

/** The bar's class: the segment's status, "notsig" for an ok one whose largest effect is past
 * its threshold without a small enough p-value (small segments are noisy). */
function barStatus(group: Data): string {
  return status(group) === 'ok' && score(group) >= 1 ? 'notsig' : status(group);
}

function columnStatus(d: Data): string {
  const ratio = driftRatio(d);
  if (d.drifted) {
    return 'alert';
  }
  return P_VALUE_TESTS.includes(asString(d.test)) || ratio === null || ratio < 1 ? 'ok' : 'notsig';
}

function barText(group: Data): string {
  if (status(group) === 'insufficient') {
    return `insufficient: ${asString(group.reason, 'too few rows')}`;
  }
  const drift = asArray(group.drift);
  if (!drift.length) {
    return 'not tested';
  }
  const text = `${drifted(group).length} of ${drift.length} drifted · max ${num(score(group), 2)}×`;
  return barStatus(group) === 'notsig' ? `${text} (not significant)` : text;
}

function segmentsChart(column: Data, groups: Data[]): SVGSVGElement {
  const bars = groups.slice(0, CHART_SEGMENTS).map(g => ({
    label: `${asString(g.value)} (${fmtInt(g.rows)})`,
    value: status(g) === 'insufficient' ? 0 : Math.min(score(g), CAP),
    text: barText(g),
    className: `mb-bar-${barStatus(g)}`
  }));
  const more = groups.length > bars.length ? `; the worst ${bars.length} of ${groups.length}` : '';
  return barChart(bars, {
    max: CAP,
    line: 1,
    title: `largest drift per segment of ${asString(column.key)}`,
    subtitle: `effect ÷ threshold, cut at ${CAP} (dashed: 1, a column's threshold${more})`
  });
}

function segmentColumnsChart(column: Data, group: Data): SVGSVGElement {
  const bars = rankedDrift(group)
    .filter(d => driftRatio(d) !== null)
    .slice(0, 10)
    .map(d => ({
      label: asString(d.column),
      value: Math.min(driftRatio(d) ?? 0, CAP),
      text: `${asString(d.test)} ${num(d.statistic, 2)}${isNumber(d.p_value) ? `, p ${num(d.p_value, 2)}` : ''}`,
      className: `mb-bar-${columnStatus(d)}`
    }));
  return barChart(bars, { max: CAP, line: 1, title: `drift in segment ${segmentLabel(column, group)}`, width: 160 });
}

// -- segments -------------------------------------------------------------------------------

function driftDetail(column: Data, group: Data): HTMLElement {
  const ranked = rankedDrift(group);
  if (!ranked.length) {
    return h('p', { class: 'mb-muted' }, groupWords(group) || 'no columns compared');
  }
  return h(
    'div',
    { class: 'mb-segment-detail' },
    h('div', { class: 'mb-chart' }, segmentColumnsChart(column, group)),
    dataTable<Data>({
      columns: [
        { key: 'drifted', label: 'drift', value: d => (d.drifted ? 'drifted' : 'ok'), cell: d => badge(d.drifted ? 'drifted' : 'ok') },
        { key: 'column', label: 'column', value: d => d.column },
        { key: 'test', label: 'test', value: d => d.test },
        { key: 'statistic', label: 'statistic', value: d => d.statistic, cell: d => fmtNum(d.statistic), numeric: true },
        { key: 'threshold', label: 'threshold', value: d => d.threshold, cell: d => fmtNum(d.threshold), numeric: true },
        { key: 'p_value', label: 'p-value', value: d => d.p_value, cell: d => fmtNum(d.p_value), numeric: true }
      ],
      rows: ranked
    })
  );
}

function segmentsTable(column: Data, groups: Data[]): HTMLElement {
  const columns: IColumn<Data>[] = [
    { key: 'status', label: 'status', value: g => RANK[status(g)] ?? 5, cell: g => badge(status(g)) },
    { key: 'segment', label: 'segment', value: g => segmentLabel(column, g) },
    { key: 'rows', label: 'rows', value: g => g.rows, cell: g => fmtInt(g.rows), numeric: true },
    { key: 'share', label: 'share', value: g => g.share, cell: g => fmtPct(g.share, 1), numeric: true },
    {
      key: 'drift',
      label: 'data drift',
      value: g => drifted(g).length,
      cell: g => (asArray(g.drift).length ? `${drifted(g).length} of ${asArray(g.drift).length}` : '—'),
      numeric: true
    },
    { key: 'prediction', label: 'prediction drift', value: g => predictionWords(g) || '—' },
    { key: 'quality', label: 'quality', value: g => qualityWords(g, 2) || '—' },
    { key: 'nan', label: 'NaN/inf', value: g => nanWords(g) || '—' },
    { key: 'finding', label: 'finding', value: g => groupWords(g) }
  ];
  return dataTable<Data>({
    columns,
    rows: groups,
    filter: true,
    filterPlaceholder: 'Filter segments…',
    toggles: [{ label: 'findings only', test: g => status(g) === 'alert' || status(g) === 'error' }],
    expand: g => driftDetail(column, g),
    rowClass: g => (status(g) === 'alert' || status(g) === 'error' ? 'mb-row-alert' : status(g) === 'insufficient' ? 'mb-row-insufficient' : ''),
    className: 'mb-segments-table'
  });
}

function columnHeading(column: Data, groups: Data[]): string {
  const count = (st: string) => groups.filter(g => status(g) === st).length;
  const parts = [`${count('alert')} of ${groups.length} segment${groups.length === 1 ? '' : 's'} alert`];
  if (count('error')) {
    parts.push(`${count('error')} error`);
  }
  if (count('insufficient')) {
    parts.push(`${count('insufficient')} insufficient`);
  }
  return `Segments by ${asString(column.key)}: ${parts.join(', ')}`;
}

function columnNotes(column: Data, settings: Data): string[] {
  const notes: string[] = [];
  const other = column.other ? asRecord(column.other) : null;
  if (other && isNumber(other.values) && other.values > 0) {
    notes.push(
      `${asString(column.key)} has ${fmtInt(column.n_values)} values: the most frequent ${asString(settings.max_segments, '50')} are segments, ` +
        `the other ${fmtInt(other.values)} values (${fmtInt(other.rows)} rows) are the segment (other)`
    );
  }
  if (column.reference === 'whole') {
    notes.push(asString(column.reference_note) || 'the reference has no such column: each segment is compared with the whole reference');
  } else if (column.reference_note) {
    notes.push(asString(column.reference_note));
  }
  return notes;
}

function segmentDetails(column: Data, group: Data, open: boolean): HTMLElement {
  // The segment's alerts other than its drifted columns (those are rows of the drift table).
  const other = records(group.checks).filter(
    c => (c.status === 'alert' || c.status === 'error') && !asString(c.check).includes('.drift.column')
  );
  const details = h(
    'details',
    { class: 'mb-segment', 'data-mb-segment': segmentLabel(column, group) },
    h('summary', null, badge(status(group)), ` ${segmentLabel(column, group)} · ${rowsWords(group)} · ${groupWords(group)}`),
    driftDetail(column, group),
    other.length ? h('ul', { class: 'mb-list' }, ...other.map(c => h('li', null, badge(asString(c.status)), ` ${asString(c.check)}: ${asString(c.message)}`))) : null,
    qualityWords(group) ? h('p', null, `quality (realized): ${qualityWords(group)}`) : null
  );
  details.open = open;
  return details;
}

function sliceBlock(column: Data, settings: Data): HTMLElement {
  const groups = orderedGroups(column);
  const notes = columnNotes(column, settings);
  const found = groups.filter(g => status(g) === 'alert' || status(g) === 'error');
  const charted = groups.some(g => asArray(g.drift).length || status(g) === 'insufficient');
  return h(
    'div',
    { class: 'mb-segment-slice', 'data-mb-slice': asString(column.key) },
    h('h4', null, columnHeading(column, groups)),
    notes.length ? h('p', { class: 'mb-note' }, notes.map(n => `${n}.`).join(' ')) : null,
    charted ? h('div', { class: 'mb-chart' }, segmentsChart(column, groups)) : null,
    segmentsTable(column, groups),
    ...found.slice(0, DETAILS).map((g, i) => segmentDetails(column, g, i < OPEN)),
    found.length > DETAILS ? h('p', { class: 'mb-muted' }, `… ${found.length - DETAILS} more segments with findings (in the table above)`) : null
  );
}

function methodNote(settings: Data): string {
  const holm =
    asString(settings.correction, 'holm') === 'holm'
      ? 'p-values are Holm-corrected across the segments of one column, so many unchanged segments do not alert by chance'
      : `p-value correction across segments: ${asString(settings.correction)}`;
  return (
    "Each segment is checked with the whole batch's rules and thresholds against the same segment of the reference; " +
    `${holm}. Segments under ${asString(settings.min_group, '30')} rows are insufficient: listed with their size, never dropped and never part of an aggregate.`
  );
}

/** The segments section, or null when the report has none. */
export function segmentsSection(segments: Data): HTMLElement | null {
  const columns = records(segments.columns);
  if (!columns.length) {
    return null;
  }
  const settings = asRecord(segments.settings);
  const worst = worstSegment(segments);
  return section(
    `Segments: ${worst ? `worst ${worst}` : 'no segment alerts'}`,
    [h('p', { class: 'mb-note' }, methodNote(settings)), ...columns.map(c => sliceBlock(c, settings))],
    { className: worst ? 'mb-alert-section mb-segments' : 'mb-segments' }
  );
}

// -- fairness -------------------------------------------------------------------------------

const MEASURE_LABELS: Record<string, string> = {
  demographic_parity_difference: 'demographic parity difference',
  demographic_parity_ratio: 'demographic parity ratio',
  equalized_odds_difference: 'equalized odds difference',
  equalized_odds_ratio: 'equalized odds ratio',
  equal_opportunity_difference: 'equal opportunity difference',
  equal_opportunity_ratio: 'equal opportunity ratio',
  mae_ratio: 'MAE ratio',
  rmse_ratio: 'RMSE ratio'
};

const measureLabel = (name: unknown): string => MEASURE_LABELS[asString(name)] ?? asString(name).replace(/_/g, ' ');

export function measureWords(m: Data): string {
  if (m.message) {
    return asString(m.message);
  }
  if (!isNumber(m.value)) {
    return 'insufficient';
  }
  const alert = m.status === 'alert';
  return m.kind === 'ratio'
    ? `ratio ${m.value.toFixed(2)} ${alert ? '<' : '≥'} ${num(m.threshold)}`
    : `difference ${m.value.toFixed(2)} ${alert ? '>' : '≤'} ${num(m.threshold)}`;
}

/** The first alerting measure: "demographic parity ratio by gender ratio 0.71 < 0.8". */
export function fairnessHeadline(fairness: Data): string | null {
  const found = records(fairness.columns).flatMap(c => records(c.measures).filter(m => m.status === 'alert').map(m => ({ c, m })));
  if (!found.length) {
    return null;
  }
  const { c, m } = found[0];
  const words = measureWords(m).split(' (')[0];
  return `${measureLabel(m.name)} by ${asString(c.key)} ${words}${found.length > 1 ? ` (+${found.length - 1} more)` : ''}`;
}

function missingFor(group: Data, key: string): boolean {
  return asArray(group.insufficient_for).includes(key);
}

function perGroupMeasures(column: Data): [string, string][] {
  const groups = records(column.groups);
  const present = [...RATES, ...ERRORS].filter(([k]) => groups.some(g => isNumber(g[k])));
  return present.length ? present : RATES.slice(0, 1);
}

/** Where a bar must reach for its ratio to pass (as render/segments.py threshold_line). */
export function thresholdLine(column: Data, key: string, settings: Data): [number | null, string] {
  const ratio = settings.ratio;
  if (!isNumber(ratio) || ratio <= 0) {
    return [null, ''];
  }
  const groups = records(column.groups).filter(g => status(g) !== 'insufficient' && !missingFor(g, key));
  const values = groups.map(g => g[key]).filter(isNumber);
  if (!values.length) {
    return [null, ''];
  }
  if (ERRORS.some(([k]) => k === key)) {
    return [Math.min(...values) / ratio, `the lowest group's ÷ ${ratio}`];
  }
  // One base group for every column, or a table {column key: value}.
  const given = settings.reference_group;
  const ref = given !== null && typeof given === 'object' ? asRecord(given)[asString(column.key)] : given;
  if (ref !== null && ref !== undefined) {
    const base = groups.find(g => asString(g.value) === asString(ref))?.[key];
    if (isNumber(base)) {
      return [base * ratio, `${ratio} × group ${asString(ref)}'s`];
    }
  }
  const overall = asRecord(column.overall)[key];
  if (settings.method === 'to_overall' && isNumber(overall)) {
    return [overall * ratio, `${ratio} × overall`];
  }
  return [Math.max(...values) * ratio, `${ratio} × the highest group's`];
}

function fairnessCharts(column: Data, settings: Data): HTMLElement {
  const groups = records(column.groups);
  const panels = perGroupMeasures(column).map(([key, label], i) => {
    const [line, how] = thresholdLine(column, key, settings);
    const isError = ERRORS.some(([k]) => k === key);
    const values = groups.map(g => g[key]).filter(isNumber);
    const max = isError ? Math.max(1e-9, ...values, line ?? 0) * 1.1 : 1;
    const bars = groups.map(g => {
      const v = g[key];
      const missing = missingFor(g, key) || !isNumber(v);
      const past = !missing && isNumber(line) && isNumber(v) && (isError ? v > line : v < line);
      const faint = status(g) === 'insufficient' || missing;
      return {
        label: `${asString(g.value)} (n ${fmtInt(g.rows)}${status(g) === 'insufficient' ? ', insufficient' : ''})`,
        value: isNumber(v) ? v : 0,
        text: missing ? 'insufficient' : isError ? num(v) : rate(v),
        className: `${past ? 'mb-bar-alert' : 'mb-bar-ref'}${faint ? ' mb-bar-faint' : ''}`
      };
    });
    const subtitle = isNumber(line) ? `dashed: ${how} (${num(line)})` : 'no threshold line';
    return barChart(bars, { max, line, title: label, subtitle, width: 150, labels: i === 0, right: 70 });
  });
  return h('div', { class: 'mb-chart mb-fairness-charts' }, ...panels);
}

function measuresTable(column: Data): HTMLElement {
  return dataTable<Data>({
    columns: [
      { key: 'status', label: 'status', value: m => m.status, cell: m => badge(status(m)) },
      { key: 'name', label: 'measure', value: m => measureLabel(m.name) },
      { key: 'value', label: 'value', value: m => m.value, cell: m => num(m.value), numeric: true },
      { key: 'threshold', label: 'threshold', value: m => m.threshold, cell: m => num(m.threshold), numeric: true },
      {
        key: 'groups',
        label: 'groups',
        value: m => m.groups_covered,
        cell: m => (isNumber(m.groups_covered) ? `${m.groups_covered} of ${asString(m.groups_total)}` : '—'),
        numeric: true
      },
      { key: 'baseline', label: 'baseline', value: m => m.baseline, cell: m => num(m.baseline), numeric: true },
      {
        key: 'change',
        label: 'change',
        value: m => m.change,
        cell: m => (isNumber(m.change) ? `${m.change >= 0 ? '+' : ''}${num(m.change)}` : '—'),
        numeric: true
      },
      { key: 'finding', label: 'finding', value: m => measureWords(m) }
    ],
    rows: records(column.measures),
    rowClass: m => (m.status === 'alert' ? 'mb-row-alert' : '')
  });
}

function groupStatus(g: Data): HTMLElement {
  if (status(g) === 'insufficient') {
    return h('span', null, badge('insufficient'), ` ${asString(g.reason, 'too few rows')}`);
  }
  const missing = asArray(g.insufficient_for).map(k => (k === 'tpr' || k === 'fpr' ? asString(k).toUpperCase() : asString(k)));
  if (missing.length) {
    return h('span', null, badge('ok'), ` ${missing.join(', ')} insufficient${g.reason ? `: ${asString(g.reason)}` : ''}`);
  }
  return badge('ok');
}

function groupsTable(column: Data): HTMLElement {
  const groups = records(column.groups);
  const measures = perGroupMeasures(column);
  if (groups.some(g => isNumber(g.accuracy))) {
    measures.push(['accuracy', 'accuracy']);
  }
  const columns: IColumn<Data>[] = [
    { key: 'value', label: 'group', value: g => g.value },
    { key: 'rows', label: 'rows', value: g => g.rows, cell: g => fmtInt(g.rows), numeric: true }
  ];
  if (groups.some(g => isNumber(g.positives))) {
    columns.push({ key: 'positives', label: 'positives', value: g => g.positives, cell: g => fmtInt(g.positives), numeric: true });
  }
  for (const [key, label] of measures) {
    const isRate = RATES.some(([k]) => k === key);
    columns.push({
      key,
      label,
      value: g => g[key],
      cell: g => (missingFor(g, key) ? 'insufficient' : isRate ? rate(g[key]) : num(g[key])),
      numeric: true
    });
  }
  // The model's metrics measured per group, but those shown already (recall is the TPR).
  const metrics = [...new Set(groups.flatMap(g => Object.keys(asRecord(g.metrics))))].filter(n => n !== 'accuracy' && n !== 'recall');
  for (const name of metrics) {
    columns.push({ key: `metric:${name}`, label: name, value: g => asRecord(g.metrics)[name], cell: g => rate(asRecord(g.metrics)[name]), numeric: true });
  }
  columns.push({ key: 'status', label: 'status', value: g => g.status, cell: g => groupStatus(g) });
  return dataTable<Data>({ columns, rows: groups, rowClass: g => (status(g) === 'insufficient' ? 'mb-row-insufficient' : '') });
}

/** The column's `fairness.<key>[.class=<c>].<measure>.change` checks that alerted. */
function changeAlerts(column: Data, checks: Data[]): Data[] {
  const prefix = `fairness.${asString(column.key)}.`;
  const cls = asString(column.class).replace(/ \(one-vs-rest\)$/, '');
  return checks.filter(c => {
    const name = asString(c.check);
    return (
      name.startsWith(prefix) && name.endsWith('.change') && (c.status === 'alert' || c.status === 'error') && (!cls || name.includes(`.class=${cls}.`))
    );
  });
}

function fairnessColumn(column: Data, settings: Data, checks: Data[]): HTMLElement {
  const measures = records(column.measures);
  const alerts = measures.filter(m => m.status === 'alert');
  const allInsufficient = measures.length > 0 && measures.every(m => m.status === 'insufficient');
  const st = alerts.length ? 'alert' : allInsufficient ? 'insufficient' : 'ok';
  const changes = changeAlerts(column, checks);
  const name = `${asString(column.key)}${column.class ? ` (${asString(column.class)})` : ''}`;
  const baseline = column.baseline && typeof column.baseline === 'object' ? asRecord(column.baseline) : null;
  const dataset = baseline?.dataset ? ` ${asString(baseline.dataset)}` : '';
  let baselineNote = baseline ? asString(baseline.note, 'no baseline') : '';
  if (baseline?.source === 'reference') {
    baselineNote = `baseline from the run's reference${dataset}`; // reference= another dataset
  } else if (baseline?.source) {
    baselineNote = `baseline from the model's ${asString(baseline.source)} data${dataset}`;
  }
  return h(
    'div',
    { class: 'mb-fairness-column', 'data-mb-sensitive': asString(column.key) },
    h('h4', null, `Fairness by ${name} `, badge(st)),
    baselineNote ? h('p', { class: 'mb-note' }, `${baselineNote}.`) : null,
    measuresTable(column),
    changes.length ? h('ul', { class: 'mb-list' }, ...changes.map(c => h('li', null, badge(c.status), ` ${asString(c.check)}: ${asString(c.message)}`))) : null,
    fairnessCharts(column, settings),
    groupsTable(column)
  );
}

function fairnessNote(fairness: Data): string {
  const st = asRecord(fairness.settings);
  let how = st.method === 'to_overall' ? 'to the overall rate' : 'between groups (lowest ÷ highest)';
  const ref = st.reference_group;
  if (ref !== null && typeof ref === 'object' && Object.keys(asRecord(ref)).length) {
    how = `to a base group (${Object.entries(asRecord(ref))
      .map(([k, v]) => `${k}: ${asString(v)}`)
      .join(', ')})`;
  } else if (ref !== null && ref !== undefined) {
    how = `to group ${asString(ref)}`;
  }
  const parts = [
    `Measures as Fairlearn defines them, compared ${how}: a ratio alerts below ${asString(st.ratio, '0.8')}, a difference above ${asString(st.difference, '0.1')}, ` +
      "and so does a change of either from the model's evaluation/training data by more than the same threshold",
    `groups under ${asString(st.min_group, '30')} rows, or with fewer than ${asString(st.min_positives, '10')} positives (negatives) for TPR (FPR), are insufficient: ` +
      'left out of the aggregate, which says how many groups it covers'
  ];
  if (fairness.note) {
    parts.push(asString(fairness.note));
  }
  if (fairness.positive !== null && fairness.positive !== undefined) {
    parts.push(`positive class: ${asString(fairness.positive)}`);
  }
  return `${parts.join('; ')}.`;
}

/** The fairness section, or null when the report has none. */
export function fairnessSection(fairness: Data, checks: Data[] = []): HTMLElement | null {
  const columns = records(fairness.columns);
  if (!columns.length) {
    return null;
  }
  const settings = asRecord(fairness.settings);
  const headline = fairnessHeadline(fairness);
  return section(
    `Fairness: ${headline ?? 'no disparity past the thresholds'}`,
    [h('p', { class: 'mb-note' }, fairnessNote(fairness)), ...columns.map(c => fairnessColumn(c, settings, checks))],
    { className: headline ? 'mb-alert-section mb-fairness' : 'mb-fairness' }
  );
}
