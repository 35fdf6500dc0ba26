"""A monitor run's inputs: the registry read, the rules, the batch's columns and its labels.

Bad input the user can fix raises a :class:`~modelbook.errors.DataError` here, before anything
is computed or written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelbook.config import load_config, merge
from modelbook.errors import ConfigError, DataError, MonitorError
from modelbook.monitoring.rules import STORE_MODES, MonitorRules
from modelbook.registry import Registry, Resolved, parse_ref

if TYPE_CHECKING:
    from modelbook.capture.datasets import TableSource
    from modelbook.stats.profile import ColumnProfile, TableProfile

__all__ = [
    "Stored",
    "column_of_file",
    "column_profile",
    "file_columns",
    "labels_array",
    "read_rules",
    "read_stored",
    "with_column",
]


@dataclass(frozen=True)
class Stored:
    """What the registry holds for a run: target, reference and its profile (one read)."""

    target: Resolved
    model_row: Mapping[str, Any] | None  # model_versions row for a model
    reference: Resolved
    profile: TableProfile
    reference_target: str | None


def read_stored(reg: Registry, ref: str, reference: str | None) -> Stored:
    """Target, reference dataset, its stored profile and its target column (one registry read)."""
    from modelbook.stats.profile import TableProfile

    got = reg.monitor_inputs(
        parse_ref(ref), parse_ref(reference) if reference is not None else None
    )
    target: Resolved = got["target"]
    ds: Resolved | None = got["reference"]
    if ds is None:
        raise MonitorError(
            f"model {target} has no training dataset recorded: pass the dataset to "
            "compare against, e.g. reference='churn-training@1' (--reference)."
        )
    profile = TableProfile(
        rows=int(got["dataset"]["n_rows"]),
        columns=tuple(column_profile(c) for c in got["profiles"]),
    )
    return Stored(target, got["model"], ds, profile, got["dataset"]["target"])


def column_profile(data: Mapping[str, Any]) -> ColumnProfile:
    """A stored column profile (a registry row or JSON) as a :class:`ColumnProfile`."""
    from modelbook.stats.profile import ColumnProfile

    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return ColumnProfile(**fields)


def read_rules(
    reg: Registry, rules: Mapping[str, Any] | None, store: str | None
) -> tuple[MonitorRules, str]:
    """The run's rules (config files, then ``rules=``) and its store mode."""
    config = load_config(reg.home).get("monitor", {})
    if rules is not None:
        if not isinstance(rules, Mapping):
            raise ConfigError(
                "rules= must be a mapping like the [tool.modelbook.monitor] table, e.g. "
                "{'checks': {'schema.unexpected': 'info'}}."
            )
        config = merge(config, rules)
    settings = MonitorRules.from_mapping(config)
    mode = settings.store if store is None else store
    if mode not in STORE_MODES:
        raise ConfigError(f"store={mode!r} is not one of {', '.join(STORE_MODES)}.")
    return settings, mode


def labels_array(target: object, n_rows: int | None) -> Any:
    """``target=`` as a 1-D numpy array of labels, checked against the batch's row count."""
    import numpy as np

    from modelbook.capture.datasets import label_array

    values = label_array(target, what="target", looked_in="batch")
    if len(values) == 0:
        raise DataError("target is empty: pass the labels that belong to this batch.")
    if n_rows is not None and len(values) != n_rows:
        raise DataError(
            f"target has {len(values):,} labels but the batch has {n_rows:,} rows: "
            "pass the labels that belong to this batch."
        )
    return np.asarray(values.to_numpy(zero_copy_only=False))


def file_columns(source: TableSource) -> list[str]:
    import duckdb

    from modelbook.capture.datasets import duckdb_scan

    assert source.path is not None
    con = duckdb.connect()
    try:
        return list(con.sql(f"SELECT * FROM {duckdb_scan(source.path, source.kind)}").columns)
    except duckdb.Error as exc:
        raise DataError(f"cannot read {source.label}: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()


def column_of_file(source: TableSource, column: str) -> Any:
    import duckdb
    import numpy as np

    from modelbook.capture.datasets import duckdb_scan

    assert source.path is not None
    con = duckdb.connect()
    try:
        quoted = '"' + column.replace('"', '""') + '"'
        table = con.sql(
            f"SELECT {quoted} FROM {duckdb_scan(source.path, source.kind)}"
        ).to_arrow_table()
    finally:
        con.close()
    return np.asarray(table.column(0).to_numpy(zero_copy_only=False))


def with_column(source: TableSource, name: str, values: Any) -> TableSource:
    import dataclasses

    assert source.table is not None
    return dataclasses.replace(source, table=source.table.append_column(name, values))
