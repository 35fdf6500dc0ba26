/** Views of registry entries: dataset and model versions, listings, alias changes, gc. */

import { Child, h, section } from '../dom';
import {
  asArray,
  asRecord,
  asString,
  fmtBytes,
  fmtDate,
  fmtInt,
  fmtNum,
  fmtPct,
  isNumber
} from '../format';
import { dataTable, IColumn, kvTable } from '../table';
import { chips, Data, header, jsonTree, list, mapping, profileDetail, View } from './common';

// -- registry entries -----------------------------------------------------------------------

export const datasetVersion: View = d => {
  const columns = asArray(d.columns).map(asRecord);
  const ref = `${asString(d.name)}@${asString(d.version)}`;
  const spec: IColumn<Data>[] = [
    { key: 'position', label: '#', value: r => r.position, numeric: true },
    { key: 'name', label: 'column', value: r => r.name },
    { key: 'arrow_type', label: 'type', value: r => r.arrow_type },
    { key: 'kind', label: 'kind', value: r => r.kind },
    {
      key: 'null_share',
      label: 'nulls',
      value: r => (isNumber(r.count) && r.count > 0 ? Number(r.nulls) / r.count : null),
      cell: r => fmtPct(isNumber(r.count) && r.count > 0 ? Number(r.nulls) / r.count : null),
      numeric: true
    },
    { key: 'distinct', label: 'distinct', value: r => r.distinct, cell: r => fmtInt(r.distinct), numeric: true },
    { key: 'min', label: 'min', value: r => r.min, cell: r => fmtNum(r.min), numeric: true },
    { key: 'mean', label: 'mean', value: r => r.mean, cell: r => fmtNum(r.mean), numeric: true },
    { key: 'max', label: 'max', value: r => r.max, cell: r => fmtNum(r.max), numeric: true },
    { key: 'std', label: 'std', value: r => r.std, cell: r => fmtNum(r.std), numeric: true }
  ];
  return h(
    'div',
    { class: 'mb-view mb-dataset' },
    header(
      h('span', null, h('span', { class: 'mb-kind' }, 'dataset'), ' ', ref),
      `${fmtInt(d.n_rows)} rows × ${fmtInt(d.n_columns)} columns`,
      fmtBytes(d.size_bytes),
      d.target ? `target: ${asString(d.target)}` : null,
      `${fmtDate(d.created_at)} by ${asString(d.created_by)}`,
      asArray(d.aliases).length ? chips(asArray(d.aliases)) : null
    ),
    d.reused ? h('p', { class: 'mb-note' }, 'Identical data was already stored: nothing new was written.') : null,
    asArray(d.changes).length ? section('Changes', list(asArray(d.changes))) : null,
    section(
      `Columns (${columns.length})`,
      dataTable<Data>({ columns: spec, rows: columns, filter: true, filterPlaceholder: 'Filter columns…', expand: profileDetail, sort: { key: 'position' } })
    ),
    section(
      'Details',
      kvTable([
        ['source', asString(d.source, '—')],
        ['fingerprint', h('code', null, asString(d.fingerprint))],
        ['notes', asString(d.notes, '—')],
        ...mapping(d.tags).map(([k, v]) => [`tag ${k}`, v] as [string, Child])
      ]),
      { open: false }
    )
  );
};

export const modelVersion: View = d => {
  const ref = `${asString(d.name)}@${asString(d.version)}`;
  const signature = asRecord(d.signature);
  const sigColumns = asArray(signature.columns).map(asRecord);
  const metrics = Object.entries(asRecord(d.metrics));
  const measured = Object.entries(asRecord(d.measured_metrics));
  const env = asRecord(d.environment);
  const className = asString(d.class_name);
  return h(
    'div',
    { class: 'mb-view mb-model' },
    header(
      h('span', null, h('span', { class: 'mb-kind' }, 'model'), ' ', ref),
      `${className.split('.').pop()} (${asString(d.flavor)})`,
      fmtBytes(d.size_bytes),
      d.trusted === false ? h('span', { class: 'mb-badge mb-status-alert' }, 'untrusted: load with trust=True') : null,
      `${fmtDate(d.created_at)} by ${asString(d.created_by)}`,
      asArray(d.aliases).length ? chips(asArray(d.aliases)) : null
    ),
    d.reused ? h('p', { class: 'mb-note' }, 'An identical model (state and training data) was already stored: nothing new was written.') : null,
    asArray(d.changes).length ? section('Changes', list(asArray(d.changes))) : null,
    metrics.length ? section('Metrics', kvTable(metrics.map(([k, v]) => [k, fmtNum(v)]))) : null,
    measured.length
      ? section(`Measured on ${asString(d.evaluation)}`, kvTable(measured.map(([k, v]) => [k, fmtNum(v)])))
      : null,
    section(
      'Lineage',
      kvTable([
        ['trained on', asString(d.train_dataset, '—')],
        ['evaluated on', asString(d.evaluation, '—')],
        ['notebook', asString(d.notebook, '—')],
        ['git commit', d.git_commit ? `${asString(d.git_commit).slice(0, 12)}${d.git_dirty ? ' (uncommitted changes)' : ''}` : '—'],
        ['class', h('code', null, className)],
        ['notes', asString(d.notes, '—')],
        ...mapping(d.tags).map(([k, v]) => [`tag ${k}`, v] as [string, Child])
      ])
    ),
    section(
      `Parameters (${Object.keys(asRecord(d.params)).length})`,
      dataTable<[string, unknown]>({
        columns: [
          { key: 'name', label: 'parameter', value: r => r[0] },
          { key: 'value', label: 'value', value: r => (typeof r[1] === 'object' ? JSON.stringify(r[1]) : r[1]) }
        ],
        rows: Object.entries(asRecord(d.params)),
        filter: true,
        filterPlaceholder: 'Filter parameters…',
        sort: { key: 'name' }
      }),
      { open: false }
    ),
    sigColumns.length
      ? section(
          `Signature (${sigColumns.length} inputs)`,
          dataTable<Data>({
            columns: [
              { key: 'name', label: 'input', value: r => r.name },
              { key: 'type', label: 'type', value: r => r.type },
              { key: 'kind', label: 'kind', value: r => r.kind },
              { key: 'min', label: 'min', value: r => r.min, cell: r => fmtNum(r.min), numeric: true },
              { key: 'max', label: 'max', value: r => r.max, cell: r => fmtNum(r.max), numeric: true },
              { key: 'categories', label: 'categories', value: r => (Array.isArray(r.categories) ? r.categories.join(', ') : '') }
            ],
            rows: sigColumns,
            filter: sigColumns.length > 8
          }),
          { open: false }
        )
      : null,
    section(
      'Environment',
      [
        kvTable([
          ['python', asString(env.python, '—')],
          ['platform', asString(env.platform, '—')]
        ]),
        jsonTree(asRecord(env.packages), 0)
      ],
      { open: false }
    ),
    d.code ? section('Code', h('pre', { class: 'mb-code' }, asString(d.code)), { open: false }) : null
  );
};

export const listing: View = d => {
  const names = asArray(d.columns).map(c => asString(c));
  const rows = asArray(d.rows).map(r => asArray(r));
  const spec: IColumn<unknown[]>[] = names.map((name, i) => {
    const numeric = rows.length > 0 && rows.every(r => r[i] === null || typeof r[i] === 'number');
    return {
      key: String(i),
      label: name,
      value: r => r[i],
      cell: r => (numeric ? fmtNum(r[i]) : typeof r[i] === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(r[i] as string) ? fmtDate(r[i]) : asString(r[i])),
      numeric
    };
  });
  return h(
    'div',
    { class: 'mb-view mb-listing' },
    header(asString(d.title, 'listing')),
    dataTable<unknown[]>({ columns: spec, rows, filter: rows.length > 5, empty: 'Nothing stored yet.' })
  );
};

export const aliasChange: View = d => {
  const target = `${asString(d.name)}@${asString(d.alias)}`;
  const text =
    d.version === null || d.version === undefined
      ? `${target} removed (was version ${asString(d.previous)})`
      : d.previous === null || d.previous === undefined
        ? `${target} → version ${asString(d.version)} (new alias)`
        : `${target}: version ${asString(d.previous)} → ${asString(d.version)}`;
  return h('div', { class: 'mb-view mb-line' }, h('span', { class: 'mb-kind' }, 'alias'), ' ', text);
};

export const gcReport: View = d =>
  h(
    'div',
    { class: 'mb-view mb-line' },
    h('span', { class: 'mb-kind' }, 'gc'),
    ` removed ${fmtInt(d.removed_files)} unreferenced files, freed ${fmtBytes(d.freed_bytes)}`
  );

