/** Views of monitoring: a monitor report and the history of runs. */

import { ITrendPoint, trendChart } from '../chart';
import { h, s, section } from '../dom';
import {
  asArray,
  asRecord,
  asString,
  fmtDate,
  fmtInt,
  fmtNum,
  fmtPct,
  isNumber
} from '../format';
import { dataTable, IColumn, kvTable } from '../table';
import { badge, Data, driftDetail, driftTable, header, View } from './common';
import { fairnessHeadline, fairnessSection, segmentsSection, worstSegment } from './segments';

// -- monitoring -----------------------------------------------------------------------------
//
// The report's sections, in the order of the static HTML (render/monitor.py) and of the live
// widget (widgets/monitor.py): summary, findings (errors and alerts first), data drift,
// prediction drift, quality, segments, fairness, serving cost, changes since registration. Each section carries
// ``data-mb-section`` with the same key as the widget's. The full check list and the run's
// details follow, folded, as extras of this view.

const STATUS_ORDER: Record<string, number> = { error: 0, alert: 1, info: 2 };
/** Informational checks with a section of their own (not repeated under findings). */
const OWN_SECTIONS = ['drift.column', 'quality.', 'serving.', 'performance.estimated.'];

/** Metric names in sentences, as the static report words them (render/monitor.py). */
const METRIC_LABELS: Record<string, string> = {
  roc_auc: 'ROC AUC',
  roc_auc_ovr: 'ROC AUC (one-vs-rest)',
  f1: 'F1',
  precision_macro: 'precision (macro)',
  recall_macro: 'recall (macro)',
  f1_macro: 'F1 (macro)',
  mae: 'MAE',
  rmse: 'RMSE'
};
const LEAD_METRICS = ['roc_auc', 'roc_auc_ovr', 'mae'];

/** A metric as the static report writes it: 3 decimals, errors (MAE, RMSE) to 4 figures. */
export function metricValue(name: string, value: unknown): string {
  if (!isNumber(value)) {
    return '—';
  }
  return name === 'mae' || name === 'rmse' ? String(Number(value.toPrecision(4))) : value.toFixed(3);
}

/** The summary's lead: "estimated ROC AUC 0.912 (0.905–0.919), registered 0.970". */
export function estimateLine(estimated: Data): string | null {
  const names = Object.keys(estimated);
  if (!names.length) {
    return null;
  }
  const name = LEAD_METRICS.find(m => m in estimated) ?? names[0];
  const e = asRecord(estimated[name]);
  const label = METRIC_LABELS[name] ?? name;
  if (!isNumber(e.value)) {
    return `estimated ${label}: insufficient (${asString(e.reason, 'too few rows')})`;
  }
  let text = `estimated ${label} ${metricValue(name, e.value)}`;
  if (isNumber(e.lower) && isNumber(e.upper)) {
    text += ` (${metricValue(name, e.lower)}–${metricValue(name, e.upper)})`;
  }
  if (isNumber(e.registered)) {
    text += `, ${asString(e.registered_kind, 'registered')} ${metricValue(name, e.registered)}`;
  }
  const alerted = (r: Data) => (r.rule === 'drop' ? 'beyond its allowed drop' : 'outside its band');
  if (e.status === 'alert') {
    text += `, ${alerted(e)}`;
  }
  const others = names.filter(m => m !== name && asRecord(estimated[m]).status === 'alert');
  for (const other of others.slice(0, 2)) {
    const o = asRecord(estimated[other]);
    text += `; ${METRIC_LABELS[other] ?? other} ${metricValue(other, o.value)} ${alerted(o)}`;
  }
  if (others.length > 2) {
    text += ` (and ${others.length - 2} more)`;
  }
  return text;
}

/** Estimated performance: value, ±3 SE, band, realized beside it when labels came. */
function estimatedTable(estimated: Data): HTMLElement {
  const names = Object.keys(estimated);
  const rec = (k: string) => asRecord(estimated[k]);
  const realized = names.some(k => isNumber(rec(k).realized));
  const kinds = new Set(names.map(k => rec(k).registered_kind).filter(k => typeof k === 'string'));
  const base = kinds.size === 1 ? asString([...kinds][0]) : 'registered / measured';
  const range = (k: string, lo: string, hi: string) =>
    isNumber(rec(k)[lo]) ? `${metricValue(k, rec(k)[lo])}–${metricValue(k, rec(k)[hi])}` : '—';
  const columns: IColumn<string>[] = [
    { key: 'status', label: 'status', value: k => rec(k).status, cell: k => badge(rec(k).status === 'insufficient' ? 'info' : rec(k).status) },
    { key: 'metric', label: 'metric', value: k => METRIC_LABELS[k] ?? k },
    {
      key: 'estimated',
      label: 'estimated',
      value: k => rec(k).value,
      cell: k => (isNumber(rec(k).value) ? metricValue(k, rec(k).value) : `insufficient: ${asString(rec(k).reason)}`),
      numeric: true
    },
    { key: 'se', label: '±3 SE', value: k => rec(k).lower, cell: k => range(k, 'lower', 'upper'), numeric: true },
    { key: 'band', label: 'band', value: k => rec(k).band_lower, cell: k => range(k, 'band_lower', 'band_upper'), numeric: true }
  ];
  if (realized) {
    columns.push({ key: 'realized', label: 'realized', value: k => rec(k).realized, cell: k => metricValue(k, rec(k).realized), numeric: true });
  }
  columns.push({ key: 'registered', label: base || 'registered', value: k => rec(k).registered, cell: k => metricValue(k, rec(k).registered), numeric: true });
  return dataTable<string>({ columns, rows: names, rowClass: k => (rec(k).status === 'alert' ? 'mb-row-alert' : '') });
}

const SERVING_LABELS: [string, string][] = [
  ['latency_ms', 'one-row predict latency (ms)'],
  ['batch_us_per_row', 'batch cost per row (µs)'],
  ['rows_per_second', 'batch throughput (rows/s)']
];
/** Keys with the number of timed samples behind a pair of percentiles. */
const SAMPLE_KEYS: Record<string, string[]> = {
  latency_ms: ['latency_samples', 'latency_ms_samples'],
  batch_us_per_row: ['batch_chunks', 'batch_samples', 'batch_us_per_row_samples']
};

/** (measure, value) rows as the static report words them: a p50/p95 pair from one timed
 * sample is one value, "one sample", not two identical percentiles. */
export function servingRows(serving: Data): [string, string][] {
  const rows: [string, string][] = [];
  const used = new Set<string>();
  for (const [prefix, label] of SERVING_LABELS) {
    const p50 = serving[`${prefix}_p50`];
    const p95 = serving[`${prefix}_p95`];
    const sampleKeys = SAMPLE_KEYS[prefix] ?? [];
    const samplesKey = sampleKeys.find(k => k in serving);
    const samples = samplesKey ? serving[samplesKey] : undefined;
    [`${prefix}_p50`, `${prefix}_p95`, ...sampleKeys].forEach(k => used.add(k));
    if (prefix in serving) {
      rows.push([label, fmtNum(serving[prefix])]);
      used.add(prefix);
    } else if (isNumber(p50) && isNumber(p95) && (samples === 1 || p50 === p95)) {
      rows.push([label, `${fmtNum(p50)} (one sample)`]);
    } else {
      const n = isNumber(samples) ? ` of ${fmtInt(samples)} samples` : '';
      if (isNumber(p50)) {
        rows.push([`${label}, median${n}`, fmtNum(p50)]);
      }
      if (isNumber(p95)) {
        rows.push([`${label}, p95${n}`, fmtNum(p95)]);
      }
    }
  }
  for (const [k, v] of Object.entries(serving)) {
    if (!used.has(k)) {
      rows.push([k, fmtNum(v)]);
    }
  }
  return rows;
}

/** Checks worth a look, as the static report picks them: errors, alerts, then information. */
export function findings(checks: Data[]): Data[] {
  const status = (c: Data) => asString(c.status);
  const check = (c: Data) => asString(c.check);
  const found = checks.filter(
    c =>
      status(c) in STATUS_ORDER &&
      check(c) !== 'drift.column' &&
      // A segment's own checks live in the segments section; `segments.<key>` stands for them.
      !check(c).startsWith('segment.') &&
      (status(c) !== 'info' || !OWN_SECTIONS.some(p => check(c).startsWith(p)))
  );
  found.push(...checks.filter(c => check(c) === 'drift.column' && status(c) === 'alert'));
  return found
    .map((c, i) => ({ c, i }))
    .sort((a, b) => STATUS_ORDER[status(a.c)] - STATUS_ORDER[status(b.c)] || a.i - b.i)
    .map(x => x.c);
}

function checkTable(checks: Data[], className: string): HTMLElement {
  return dataTable<Data>({
    columns: [
      { key: 'status', label: 'status', value: r => r.status, cell: r => badge(r.status) },
      { key: 'check', label: 'check', value: r => r.check },
      { key: 'column', label: 'column', value: r => r.column },
      { key: 'message', label: 'finding', value: r => r.message },
      { key: 'statistic', label: 'statistic', value: r => r.statistic, cell: r => fmtNum(r.statistic), numeric: true },
      { key: 'threshold', label: 'threshold', value: r => r.threshold, cell: r => fmtNum(r.threshold), numeric: true }
    ],
    rows: checks,
    filter: true,
    filterPlaceholder: 'Filter checks…',
    toggles: [{ label: 'alerts only', test: r => r.status === 'alert' || r.status === 'error' }],
    rowClass: r => (r.status === 'alert' || r.status === 'error' ? 'mb-row-alert' : ''),
    className
  });
}

function metricsComparison(current: Data, reference: Data): HTMLElement {
  const keys = Object.keys(current); // as the static report: the batch's metrics
  const registered = (k: string) => reference[k] ?? reference[Object.keys(reference).find(r => r.toLowerCase() === k) ?? ''];
  return dataTable<string>({
    columns: [
      { key: 'metric', label: 'metric', value: k => k },
      { key: 'current', label: 'batch', value: k => current[k], cell: k => fmtNum(current[k]), numeric: true },
      { key: 'reference', label: 'registered', value: k => registered(k), cell: k => fmtNum(registered(k)), numeric: true },
      {
        key: 'change',
        label: 'change',
        value: k => (isNumber(current[k]) && isNumber(registered(k)) ? (current[k] as number) - (registered(k) as number) : null),
        cell: k => {
          const a = registered(k);
          const b = current[k];
          return isNumber(a) && isNumber(b) ? `${b - a >= 0 ? '+' : ''}${fmtNum(b - a)}` : '—';
        },
        numeric: true
      }
    ],
    rows: keys
  });
}

/** Where the batch's error lies against the band, in words (as the static report says it). */
function bandWhere(p: Data): string {
  const error = Number(p.error);
  return error > Number(p.upper) ? 'above the band' : error < Number(p.lower) ? 'below the band' : 'within the band';
}

/** The batch's mean reconstruction error (a point) against the reference band, reference
 * chunks as ticks and their mean as a dashed rule: the static report's chart, drawn natively. */
function bandChart(p: Data): SVGSVGElement {
  const W = 440;
  const H = 64;
  const left = 12;
  const right = 12;
  const chunks = asArray(p.chunk_errors).filter(isNumber);
  const values = [p.lower, p.upper, p.error, ...chunks].filter(isNumber);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = (hi - lo) * 0.08 || 0.1;
  const a = Math.max(0, lo - pad);
  const b = hi + pad;
  const x = (v: number) => left + ((v - a) / (b - a)) * (W - left - right);
  const title = `batch ${fmtNum(p.error)}: ${bandWhere(p)} [${fmtNum(p.lower)}, ${fmtNum(p.upper)}]`;
  const svg = s('svg', { class: 'mb-chart-svg mb-band', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': title });
  svg.appendChild(s('title', null, title));
  if (isNumber(p.lower) && isNumber(p.upper)) {
    svg.appendChild(s('rect', { x: x(p.lower), y: 8, width: Math.max(1, x(p.upper) - x(p.lower)), height: 32, fill: 'var(--mb-ref)', opacity: 0.35 }));
  }
  for (const c of chunks) {
    svg.appendChild(s('line', { x1: x(c), x2: x(c), y1: 14, y2: 34, stroke: 'var(--mb-cur)', opacity: 0.5 }));
  }
  if (isNumber(p.center)) {
    svg.appendChild(s('line', { x1: x(p.center), x2: x(p.center), y1: 8, y2: 40, stroke: 'var(--jp-ui-font-color1)', 'stroke-dasharray': '4 2' }));
  }
  if (isNumber(p.error)) {
    const color = p.drifted ? 'var(--jp-error-color1)' : 'var(--jp-warn-color1)';
    svg.appendChild(s('circle', { cx: x(p.error), cy: 24, r: 6, fill: color }));
  }
  svg.appendChild(s('line', { x1: left, x2: W - right, y1: 44, y2: 44, stroke: 'var(--jp-border-color1)' }));
  for (const v of [a, (a + b) / 2, b]) {
    svg.appendChild(s('text', { x: x(v), y: 58, 'text-anchor': 'middle', 'font-size': 10, fill: 'var(--jp-ui-font-color2)' }, fmtNum(v)));
  }
  return svg;
}

/** The multivariate section: error against the band with its top columns, then the domain
 * classifier's AUC and its top columns; the same findings as render/multivariate.py. */
function multivariateSection(m: Data): HTMLElement | null {
  const pca = m.pca ? asRecord(m.pca) : null;
  const cls = m.classifier ? asRecord(m.classifier) : null;
  const notes = asArray(m.notes).map(n => asString(n));
  if (!pca && !cls && !notes.length) {
    return null;
  }
  const drifted = Boolean(pca?.drifted) || Boolean(cls?.drifted);
  const parts: HTMLElement[] = [];
  if (pca) {
    const extra = Number(pca.error) > Number(pca.center);
    const share = extra ? 'share of the extra error' : 'share of the residual';
    const rows = asArray(pca.contributions).map(asArray).filter(c => Number(c[1]) >= 0.0005).slice(0, 8);
    parts.push(
      h(
        'p',
        null,
        badge(pca.drifted ? 'alert' : 'ok'),
        ` Mean reconstruction error ${fmtNum(pca.error)} ${bandWhere(pca)} [${fmtNum(pca.lower)}, ${fmtNum(pca.upper)}]: ` +
          `the reference chunks' mean ${fmtNum(pca.center)} ± ${fmtNum(pca.sigma)}σ. ${fmtInt(pca.components)} principal components keep ` +
          `${fmtPct(pca.explained, 0)} of the variance of ${fmtInt(pca.features)} columns.`
      ),
      h('div', { class: 'mb-chart' }, bandChart(pca)),
      dataTable<unknown[]>({
        columns: [
          { key: 'column', label: 'column', value: c => c[0] },
          { key: 'share', label: share, value: c => c[1], cell: c => fmtPct(c[1], 1), numeric: true },
          { key: 'batch', label: 'batch mean squared residual', value: c => c[2], cell: c => fmtNum(c[2]), numeric: true },
          { key: 'reference', label: 'reference', value: c => c[3], cell: c => fmtNum(c[3]), numeric: true }
        ],
        rows
      })
    );
  }
  if (cls) {
    parts.push(
      h(
        'p',
        null,
        badge(cls.drifted ? 'alert' : 'ok'),
        ` Domain classifier: AUC ${fmtNum(cls.auc)} ${cls.drifted ? '>' : '≤'} ${fmtNum(cls.threshold)} ` +
          `(${fmtInt(cls.batch_rows)} batch vs ${fmtInt(cls.reference_rows)} reference rows, ${fmtInt(cls.folds)}-fold cross-validation); 0.5 means it cannot tell them apart.`
      ),
      dataTable<unknown[]>({
        columns: [
          { key: 'column', label: 'column', value: c => c[0] },
          { key: 'drop', label: 'AUC lost when shuffled', value: c => c[1], cell: c => fmtNum(c[1]), numeric: true }
        ],
        rows: asArray(cls.importances).map(asArray).slice(0, 8)
      })
    );
  }
  notes.forEach(n => parts.push(h('p', { class: 'mb-muted' }, `${n}.`)));
  return section(`Multivariate drift: ${drifted ? 'drifted' : 'no drift'}`, parts, { open: drifted });
}

function keyed(key: string, el: HTMLElement): HTMLElement {
  el.setAttribute('data-mb-section', key);
  return el;
}

export const monitorReport: View = d => {
  const checks = asArray(d.checks).map(asRecord);
  const alerts = checks.filter(c => c.status === 'alert' || c.status === 'error');
  const found = findings(checks);
  const drift = d.drift ? asRecord(d.drift) : null;
  const driftColumns = drift ? asArray(drift.columns).map(asRecord) : [];
  const tested = driftColumns.filter(c => c.tested !== false).length;
  const drifted = driftColumns.filter(c => c.drifted).length;
  const prediction = d.prediction_drift ? asRecord(d.prediction_drift) : null;
  const metrics = asRecord(d.metrics);
  const refMetrics = asRecord(d.reference_metrics);
  const serving = servingRows(asRecord(d.serving));
  const estimated = asRecord(d.estimated);
  const lead = estimateLine(estimated);
  const withRealized = Object.values(estimated).some(e => isNumber(asRecord(e).realized));
  const envChanges = asArray(d.environment_changes).map(asArray);
  const segments = d.segments ? asRecord(d.segments) : null;
  const fairness = d.fairness ? asRecord(d.fairness) : null;
  const worst = segments ? worstSegment(segments) : null;
  const gap = fairness ? fairnessHeadline(fairness) : null;
  const seconds =
    typeof d.started_at === 'string' && typeof d.finished_at === 'string'
      ? (Date.parse(d.finished_at) - Date.parse(d.started_at)) / 1000
      : null;
  return h(
    'div',
    { class: `mb-view mb-monitor mb-monitor-${asString(d.status)}` },
    keyed(
      'summary',
      header(
        h('span', null, h('span', { class: 'mb-kind' }, 'monitor'), ' ', asString(d.target), ' ', badge(d.status)),
        lead,
        `${fmtInt(d.n_rows)} rows`,
        d.reference ? `reference ${asString(d.reference)}` : null,
        drift && driftColumns.length ? `${drifted} of ${tested} columns drifted` : null,
        worst ? `worst segment ${worst}` : null,
        gap ? `fairness: ${gap}` : null,
        `${alerts.length} alert${alerts.length === 1 ? '' : 's'}`,
        `${fmtDate(d.started_at)}${isNumber(seconds) ? ` · ${fmtNum(seconds)} s` : ''}`,
        d.source ? `source: ${asString(d.source)}` : null
      )
    ),
    lead
      ? keyed(
          'estimated',
          section(withRealized ? 'Estimated and realized performance' : 'Estimated performance', estimatedTable(estimated), {
            className: Object.values(estimated).some(e => asRecord(e).status === 'alert') ? 'mb-alert-section' : ''
          })
        )
      : null,
    found.length
      ? keyed('findings', section(`Findings (${alerts.length} alert${alerts.length === 1 ? '' : 's'} of ${found.length})`, checkTable(found, 'mb-findings'), { className: alerts.length ? 'mb-alert-section' : '' }))
      : keyed('findings', h('p', { class: 'mb-ok-line' }, badge('ok'), ` all ${checks.length} checks passed`)),
    driftColumns.length && drift
      ? keyed(
          'drift',
          section(
            `Data drift: ${drifted} of ${driftColumns.length} columns (${fmtPct(drift.drifted_share, 0)}; dataset drifts at ${fmtPct(drift.share_threshold, 0)})`,
            driftTable(driftColumns)
          )
        )
      : null,
    d.multivariate ? keyed('multivariate', multivariateSection(asRecord(d.multivariate)) ?? h('span')) : null,
    prediction
      ? keyed(
          'prediction_drift',
          section(`Prediction drift: ${prediction.drifted ? 'drifted' : 'no drift'} (${asString(prediction.test)})`, driftDetail(prediction), { open: Boolean(prediction.drifted) })
        )
      : null,
    Object.keys(metrics).length ? keyed('quality', section('Quality', metricsComparison(metrics, refMetrics))) : null,
    segments ? keyed('segments', segmentsSection(segments) ?? h('span')) : null,
    fairness ? keyed('fairness', fairnessSection(fairness, checks) ?? h('span')) : null,
    serving.length ? keyed('serving', section('Serving cost', kvTable(serving), { open: false })) : null,
    envChanges.length
      ? keyed(
          'environment',
          section(
            `Changed since registration (${envChanges.length})`,
            kvTable(envChanges.map(c => [asString(c[0]), `${asString(c[1], 'absent')} → ${asString(c[2], 'absent')}`])),
            { open: false }
          )
        )
      : null,
    keyed('checks', section(`All checks (${checks.length})`, checkTable(checks, 'mb-checks'), { open: false })),
    keyed(
      'run',
      section(
        'Run',
        kvTable([
          ['run id', asString(d.run_id, 'not stored')],
          ['batch', asString(d.batch_dataset, '—')],
          ['stored', asString(d.store, '—')],
          ['notebook', asString(d.notebook, '—')]
        ]),
        { open: false }
      )
    )
  );
};

export const history: View = d => {
  const runs = asArray(d.runs).map(asRecord);
  const target = d.version === null || d.version === undefined ? asString(d.name) : `${asString(d.name)}@${asString(d.version)}`;
  const counts: Record<string, number> = {};
  for (const run of runs) {
    const status = asString(run.status);
    counts[status] = (counts[status] ?? 0) + 1;
  }
  const metricNames = Array.from(new Set(runs.flatMap(r => Object.keys(asRecord(r.metrics)))));
  // Late labels (mb.feedback): coverage and realized quality of each run's newest feedback.
  const realizedNames = Array.from(new Set(runs.flatMap(r => Object.keys(asRecord(r.realized)))));
  const hasFeedback = runs.some(r => isNumber(r.coverage));
  const spec: IColumn<Data>[] = [
    { key: 'started_at', label: 'started', value: r => r.started_at, cell: r => fmtDate(r.started_at) },
    { key: 'version', label: 'version', value: r => r.version, numeric: true },
    // A timeline's chunk checked a period of data: shown as that period, not as one more point.
    ...(runs.some(r => r.timeline)
      ? [{ key: 'period', label: 'period', value: (r: Data) => runPeriod(r) } as IColumn<Data>]
      : []),
    { key: 'status', label: 'status', value: r => r.status, cell: r => badge(r.status) },
    { key: 'source', label: 'source', value: r => r.source },
    { key: 'n_rows', label: 'rows', value: r => r.n_rows, cell: r => fmtInt(r.n_rows), numeric: true },
    { key: 'drift_share', label: 'drifted', value: r => r.drift_share, cell: r => fmtPct(r.drift_share, 0), numeric: true },
    { key: 'n_alerts', label: 'alerts', value: r => r.n_alerts, numeric: true },
    ...metricNames.map(
      (m): IColumn<Data> => ({ key: `metric:${m}`, label: m, value: r => asRecord(r.metrics)[m], cell: r => fmtNum(asRecord(r.metrics)[m]), numeric: true })
    ),
    ...(hasFeedback
      ? [{ key: 'coverage', label: 'coverage', value: (r: Data) => r.coverage, cell: (r: Data) => (isNumber(r.coverage) ? `${fmtPct(r.coverage, 1)} (${fmtInt(r.labelled)})` : ''), numeric: true } as IColumn<Data>]
      : []),
    ...realizedNames.map(
      (m): IColumn<Data> => ({ key: `realized:${m}`, label: `realized ${m}`, value: r => asRecord(r.realized)[m], cell: r => fmtNum(asRecord(r.realized)[m]), numeric: true })
    )
  ];
  return h(
    'div',
    { class: 'mb-view mb-history' },
    header(
      h('span', null, h('span', { class: 'mb-kind' }, 'history'), ' ', target),
      isNumber(d.total) && d.total > runs.length ? `newest ${runs.length} of ${fmtInt(d.total)} runs` : `${runs.length} runs`,
      ...Object.entries(counts).map(([status, n]) => h('span', null, badge(status), ` ${n}`))
    ),
    runs.length ? statusStrip(runs) : null,
    runs.length > 1 ? trends(runs, metricNames, realizedNames) : null,
    dataTable<Data>({
      columns: spec,
      rows: runs,
      filter: true,
      filterPlaceholder: 'Filter runs…',
      toggles: [{ label: 'alerts only', test: r => r.status !== 'ok' }],
      rowClass: r => (r.status === 'ok' ? '' : 'mb-row-alert'),
      sort: { key: 'started_at', descending: true },
      empty: 'No monitor runs recorded.'
    })
  );
};

/** "chunk 3: 2026-04-01 00:00 – 2026-05-01 00:00" for a timeline's chunk, else "". */
function runPeriod(r: Data): string {
  if (!r.timeline) {
    return '';
  }
  if (!r.period_start) {
    return `chunk ${asString(r.chunk_index)}`;
  }
  const end = r.period_end ? ` – ${fmtDate(r.period_end)}` : '';
  return `chunk ${asString(r.chunk_index)}: ${fmtDate(r.period_start)}${end}`;
}

/** Drift share and every metric over time, one small chart each. */
function trends(runs: Data[], metricNames: string[], realizedNames: string[] = []): HTMLElement {
  const points = (value: (r: Data) => unknown): ITrendPoint[] =>
    runs.map(r => ({
      time: Date.parse(asString(r.started_at)),
      value: Number(value(r) ?? Number.NaN),
      status: asString(r.status),
      label: fmtDate(r.started_at)
    }));
  return section(
    'Trends',
    h(
      'div',
      { class: 'mb-trends' },
      trendChart('drifted share of columns', points(r => r.drift_share), v => fmtPct(v, 0)),
      ...metricNames.map(m => trendChart(m, points(r => asRecord(r.metrics)[m]))),
      ...realizedNames.map(m => trendChart(`realized ${m} (late labels)`, points(r => asRecord(r.realized)[m])))
    )
  );
}

/** One square per run, oldest left: the shape of a model's health at a glance. */
function statusStrip(runs: Data[]): HTMLElement {
  const ordered = [...runs].sort((a, b) => asString(a.started_at).localeCompare(asString(b.started_at))).slice(-120);
  return h(
    'div',
    { class: 'mb-strip', 'aria-label': 'status of each run, oldest first' },
    ...ordered.map(r => h('span', { class: `mb-strip-cell mb-status-${asString(r.status)}`, title: `${fmtDate(r.started_at)}: ${asString(r.status)}` }))
  );
}

