"""Bad input for segments= and sensitive=: one-line errors that say what to do, raised before
anything is stored; and the cases that are results, not errors (every group insufficient)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from segments_data import column, labels, region_frame, register_model

import modelbook
from modelbook.errors import ConfigError, DataError
from modelbook.registry import Registry

COLUMNS = "x1, x2, plan, region"


@pytest.fixture
def home(registry: Path) -> Path:
    reference = region_frame(6_000, seed=1)
    register_model(registry, reference)
    modelbook.register(reference, name="ref", registry=registry)
    return registry


def _runs(home: Path) -> int:
    return len(Registry(home).monitor_runs("m"))


@pytest.mark.parametrize(
    ("ref", "options", "error", "message"),
    [
        (
            "m",
            {"segments": ["regio"]},
            DataError,
            f"segment column 'regio' is not in the batch; its columns: {COLUMNS}.",
        ),
        (
            "m",
            {"segments": [("region", "tier")]},
            DataError,
            f"segment column 'tier' is not in the batch; its columns: {COLUMNS}.",
        ),
        (
            "m",
            {"sensitive": ["gender"]},
            DataError,
            f"sensitive column 'gender' is not in the batch; its columns: {COLUMNS}.",
        ),
        (
            "ref@1",
            {"sensitive": ["plan"]},
            ConfigError,
            "sensitive= needs a model: ref@1 is a dataset, and fairness measures a model's "
            "predictions across groups (monitor a model version, or drop sensitive=).",
        ),
        (
            "m",
            {"segments": [("region", "region")]},
            ConfigError,
            "segments entry ('region', 'region') must name distinct, non-empty columns.",
        ),
        (
            "m",
            {"segments": 3},
            ConfigError,
            "segments must be a list of column names (or tuples of names for an intersection), "
            "got int.",
        ),
        (
            "m",
            {"segments": ["region"], "chunk": 1000},
            ConfigError,
            "segments=/sensitive= judge one batch; they do not combine with chunk= (monitor one "
            "chunk's batch with segments= instead).",
        ),
        (
            "m",
            {"rules": {"max_segments": 0}},
            ConfigError,
            "monitor.max_segments must be a whole number ≥ 1; got 0.",
        ),
        (
            "m",
            {"rules": {"min_group": 2.5}},
            ConfigError,
            "monitor.min_group must be a whole number ≥ 1; got 2.5.",
        ),
        (
            "m",
            {"rules": {"segments": [["region", ""]]}},
            ConfigError,
            "monitor.segments entry ['region', ''] must name distinct, non-empty columns.",
        ),
    ],
)
def test_bad_input_is_one_line_before_anything_is_stored(
    home: Path, ref: str, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    batch = region_frame(500, seed=2)
    with pytest.raises(error) as raised:
        modelbook.monitor(ref, data=batch, registry=home, **options)
    assert str(raised.value) == message
    assert _runs(home) == 0


def test_challenger_with_segments_is_refused(home: Path) -> None:
    register_model(home, region_frame(6_000, seed=5), seed=9)  # m@2
    with pytest.raises(ConfigError) as raised:
        modelbook.monitor(
            "m@1", data=region_frame(500, seed=2), challenger="m@2", segments=["region"],
            registry=home,
        )  # fmt: skip
    assert str(raised.value) == (
        "challenger= compares two versions on the whole batch; it does not combine with "
        "segments=/sensitive= (monitor each version with segments= instead)."
    )
    assert _runs(home) == 0


def _with_ids(n: int) -> pd.DataFrame:
    return region_frame(n, seed=2).assign(customer=np.arange(n).astype(str))


def test_an_identifier_is_refused_as_a_segment_unless_max_segments_is_raised(home: Path) -> None:
    batch = _with_ids(10_001)
    with pytest.raises(DataError) as raised:
        modelbook.monitor("ref@1", data=batch, segments=["customer"], registry=home)
    assert str(raised.value) == (
        "segment column 'customer' has 10,001 distinct values (more than 10,000): bucket it "
        "first (e.g. pd.cut or a coarser column), or raise max_segments to monitor that many "
        "groups."
    )
    assert len(Registry(home).monitor_runs("ref")) == 0
    # Asked for: 10,001 one-row groups, each reported as insufficient, none dropped.
    report = modelbook.monitor(
        "ref@1", data=batch, segments=["customer"], rules={"max_segments": 20_000},
        store="none", registry=home,
    )  # fmt: skip
    slice_ = column(report, "customer")
    assert len(slice_["groups"]) == 10_001 and slice_["other"] is None
    assert {g["status"] for g in slice_["groups"]} == {"insufficient"}
    assert slice_["reference"] == "whole"  # the reference has no customer column


def test_every_group_insufficient_is_a_result_not_an_error(home: Path) -> None:
    batch = region_frame(400, seed=2)
    report = modelbook.monitor(
        "m", data=batch, target=labels(batch, seed=3), segments=["region"],
        rules={"min_group": 1_000}, store="none", registry=home,
    )  # fmt: skip
    slice_ = column(report, "region")
    assert {g["status"] for g in slice_["groups"]} == {"insufficient"}
    assert sum(g["rows"] for g in slice_["groups"]) == 400
    summary = next(c for c in report.checks if c.check == "segments.region")
    assert summary.status == "ok"
    assert summary.message == (
        "0 of 0 compared segments alert; 4 insufficient (< 1000 rows, not compared)"
    )
    assert report.segments["worst"] is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "m --data batch --segments regio",
            f"segment column 'regio' is not in the batch; its columns: {COLUMNS}.",
        ),
        (
            "m --data batch --segments region*tier",
            f"segment column 'tier' is not in the batch; its columns: {COLUMNS}.",
        ),
        (
            "m --data batch --sensitive gender",
            f"sensitive column 'gender' is not in the batch; its columns: {COLUMNS}.",
        ),
        (
            "ref@1 --data batch --sensitive plan",
            "sensitive= needs a model: ref@1 is a dataset, and fairness measures a model's "
            "predictions across groups (monitor a model version, or drop sensitive=).",
        ),
        (
            "m --data batch --segments region --chunk 100",
            "segments=/sensitive= judge one batch; they do not combine with chunk= (monitor one "
            "chunk's batch with segments= instead).",
        ),
    ],
)
def test_magic_errors_are_usage_errors(ip: Any, home: Path, line: str, message: str) -> None:
    ip.user_ns["batch"] = region_frame(500, seed=2)
    with pytest.raises(UsageError) as raised:
        ip.run_line_magic("monitor", line)
    assert type(raised.value) is UsageError
    assert str(raised.value) == message
