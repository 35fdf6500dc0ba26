/** Views of monitoring: a monitor report and the history of runs. */

import { ITrendPoint, trendChart } from '../chart';
import { h, section } from '../dom';
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

// -- monitoring -----------------------------------------------------------------------------
//
// The report's sections, in the order of the static HTML (render/monitor.py) and of the live
// widget (widgets/monitor.py): summary, findings (errors and alerts first), data drift,
// prediction drift, quality, serving cost, changes since registration. Each section carries
// ``data-mb-section`` with the same key as the widget's. The full check list and the run's
// details follow, folded, as extras of this view.

const STATUS_ORDER: Record<string, number> = { error: 0, alert: 1, info: 2 };
/** Informational checks with a section of their own (not repeated under findings). */
const OWN_SECTIONS = ['drift.column', 'quality.', 'serving.'];

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
  const envChanges = asArray(d.environment_changes).map(asArray);
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
        `${fmtInt(d.n_rows)} rows`,
        d.reference ? `reference ${asString(d.reference)}` : null,
        drift && driftColumns.length ? `${drifted} of ${tested} columns drifted` : null,
        `${alerts.length} alert${alerts.length === 1 ? '' : 's'}`,
        `${fmtDate(d.started_at)}${isNumber(seconds) ? ` · ${fmtNum(seconds)} s` : ''}`,
        d.source ? `source: ${asString(d.source)}` : null
      )
    ),
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
    prediction
      ? keyed(
          'prediction_drift',
          section(`Prediction drift: ${prediction.drifted ? 'drifted' : 'no drift'} (${asString(prediction.test)})`, driftDetail(prediction), { open: Boolean(prediction.drifted) })
        )
      : null,
    Object.keys(metrics).length ? keyed('quality', section('Quality', metricsComparison(metrics, refMetrics))) : null,
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
  const spec: IColumn<Data>[] = [
    { key: 'started_at', label: 'started', value: r => r.started_at, cell: r => fmtDate(r.started_at) },
    { key: 'version', label: 'version', value: r => r.version, numeric: true },
    { key: 'status', label: 'status', value: r => r.status, cell: r => badge(r.status) },
    { key: 'source', label: 'source', value: r => r.source },
    { key: 'n_rows', label: 'rows', value: r => r.n_rows, cell: r => fmtInt(r.n_rows), numeric: true },
    { key: 'drift_share', label: 'drifted', value: r => r.drift_share, cell: r => fmtPct(r.drift_share, 0), numeric: true },
    { key: 'n_alerts', label: 'alerts', value: r => r.n_alerts, numeric: true },
    ...metricNames.map(
      (m): IColumn<Data> => ({ key: `metric:${m}`, label: m, value: r => asRecord(r.metrics)[m], cell: r => fmtNum(asRecord(r.metrics)[m]), numeric: true })
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
    runs.length > 1 ? trends(runs, metricNames) : null,
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

/** Drift share and every metric over time, one small chart each. */
function trends(runs: Data[], metricNames: string[]): HTMLElement {
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
      ...metricNames.map(m => trendChart(m, points(r => asRecord(r.metrics)[m])))
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

