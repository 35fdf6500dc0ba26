/**
 * Late labels (``mb.feedback``), from the saved data alone. Same findings, same order as the
 * static HTML (render/feedback.py): what the labels matched (unmatched ids, duplicates,
 * conflicts: the later file wins), then one table per run: predictions, labelled, coverage,
 * matched, and the realized quality checks.
 */

import { h, section } from '../dom';
import { asArray, asRecord, asString, fmtDate, fmtInt, fmtPct } from '../format';
import { kvTable } from '../table';
import { badge, Data, header, View } from './common';

function what(run: Data): string {
  if (run.stored) {
    return `realized quality stored (${asString(run.status)})`;
  }
  return run.status === 'unchanged' ? 'labels unchanged since its last feedback: nothing stored' : 'no labelled prediction yet';
}

function counts(d: Data): [string, string][] {
  const unmatchedIds = asArray(d.unmatched_ids).map(v => JSON.stringify(v));
  const rows: [string, string][] = [
    ['labels', fmtInt(d.labels)],
    ['matched ids', `${fmtInt(d.matched)} of ${fmtInt(d.distinct)} distinct`],
    ['unmatched ids', `${fmtInt(d.unmatched)}${unmatchedIds.length ? ` (never predicted, kept nowhere: ${unmatchedIds.join(', ')})` : ''}`],
    ['duplicates', `${fmtInt(d.duplicates)} (same id, same value: counted once)`],
    ['conflicts', `${fmtInt(d.conflicts)} (an earlier label changed: the later file wins)`],
    ['min_labels', `${fmtInt(d.min_labels)} labelled rows for a verdict`]
  ];
  if (!d.applied) {
    rows.push(['applied', 'no: these labels were applied before; nothing changed']);
  }
  return rows;
}

function table(columns: string[], rows: (string | HTMLElement)[][]): HTMLElement {
  return h(
    'table',
    { class: 'mb-table' },
    h('thead', null, h('tr', null, ...columns.map(c => h('th', null, c)))),
    h('tbody', null, ...rows.map(r => h('tr', null, ...r.map(c => h('td', null, c)))))
  );
}

function runView(model: string, run: Data): HTMLElement {
  const checks = asArray(run.checks).map(asRecord);
  return h(
    'div',
    { class: 'mb-feedback-run', 'data-mb-run': asString(run.run_id) },
    h('h4', null, `Run ${asString(run.run_id).slice(0, 8)} (${model}@${asString(run.version)}): `, badge(run.status), ` ${what(run)}`),
    table(
      ['started', 'predictions', 'labelled', 'coverage', 'matched'],
      [[fmtDate(run.started_at), fmtInt(run.predictions), fmtInt(run.labelled), fmtPct(run.coverage), fmtInt(run.matched)]]
    ),
    checks.length ? table(['check', 'status', 'finding'], checks.map(c => [asString(c.check), badge(c.status), asString(c.message)])) : null
  );
}

export const feedbackReport: View = d => {
  const runs = asArray(d.runs).map(asRecord);
  const model = asString(d.model);
  const conflicting = asArray(d.conflicting).map(asRecord);
  return h(
    'div',
    { class: 'mb-view mb-feedback' },
    header(
      h('span', null, h('span', { class: 'mb-kind' }, 'late labels'), ' ', model),
      h('span', null, badge(d.status)),
      `target ${asString(d.target)}, id ${asString(d.id_column)}`
    ),
    kvTable(counts(d)),
    conflicting.length
      ? section(
          `Conflicting labels (${fmtInt(d.conflicts)}; first shown)`,
          table(
            ['id', 'previous', 'now'],
            conflicting.map(c => [JSON.stringify(c.id), JSON.stringify(c.previous), JSON.stringify(c.label)])
          )
        )
      : null,
    ...runs.map(r => runView(model, r)),
    ...asArray(d.notes).map(n => h('p', { class: 'mb-muted' }, asString(n)))
  );
};
