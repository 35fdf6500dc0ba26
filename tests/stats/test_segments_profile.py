"""One grouping pass equals profiling each segment on its own (stats/segments.py)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from modelbook.errors import DataError
from modelbook.stats.profile import profile_table
from modelbook.stats.segments import group_rows, profile_groups


def _table(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    x[rng.random(n) < 0.02] = np.nan
    x[rng.random(n) < 0.005] = np.inf
    k = rng.poisson(4.0, n).astype(np.int64)
    mask = rng.random(n) < 0.05
    region = rng.choice(np.asarray(["a", "b", "c", "d", "e"], dtype=object), n)
    region[rng.random(n) < 0.01] = None
    return pa.table(
        {
            "x": pa.array(x),
            "k": pa.array(k, mask=mask),
            "when": pa.array(
                (1_700_000_000 + rng.integers(0, 86_400 * 30, n)).astype("datetime64[s]")
            ),
            "plan": pa.array(
                rng.choice(["basic", "gold", "pro"], n), pa.string()
            ).dictionary_encode(),
            "flag": pa.array(rng.random(n) < 0.3),
            "region": pa.array(region, pa.string()),
        }
    )


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_group_profiles_equal_profiles_of_each_group() -> None:
    reference = profile_table(_table(20_000, seed=1))
    batch = _table(9_000, seed=2)
    g = group_rows(batch, ["region"], max_segments=50)
    assert set(g.values) == {"a", "b", "c", "d", "e", "(null)"}
    columns = ["x", "k", "when", "plan", "flag"]
    grouped = profile_groups(batch, g, reference, columns)
    region = batch.column("region").to_pylist()
    for value in g.values:
        rows = [i for i, r in enumerate(region) if (r if r is not None else "(null)") == value]
        alone = profile_table(batch.select(columns).take(rows), reference=reference)
        got = grouped[value]
        assert got.rows == len(rows)
        for name in columns:
            a, b = got.column(name), alone.column(name)
            for field in ("count", "nulls", "nan", "pos_inf", "neg_inf", "hist_edges",
                          "hist_counts", "top_values", "top_counts", "other_count"):  # fmt: skip
                assert getattr(a, field) == getattr(b, field), (value, name, field)
            for field in ("min", "max", "mean", "std"):
                assert _same(getattr(a, field), getattr(b, field)), (value, name, field)


def test_max_segments_folds_the_least_frequent_and_keeps_null_apart() -> None:
    values = [f"v{i % 12:02d}" for i in range(1200)] + [None] * 7
    table = pa.table({"s": pa.array(values, pa.string())})
    g = group_rows(table, ["s"], max_segments=4)
    assert g.values[-2:] == ("(null)", "(other)")
    assert len(g.values) == 6 and g.n_values == 13 and g.other_values == 8
    assert g.rows_of("(other)") == 800 and g.rows_of("(null)") == 7
    assert int(g.rows.sum()) == 1207


def test_intersections_name_both_parts() -> None:
    table = pa.table({"a": ["x", "x", "y", None], "b": [1, 2, 1, 1]})
    g = group_rows(table, ["a", "b"], max_segments=50)
    assert g.key == "a*b"
    assert set(g.values) == {"x*1", "x*2", "y*1", "(null)*1"}


def test_too_many_distinct_values_is_refused() -> None:
    table = pa.table({"id": pa.array(np.arange(10_001))})
    with pytest.raises(DataError, match=r"segment column 'id' has 10,001 distinct values"):
        group_rows(table, ["id"], max_segments=50)
    assert len(group_rows(table, ["id"], max_segments=20_000).values) == 10_001
