/**
 * Views of rollback/retraining policies: `modelbook policy check` (one row per policy: the
 * version holding the alias, the streak "2 of 3", the state, the last action) and one action.
 * The same words as the static HTML, so the three faces agree.
 */

import { h } from '../dom';
import { asArray, asRecord, asString, fmtDate, isNumber } from '../format';
import { dataTable, IColumn } from '../table';
import { badge, Data, header, View } from './common';

function seconds(value: number): string {
  if (value >= 3600) {
    return `${(value / 3600).toFixed(1)} h`;
  }
  return value >= 60 ? `${Math.round(value / 60)} min` : `${Math.round(value)} s`;
}

function state(p: Data): string {
  const dry = p.dry_run === true;
  if (p.holder === null || p.holder === undefined) {
    return 'alias removed: idle';
  }
  const left = isNumber(p.cooldown_remaining) ? p.cooldown_remaining : 0;
  if (left > 0) {
    return `cooldown ${seconds(left)} left`;
  }
  if (isNumber(p.streak) && isNumber(p.consecutive) && p.streak >= p.consecutive) {
    return dry ? 'would act (dry run)' : 'acts on the next failing run';
  }
  return dry ? 'watching (dry run)' : 'watching';
}

function last(value: unknown): string {
  const a = asRecord(value);
  if (!value) {
    return 'none yet';
  }
  const code = a.exit_code === null || a.exit_code === undefined ? '' : `, exit ${asString(a.exit_code)}`;
  return `${asString(a.action)} ${asString(a.status)}${code} at ${fmtDate(a.at)}`;
}

export const policyStatus: View = d => {
  const rows = asArray(d.policies).map(asRecord);
  const spec: IColumn<Data>[] = [
    { key: 'name', label: 'policy', value: p => p.name },
    { key: 'alias', label: 'alias', value: p => p.alias },
    { key: 'holder', label: 'holder', value: p => p.holder, cell: p => (p.holder === null ? '(none)' : `version ${asString(p.holder)}`) },
    { key: 'on', label: 'on', value: p => asArray(p.on).join(', ') },
    { key: 'action', label: 'action', value: p => `${asString(p.action)}${p.dry_run === true ? ' (dry run)' : ''}` },
    { key: 'streak', label: 'streak', value: p => p.streak, cell: p => `${asString(p.streak)} of ${asString(p.consecutive)}`, numeric: true },
    { key: 'state', label: 'state', value: p => state(p) },
    { key: 'last', label: 'last action', value: p => last(p.last_action) }
  ];
  const title = rows.length === 1 ? '1 policy' : `${rows.length} policies`;
  return h(
    'div',
    { class: 'mb-view mb-policies' },
    header(h('span', null, h('span', { class: 'mb-kind' }, 'policies'), ' ', title), asString(d.registry)),
    dataTable<Data>({
      columns: spec,
      rows,
      empty: 'No policies configured: add [tool.modelbook.policy.<name>] to pyproject.toml or [policy.<name>] to policy.toml in the registry.'
    })
  );
};

export const policyAction: View = d => {
  const word = ({ done: 'ok', failed: 'error', refused: 'error' } as Record<string, string>)[asString(d.status)] ?? 'info';
  const output = d.output ? `; output ${asString(d.output)}` : '';
  return h(
    'div',
    { class: 'mb-view mb-line' },
    badge(word),
    ` policy ${asString(d.policy)} on ${asString(d.alias)}: ${asString(d.action)} ${asString(d.status)}: ${asString(d.message)} (${asString(d.reason)}${output})`
  );
};
