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

function checkTable(checks: Data[]): HTMLElement {
  return dataTable<Data>({
    columns: [
      { key: 'status', label: 'status', value: r => r.status, cell: r => badge(r.status) },
      { key: 'check', label: 'check', value: r => r.check },
      { key: 'column', label: 'column', value: r => r.column },
      { key: 'test', label: 'test', value: r => r.test },
      { key: 'statistic', label: 'statistic', value: r => r.statistic, cell: r => fmtNum(r.statistic), numeric: true },
      { key: 'threshold', label: 'threshold', value: r => r.threshold, cell: r => fmtNum(r.threshold), numeric: true },
      { key: 'message', label: 'message', value: r => r.message }
    ],
    rows: checks,
    filter: true,
    filterPlaceholder: 'Filter checks…',
    toggles: [{ label: 'alerts only', test: r => r.status === 'alert' || r.status === 'error' }],
    rowClass: r => (r.status === 'alert' || r.status === 'error' ? 'mb-row-alert' : ''),
    className: 'mb-checks'
  });
}

function metricsComparison(current: Data, reference: Data): HTMLElement {
  const keys = Array.from(new Set([...Object.keys(reference), ...Object.keys(current)]));
  return dataTable<string>({
    columns: [
      { key: 'metric', label: 'metric', value: k => k },
      { key: 'reference', label: 'reference', value: k => reference[k], cell: k => fmtNum(reference[k]), numeric: true },
      { key: 'current', label: 'current', value: k => current[k], cell: k => fmtNum(current[k]), numeric: true },
      {
        key: 'change',
        label: 'change',
        value: k => (isNumber(current[k]) && isNumber(reference[k]) ? (current[k] as number) - (reference[k] as number) : null),
        cell: k => {
          const a = reference[k];
          const b = current[k];
          return isNumber(a) && isNumber(b) ? `${b - a >= 0 ? '+' : ''}${fmtNum(b - a)}` : '—';
        },
        numeric: true
      }
    ],
    rows: keys
  });
}

export const monitorReport: View = d => {
  const checks = asArray(d.checks).map(asRecord);
  const alerts = checks.filter(c => c.status === 'alert' || c.status === 'error');
  const drift = d.drift ? asRecord(d.drift) : null;
  const driftColumns = drift ? asArray(drift.columns).map(asRecord) : [];
  const prediction = d.prediction_drift ? asRecord(d.prediction_drift) : null;
  const metrics = asRecord(d.metrics);
  const refMetrics = asRecord(d.reference_metrics);
  const envChanges = asArray(d.environment_changes).map(asArray);
  const seconds =
    typeof d.started_at === 'string' && typeof d.finished_at === 'string'
      ? (Date.parse(d.finished_at) - Date.parse(d.started_at)) / 1000
      : null;
  return h(
    'div',
    { class: `mb-view mb-monitor mb-monitor-${asString(d.status)}` },
    header(
      h('span', null, h('span', { class: 'mb-kind' }, 'monitor'), ' ', asString(d.target), ' ', badge(d.status)),
      d.reference ? `reference ${asString(d.reference)}` : null,
      `${fmtInt(d.n_rows)} rows`,
      drift ? `${fmtPct(drift.drifted_share, 0)} of columns drifted (alert at ${fmtPct(drift.share_threshold, 0)})` : null,
      `${fmtDate(d.started_at)}${isNumber(seconds) ? ` · ${fmtNum(seconds)} s` : ''}`,
      d.source ? `source: ${asString(d.source)}` : null
    ),
    alerts.length
      ? section(
          `Alerts (${alerts.length})`,
          h('ul', { class: 'mb-list mb-alerts' }, ...alerts.map(a => h('li', null, badge(a.status), ' ', h('strong', null, asString(a.check)), a.column ? ` [${asString(a.column)}]` : '', ': ', asString(a.message)))),
          { className: 'mb-alert-section' }
        )
      : h('p', { class: 'mb-ok-line' }, badge('ok'), ` all ${checks.length} checks passed`),
    driftColumns.length ? section(`Drift (${driftColumns.filter(c => c.drifted).length} of ${driftColumns.length} columns)`, driftTable(driftColumns)) : null,
    prediction ? section(`Prediction drift (${asString(prediction.test)})`, driftDetail(prediction), { open: Boolean(prediction.drifted) }) : null,
    Object.keys(metrics).length || Object.keys(refMetrics).length ? section('Quality', metricsComparison(metrics, refMetrics)) : null,
    section(`Checks (${checks.length})`, checkTable(checks), { open: false }),
    Object.keys(asRecord(d.serving)).length ? section('Serving', kvTable(Object.entries(asRecord(d.serving)).map(([k, v]) => [k, fmtNum(v)])), { open: false }) : null,
    envChanges.length
      ? section(
          `Environment changes (${envChanges.length})`,
          kvTable(envChanges.map(c => [asString(c[0]), `${asString(c[1], 'absent')} → ${asString(c[2], 'absent')}`])),
          { open: false }
        )
      : null,
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

