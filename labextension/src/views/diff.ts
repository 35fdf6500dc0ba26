/** Views of differences between two versions of a model or a dataset. */

import { Child, h, section } from '../dom';
import {
  asArray,
  asRecord,
  asString,
  fmtInt,
  fmtNum,
  fmtPct,
  isNumber
} from '../format';
import { dataTable, IColumn, kvTable } from '../table';
import { Data, driftTable, header, jsonTree, list, View } from './common';

// -- diffs ----------------------------------------------------------------------------------

function delta(a: unknown, b: unknown): string {
  return isNumber(a) && isNumber(b) ? `${b - a >= 0 ? '+' : ''}${fmtNum(b - a)}` : '—';
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'number') {
    return fmtNum(value);
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Rows of (name, a, b, change), one table for added, removed and changed entries alike. */
function changeTable(rows: [string, string, unknown, unknown][], what: string): HTMLElement {
  return dataTable<[string, string, unknown, unknown]>({
    columns: [
      { key: 'name', label: what, value: r => r[0] },
      { key: 'change', label: 'change', value: r => r[1], cell: r => h('span', { class: `mb-change mb-change-${r[1]}` }, r[1]) },
      { key: 'a', label: 'before', value: r => valueText(r[2]) },
      { key: 'b', label: 'after', value: r => valueText(r[3]) }
    ],
    rows,
    filter: rows.length > 8,
    filterPlaceholder: `Filter ${what}s…`
  });
}

function notesList(d: Data): HTMLElement | null {
  const notes = asArray(d.notes);
  return notes.length ? h('div', { class: 'mb-note' }, list(notes)) : null;
}

function driftSection(d: Data, title: string): HTMLElement | null {
  const drift = d.drift ? asRecord(d.drift) : null;
  const columns = drift ? asArray(drift.columns).map(asRecord) : [];
  if (!drift || !columns.length) {
    return null;
  }
  return section(
    `${title}: ${columns.filter(c => c.drifted).length} of ${columns.length} columns drifted (${fmtPct(drift.drifted_share, 0)})`,
    driftTable(columns)
  );
}

function codeDiff(text: string): HTMLElement {
  return h(
    'pre',
    { class: 'mb-code mb-code-diff' },
    ...text.split('\n').map(line =>
      h('span', { class: line.startsWith('+') ? 'mb-add' : line.startsWith('-') ? 'mb-del' : line.startsWith('@@') ? 'mb-hunk' : undefined }, `${line}\n`)
    )
  );
}

export const modelDiff: View = d => {
  const metrics = asArray(d.metrics).map(asRecord);
  const params: [string, string, unknown, unknown][] = [
    ...asArray(d.params_changed).map(asArray).map(p => [asString(p[0]), 'changed', p[1], p[2]] as [string, string, unknown, unknown]),
    ...asArray(d.params_added).map(asArray).map(p => [asString(p[0]), 'added', null, p[1]] as [string, string, unknown, unknown]),
    ...asArray(d.params_removed).map(asArray).map(p => [asString(p[0]), 'removed', p[1], null] as [string, string, unknown, unknown])
  ];
  const signature: [string, string, unknown, unknown][] = [
    ...asArray(d.signature_retyped).map(asArray).map(p => [asString(p[0]), 'retyped', p[1], p[2]] as [string, string, unknown, unknown]),
    ...asArray(d.signature_added).map(asArray).map(p => [asString(p[0]), 'added', null, p[1]] as [string, string, unknown, unknown]),
    ...asArray(d.signature_removed).map(asArray).map(p => [asString(p[0]), 'removed', p[1], null] as [string, string, unknown, unknown])
  ];
  const packages = asArray(d.packages).map(asArray).map(p => [asString(p[0]), p[1] === null ? 'added' : p[2] === null ? 'removed' : 'changed', p[1], p[2]] as [string, string, unknown, unknown]);
  const predictions = d.predictions ? asRecord(d.predictions) : null;
  const classA = asString(d.class_a);
  const classB = asString(d.class_b);
  return h(
    'div',
    { class: 'mb-view mb-diff mb-model-diff' },
    header(
      h('span', null, h('span', { class: 'mb-kind' }, 'model diff'), ' ', `${asString(d.a)} → ${asString(d.b)}`),
      classA === classB ? classA.split('.').pop() : `${classA.split('.').pop()} → ${classB.split('.').pop()}`,
      `${params.length} parameter changes`,
      d.train_a !== d.train_b ? `training data ${asString(d.train_a, '—')} → ${asString(d.train_b, '—')}` : d.train_a ? `trained on ${asString(d.train_a)}` : null
    ),
    notesList(d),
    metrics.length
      ? section(
          `Metrics (${metrics.length})`,
          dataTable<Data>({
            columns: [
              { key: 'name', label: 'metric', value: r => r.name },
              { key: 'a', label: asString(d.a), value: r => r.a, cell: r => fmtNum(r.a), numeric: true },
              { key: 'b', label: asString(d.b), value: r => r.b, cell: r => fmtNum(r.b), numeric: true },
              { key: 'delta', label: 'change', value: r => (isNumber(r.a) && isNumber(r.b) ? r.b - r.a : null), cell: r => delta(r.a, r.b), numeric: true }
            ],
            rows: metrics
          })
        )
      : null,
    section(`Parameters (${params.length} changed)`, params.length ? changeTable(params, 'parameter') : h('p', { class: 'mb-muted' }, 'Same parameters.')),
    signature.length ? section(`Input signature (${signature.length} changes)`, changeTable(signature, 'input')) : null,
    driftSection(d, 'Training data drift'),
    predictions
      ? section(
          'Predictions',
          [
            kvTable([
              ['rows compared', fmtInt(predictions.rows)],
              ['task', asString(predictions.task)],
              ['differing', `${fmtInt(predictions.differing)} (${fmtPct(isNumber(predictions.rows) && predictions.rows > 0 ? Number(predictions.differing) / predictions.rows : null)})`],
              ['mean |difference|', fmtNum(predictions.mean_abs_difference)]
            ]),
            asArray(predictions.largest).length
              ? dataTable<Data>({
                  columns: [
                    { key: 'row', label: 'row', value: r => r.row, numeric: true },
                    { key: 'a', label: asString(d.a), value: r => r.a, cell: r => valueText(r.a), numeric: true },
                    { key: 'b', label: asString(d.b), value: r => r.b, cell: r => valueText(r.b), numeric: true },
                    { key: 'difference', label: 'difference', value: r => r.difference, cell: r => valueText(r.difference), numeric: true }
                  ],
                  rows: asArray(predictions.largest).map(asRecord),
                  sort: { key: 'difference', descending: true }
                })
              : null
          ]
        )
      : null,
    packages.length ? section(`Packages (${packages.length} changes)`, changeTable(packages, 'package'), { open: false }) : null,
    d.code_diff ? section('Training code', codeDiff(asString(d.code_diff)), { open: false }) : null
  );
};

export const datasetDiff: View = d => {
  const schema: [string, string, unknown, unknown][] = [
    ...asArray(d.columns_added).map(asArray).map(c => [asString(c[0]), 'added', null, c[1]] as [string, string, unknown, unknown]),
    ...asArray(d.columns_removed).map(asArray).map(c => [asString(c[0]), 'removed', c[1], null] as [string, string, unknown, unknown]),
    ...asArray(d.columns_retyped).map(asArray).map(c => [asString(c[0]), 'retyped', c[1], c[2]] as [string, string, unknown, unknown])
  ];
  const stats = asArray(d.column_stats).map(asRecord);
  const statNames = Array.from(new Set(stats.flatMap(c => [...Object.keys(asRecord(c.a)), ...Object.keys(asRecord(c.b))])));
  const rows = d.rows ? asRecord(d.rows) : null;
  const rowsA = d.rows_a;
  const rowsB = d.rows_b;
  return h(
    'div',
    { class: 'mb-view mb-diff mb-dataset-diff' },
    header(
      h('span', null, h('span', { class: 'mb-kind' }, 'dataset diff'), ' ', `${asString(d.a)} → ${asString(d.b)}`),
      `rows ${fmtInt(rowsA)} → ${fmtInt(rowsB)} (${delta(rowsA, rowsB)})`,
      `${schema.length} schema changes`
    ),
    notesList(d),
    section(`Schema (${schema.length} changes)`, schema.length ? changeTable(schema, 'column') : h('p', { class: 'mb-muted' }, 'Same columns and types.')),
    driftSection(d, 'Drift'),
    stats.length
      ? section(
          `Column statistics (${stats.length})`,
          dataTable<Data>({
            columns: [
              { key: 'column', label: 'column', value: r => r.column },
              { key: 'kind', label: 'kind', value: r => r.kind },
              ...statNames.flatMap((stat): IColumn<Data>[] => [
                { key: `a:${stat}`, label: `${stat} (a)`, value: r => asRecord(r.a)[stat], cell: r => fmtNum(asRecord(r.a)[stat]), numeric: true },
                { key: `b:${stat}`, label: `${stat} (b)`, value: r => asRecord(r.b)[stat], cell: r => fmtNum(asRecord(r.b)[stat]), numeric: true }
              ])
            ],
            rows: stats,
            filter: true,
            filterPlaceholder: 'Filter columns…'
          }),
          { open: false }
        )
      : null,
    rows
      ? section(`Rows by key (${asArray(rows.key).join(', ')})`, [
          kvTable([
            ['added', fmtInt(rows.added)],
            ['removed', fmtInt(rows.removed)],
            ['changed', fmtInt(rows.changed)],
            ['unchanged', fmtInt(rows.unchanged)],
            ...Object.entries(asRecord(rows.changed_columns)).map(([k, v]) => [`changed in ${k}`, fmtInt(v)] as [string, Child])
          ]),
          ...(['added_sample', 'removed_sample'] as const)
            .filter(k => asArray(rows[k]).length)
            .map(k => section(k.replace('_', ' '), jsonTree(rows[k], 1), { open: false })),
          asArray(rows.changed_sample).length
            ? section(
                'changed sample',
                h(
                  'ul',
                  { class: 'mb-list' },
                  ...asArray(rows.changed_sample).map(asRecord).map(c =>
                    h(
                      'li',
                      null,
                      h('code', null, JSON.stringify(c.key)),
                      ': ',
                      Object.entries(asRecord(c.changes))
                        .map(([col, ab]) => `${col} ${valueText(asArray(ab)[0])} → ${valueText(asArray(ab)[1])}`)
                        .join('; ')
                    )
                  )
                ),
                { open: false }
              )
            : null
        ])
      : null
  );
};

