/**
 * Champion vs challenger (``monitor(..., challenger=)``), from the saved data alone. Same
 * findings, same order as the static HTML (render/comparison.py) and the widget
 * (widgets/comparison.py): the verdict and its reason with the labelled n, agreement
 * (disagreement, mean |Δscore|, share above 0.1) with both prediction distributions in one
 * chart, quality per version on the labelled rows with n and the McNemar test, serving cost of
 * each, and the two stored runs.
 */

import { categoryChart, histogramChart, ISeries } from '../chart';
import { h, section } from '../dom';
import { asArray, asNumbers, asRecord, asString, fmtInt, fmtNum, fmtPct, isNumber } from '../format';
import { kvTable } from '../table';
import { badge, Data, header, View } from './common';

const VERDICT_WORDS: Record<string, string> = { better: 'BETTER', worse: 'WORSE', inconclusive: 'inconclusive' };

function keyed(key: string, el: HTMLElement): HTMLElement {
  el.setAttribute('data-mb-section', key);
  return el;
}

function pct(value: unknown): string {
  return isNumber(value) ? fmtPct(value) : '—';
}

function num(value: unknown): string {
  return isNumber(value) ? fmtNum(value) : '—';
}

function distributionChart(c: Data): HTMLElement | null {
  const d = asRecord(c.distribution);
  const names = [`champion ${asString(c.champion)}`, `challenger ${asString(c.challenger)}`];
  const series: ISeries[] = [
    { label: names[0], counts: asNumbers(d.champion), className: 'mb-ref' },
    { label: names[1], counts: asNumbers(d.challenger), className: 'mb-cur' }
  ];
  if (d.kind === 'classes') {
    return categoryChart(asArray(d.labels).map(v => asString(v)), series, 'predicted classes of both versions');
  }
  if (d.kind === 'histogram') {
    const what = c.task === 'regression' ? 'predicted value' : 'score';
    return histogramChart(asNumbers(d.edges), series, `${what} distribution of both versions`);
  }
  return null;
}

function agreement(c: Data): [string, string][] {
  const rows: [string, string][] = [['rows scored by both', fmtInt(c.n_rows)]];
  if (isNumber(c.disagreement)) {
    rows.push(['predicted labels differ', pct(c.disagreement)]);
  }
  rows.push(['mean |Δscore|', num(c.mean_abs_delta)]);
  rows.push([`rows with |Δscore| > ${fmtNum(c.delta)}`, pct(c.share_delta_above)]);
  return rows;
}

function qualityTable(c: Data): HTMLElement {
  const rows = asArray(c.quality).map(asRecord);
  return h(
    'table',
    { class: 'mb-table mb-quality' },
    h('thead', null, h('tr', null, ...['metric', 'champion', 'challenger', 'difference', 'n'].map(t => h('th', null, t)))),
    h(
      'tbody',
      null,
      ...rows.map(q => {
        const a = q.champion;
        const b = q.challenger;
        const diff = isNumber(a) && isNumber(b) ? `${b - a >= 0 ? '+' : ''}${fmtNum(b - a)}` : '—';
        return h(
          'tr',
          null,
          h('td', null, asString(q.metric)),
          h('td', { class: 'mb-num' }, num(a)),
          h('td', { class: 'mb-num' }, num(b)),
          h('td', { class: 'mb-num' }, diff),
          h('td', { class: 'mb-num' }, fmtInt(q.n))
        );
      })
    )
  );
}

function mcnemarLine(c: Data): string {
  const t = asRecord(c.mcnemar);
  if (!isNumber(t.p_value)) {
    return '';
  }
  return `${asString(t.test)}: challenger right where champion wrong on ${fmtInt(t.c)} rows, the reverse on ${fmtInt(t.b)}; p-value ${fmtNum(t.p_value)} (n = ${fmtInt(c.n_labelled)} labelled rows)`;
}

const SERVING: [string, string][] = [
  ['latency_ms_p50', 'one-row latency, median (ms)'],
  ['latency_ms_p95', 'one-row latency, p95 (ms)'],
  ['rows_per_second', 'batch throughput (rows/s)']
];

function servingRows(c: Data): [string, string][] {
  const latency = asRecord(c.latency);
  const a = asRecord(latency.champion);
  const b = asRecord(latency.challenger);
  return SERVING.filter(([k]) => k in a || k in b).map(([k, label]) => [label, `${num(a[k])} vs ${num(b[k])}`]);
}

export const challengerComparison: View = d => {
  const c = asRecord(d.comparison);
  const champion = asRecord(d.champion);
  const challenger = asRecord(d.challenger);
  const verdict = asString(c.verdict, 'inconclusive');
  const chart = distributionChart(c);
  const quality = asArray(c.quality);
  const serving = servingRows(c);
  const run = (role: string, r: Data): [string, HTMLElement] => [
    role,
    h('span', null, `${asString(r.target)} `, badge(r.status), ` run ${asString(r.run_id, 'not stored').slice(0, 8)}`)
  ];
  return h(
    'div',
    { class: `mb-view mb-comparison mb-verdict-${verdict}` },
    keyed(
      'summary',
      header(
        h(
          'span',
          null,
          h('span', { class: 'mb-kind' }, 'challenger'),
          ` ${asString(c.challenger)} vs champion ${asString(c.champion)} `,
          h('span', { class: `mb-badge mb-verdict-word mb-status-${verdict === 'worse' ? 'alert' : verdict === 'better' ? 'ok' : 'info'}` }, VERDICT_WORDS[verdict] ?? verdict)
        ),
        asString(c.reason),
        d.batch_id ? `batch ${asString(d.batch_id).slice(0, 8)}` : 'not stored'
      )
    ),
    keyed('agreement', section('Agreement', [kvTable(agreement(c)), chart])),
    keyed(
      'quality',
      section(
        quality.length ? `Quality on ${fmtInt(c.n_labelled)} labelled rows` : 'Quality on labelled rows',
        quality.length ? [qualityTable(c), h('p', null, mcnemarLine(c))] : h('p', { class: 'mb-muted' }, asString(c.reason))
      )
    ),
    serving.length ? keyed('serving', section('Serving cost (champion vs challenger)', kvTable(serving), { open: false })) : null,
    keyed('runs', section('Runs', kvTable([run('champion', champion), run('challenger', challenger)])))
  );
};
