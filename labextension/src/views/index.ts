/**
 * One view per result kind, built from the saved bundle alone; an unknown kind falls back to a
 * readable JSON tree (never a blank output).
 */

import { h } from '../dom';
import { asRecord, asString } from '../format';
import { IBundle, jsonTree, View } from './common';
import { challengerComparison } from './comparison';
import { modelDiff, datasetDiff } from './diff';
import { feedbackReport } from './feedback';
import { history, monitorReport } from './monitor';
import { aliasChange, datasetVersion, gcReport, listing, modelVersion } from './registry';
import { policyAction, policyStatus } from './policy';
import { monitorTimeline } from './timeline';

export { badge, IBundle, MIME_TYPE } from './common';

// -- dispatch -------------------------------------------------------------------------------

const VIEWS: Record<string, View> = {
  dataset_version: datasetVersion,
  model_version: modelVersion,
  listing,
  alias_change: aliasChange,
  gc_report: gcReport,
  monitor_report: monitorReport,
  monitor_timeline: monitorTimeline,
  history,
  model_diff: modelDiff,
  dataset_diff: datasetDiff,
  challenger_comparison: challengerComparison,
  feedback_report: feedbackReport,
  policy_status: policyStatus,
  policy_action: policyAction
};

export function isBundle(value: unknown): value is IBundle {
  const record = asRecord(value);
  return typeof record.type === 'string' && 'data' in record;
}

function fallback(value: unknown, note: string): HTMLElement {
  return h('div', { class: 'mb-view mb-unknown' }, h('p', { class: 'mb-muted' }, note), jsonTree(value, 0));
}

/** The view of one bundle; never throws and never returns an empty element. */
export function renderBundle(value: unknown): HTMLElement {
  if (!isBundle(value)) {
    return fallback(value, 'modelbook output with an unexpected shape:');
  }
  const view = VIEWS[value.type];
  if (!view) {
    return fallback(value.data, `modelbook ${value.type} (version ${asString(value.version)}):`);
  }
  try {
    const el = view(asRecord(value.data));
    el.setAttribute('data-mb-kind', value.type);
    return el;
  } catch (error) {
    console.error('modelbook: cannot render', value.type, error);
    return fallback(value.data, `modelbook ${value.type} (could not draw this view: ${String(error)}):`);
  }
}
