"""The reference side of segment monitoring: per-segment profiles of the reference dataset.

They are computed on first use from the reference's stored Parquet (one grouping pass, like the
batch's: :mod:`modelbook.stats.segments`) and kept in ``derived_statistics`` (kind
``segment_profiles``), so later runs read them instead of the reference's rows:

* the data: name/version of the reference dataset, key ``data|<slice>|top<max_segments>``;
* the model's predictions on the reference: name/version of the model version, key
  ``predictions|<reference>|<slice>|top<max_segments>[|classes]`` (the reference is predicted
  once, then only profiles are read).

Both are JSON values (no blob), so ``gc`` and ``check`` have nothing to add.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelbook.stats.segments import (
    group_rows,
    profile_from_json,
    profile_groups,
    profile_to_json,
    slice_key,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from modelbook.monitoring.context import RunContext
    from modelbook.stats.profile import TableProfile

__all__ = ["KIND", "ReferenceSegments", "reference_predictions", "reference_segments"]

KIND = "segment_profiles"
_VERSION = "v2"  # bump when the stored shape changes: old entries are then recomputed


@dataclass(frozen=True)
class ReferenceSegments:
    """Profiles of the reference's segments (its own most frequent values), by group name."""

    groups: dict[str, TableProfile]
    missing: tuple[str, ...]  # slice columns the reference does not have (then groups is empty)


class _ReferenceTable:
    """The reference's rows, read at most once per run (only when a cache entry is missing)."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self._table: pa.Table | None = None

    def get(self) -> pa.Table:
        if self._table is None:
            import pyarrow.parquet as pq

            reg, ref = self._ctx.registry, self._ctx.reference
            path = reg.objects.verified_path(reg.dataset_version(ref.name, ref.version)["blob"])
            self._table = pq.read_table(path)
        return self._table


def _cached(ctx: RunContext, name: str, version: int, key: str) -> dict[str, Any] | None:
    return ctx.registry.derived_statistic(KIND, name, version, key)


def _keep(ctx: RunContext, name: str, version: int, key: str, value: dict[str, Any]) -> None:
    if ctx.store:
        ctx.registry.store_derived_statistic(KIND, name, version, key, value)


def reference_segments(
    ctx: RunContext, by: tuple[str, ...], rows: _ReferenceTable | None = None
) -> ReferenceSegments:
    """The reference's per-segment profiles of every profiled column (cached)."""
    missing = tuple(c for c in by if c not in ctx.reference_profile.names)
    if missing:
        return ReferenceSegments({}, missing)
    top = ctx.settings.max_segments
    key = f"data|{slice_key(by)}|top{top}|{_VERSION}"
    ref = ctx.reference
    found = _cached(ctx, ref.name, ref.version, key)
    if found is None:
        table = (rows or _ReferenceTable(ctx)).get()
        grouping = group_rows(table, by, max_segments=top)
        names = [c.name for c in ctx.reference_profile.columns]
        profiles = profile_groups(
            table, grouping, ctx.reference_profile, names, exact_categories=True
        )
        found = {"groups": {v: profile_to_json(p, edges=False) for v, p in profiles.items()}}
        _keep(ctx, ref.name, ref.version, key, found)
    whole = ctx.reference_profile
    groups = {str(v): profile_from_json(p, whole) for v, p in found["groups"].items()}
    return ReferenceSegments(groups, ())


def reference_predictions(
    ctx: RunContext,
    by: tuple[str, ...],
    *,
    classes_only: bool,
    categorical: bool,
    grouped: bool = True,
) -> tuple[TableProfile, dict[str, TableProfile]]:
    """The model's predictions on the whole reference and per reference segment (cached).

    Returns the whole reference's prediction profile (the bins both sides are counted on) and
    each reference segment's (none when not ``grouped``: the reference lacks the slice).
    """
    import numpy as np
    import pyarrow as pa

    from modelbook.monitoring.predictions import predict_batches, prediction_table
    from modelbook.stats.profile import profile_table

    assert ctx.model is not None
    top = ctx.settings.max_segments
    key = f"predictions|{ctx.reference}|{slice_key(by) if grouped else ''}|top{top}|{_VERSION}" + (
        "|classes" if classes_only else ""
    )
    target = ctx.target
    found = _cached(ctx, target.name, target.version, key)
    if found is None:
        table = _ReferenceTable(ctx).get()
        preds = predict_batches(ctx.model.model, table=table, columns=list(ctx.model.inputs))
        values = preds.labels if classes_only else preds.monitored
        pred_table = prediction_table(np.asarray(values), categorical=categorical)
        whole = profile_table(pred_table)
        profiles: dict[str, TableProfile] = {}
        if grouped:
            grouping = group_rows(
                pa.Table.from_arrays([table.column(c) for c in by], names=list(by)),
                by,
                max_segments=top,
            )
            profiles = profile_groups(
                pred_table, grouping, whole, ["prediction"], exact_categories=True
            )
        found = {
            "whole": profile_to_json(whole),
            "groups": {v: profile_to_json(p, edges=False) for v, p in profiles.items()},
        }
        _keep(ctx, target.name, target.version, key, found)
    whole = profile_from_json(found["whole"])
    groups = {str(v): profile_from_json(p, whole) for v, p in found["groups"].items()}
    return whole, groups
