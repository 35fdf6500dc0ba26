"""Profiles checked field by field against numpy/pandas computed directly on the same data."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import math
import pathlib
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from modelbook.errors import DataError
from modelbook.stats import profile as profile_mod
from modelbook.stats.profile import QUANTILE_PROBS, ColumnProfile, TableProfile, profile_table

# --------------------------------------------------------------------------- expectations


def _nonnull(col: pa.ChunkedArray) -> list[Any]:
    return [v for v in col.to_pylist() if v is not None]


def _seconds(v: Any) -> float:
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)
        return float(v.timestamp())
    if isinstance(v, dt.date):
        return float((v - dt.date(1970, 1, 1)).days * 86_400)
    return float(v)


def expected_edges(finite: np.ndarray, q: np.ndarray, *, integer: bool) -> np.ndarray:
    """Reference edges, the plain way: a point bin [v, v⁺) per value when there are at most
    50 distinct values; else the unique quantiles plus a point bin after each tied quantile."""

    def above(v: np.ndarray) -> np.ndarray:
        return v + 1 if integer else np.nextafter(v, np.inf)

    values = np.unique(finite)
    if len(values) <= 50:
        return np.unique(np.concatenate([values, above(values)]))
    qq = np.floor(q) if integer else q
    tied = [a for a, b in itertools.pairwise(qq) if a == b]
    return np.unique(np.concatenate([qq, above(np.array(tied)), above(qq[-1:])]))


def expected_numeric(
    col: pa.ChunkedArray, *, integer: bool, edges: np.ndarray | None = None
) -> dict[str, Any]:
    """Every numeric field computed the plain way: numpy on a list of Python values."""
    values = np.array([_seconds(v) for v in _nonnull(col)], dtype=np.float64)
    finite = values[np.isfinite(values)]
    out: dict[str, Any] = {
        "count": len(col),
        "nulls": col.null_count,
        "nan": int(np.isnan(values).sum()),
        "pos_inf": int(np.isposinf(values).sum()),
        "neg_inf": int(np.isneginf(values).sum()),
        "distinct": len(np.unique(values)),
    }
    if len(finite) == 0:
        out.update(min=None, max=None, mean=None, std=None, quantiles=(), hist_edges=())
        return out
    q = np.quantile(finite, QUANTILE_PROBS)
    if edges is None:
        edges = expected_edges(finite, q, integer=integer)
    counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)
    out.update(
        min=float(finite.min()),
        max=float(finite.max()),
        mean=float(np.mean(finite)),
        std=float(np.std(finite, ddof=1)) if len(finite) > 1 else None,
        quantiles=tuple(q),
        hist_edges=tuple(float(e) for e in edges),
        hist_counts=tuple(int(c) for c in counts),
    )
    return out


def expected_categorical(col: pa.ChunkedArray, *, top_k: int) -> dict[str, Any]:
    s = pd.Series(col.to_pylist(), dtype=object).dropna()
    if pa.types.is_boolean(col.type):
        s = s.map({True: "true", False: "false"})
    vc = s.astype(str).value_counts()
    ordered = sorted(vc.items(), key=lambda kv: (-kv[1], kv[0]))
    top = ordered[:top_k]
    return {
        "count": len(col),
        "nulls": col.null_count,
        "distinct": len(vc),
        "top_values": tuple(v for v, _ in top),
        "top_counts": tuple(int(c) for _, c in top),
        "other_count": int(vc.sum()) - sum(c for _, c in top),
    }


def assert_matches(prof: ColumnProfile, expected: dict[str, Any], *, rtol: float = 1e-9) -> None:
    for key, want in expected.items():
        got = getattr(prof, key)
        if isinstance(want, float):
            assert got is not None, key
            assert math.isclose(got, want, rel_tol=rtol, abs_tol=1e-12), (prof.name, key)
        elif isinstance(want, tuple) and want and isinstance(want[0], float):
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12, err_msg=key)
        else:
            assert got == want, (prof.name, key, got, want)


def assert_python_types(prof: TableProfile) -> None:
    """The registry stores fields as DuckDB columns: plain Python scalars only."""
    assert type(prof.rows) is int
    for c in prof.columns:
        for name in ("position", "count", "nulls", "nan", "pos_inf", "neg_inf", "distinct"):
            assert type(getattr(c, name)) is int, name
        assert type(c.other_count) is int
        for name in ("min", "max", "mean", "std"):
            v = getattr(c, name)
            assert v is None or type(v) is float, (c.name, name, type(v))
        assert all(type(v) is float for v in c.quantiles + c.hist_edges)
        assert all(type(v) is int for v in c.hist_counts + c.top_counts)
        assert all(type(v) is str for v in c.top_values)


# --------------------------------------------------------------------------- data


def mixed_table(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 3, n)
    x[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.01] = np.inf
    x[rng.random(n) < 0.01] = -np.inf
    mask = rng.random(n) < 0.1
    cats = np.array(["a", "b", "", "dd", "eee"])
    strings = cats[rng.integers(0, 5, n)].astype(object)
    strings[rng.random(n) < 0.05] = None
    ints = rng.integers(-50, 50, n)
    base = pd.Timestamp("2024-01-01")
    frame = pd.DataFrame(
        {
            "ints": ints,
            "cat": pd.Categorical(cats[rng.integers(0, 5, n)]),
            "when": base + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        }
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.append_column("floats", pa.array(x, mask=mask)).append_column(
        "strings", pa.array(strings, type=pa.string())
    )


def edge_table() -> pa.Table:
    return pa.table(
        {
            "const": pa.array([2.5] * 6),
            "all_null": pa.array([None] * 6, type=pa.float64()),
            "single": pa.array([None, None, 7.0, None, None, None]),
            "ties": pa.array([1.0, 1.0, 1.0, 2.0, 2.0, 9.0]),
            "bools": pa.array([True, False, True, None, True, True]),
            "uint": pa.array([1, 2, 3, 4, 5, 2**40], type=pa.uint64()),
            "i8": pa.array([-3, 0, 0, 1, None, 127], type=pa.int8()),
            "f32": pa.array([0.5, 1.5, None, 2.5, float("nan"), 3.5], type=pa.float32()),
            "dec": pa.array(
                [decimal.Decimal(f"{i}.25") for i in range(6)], type=pa.decimal128(6, 2)
            ),
            "day": pa.array([dt.date(2024, 1, d) for d in range(1, 7)], type=pa.date32()),
            "tz": pa.array(
                [dt.datetime(2024, 1, 1, h, tzinfo=dt.UTC) for h in range(6)],
                type=pa.timestamp("ms", tz="Europe/Paris"),
            ),
            "empty_str": pa.array(["", "", "x", None, "", "y"]),
            "listy": pa.array([[1], [2], [1], None, [3], [1]]),
            "nullstr": pa.array([None] * 6, type=pa.string()),
        }
    )


# --------------------------------------------------------------------------- in memory


@pytest.mark.parametrize("n", [50, 5_000, 200_000])
def test_reference_profile_matches_numpy_and_pandas(n: int) -> None:
    table = mixed_table(n)
    prof = profile_table(table, top_k=3)
    assert prof.rows == n
    assert [c.name for c in prof.columns] == table.column_names
    assert [c.position for c in prof.columns] == list(range(table.num_columns))
    assert_python_types(prof)
    kinds = {c.name: c.kind for c in prof.columns}
    assert kinds == {
        "ints": "numeric",
        "cat": "categorical",
        "when": "datetime",
        "floats": "numeric",
        "strings": "categorical",
    }
    assert prof.column("cat").arrow_type == str(table.schema.field("cat").type)
    assert_matches(prof.column("floats"), expected_numeric(table["floats"], integer=False))
    assert_matches(prof.column("ints"), expected_numeric(table["ints"], integer=True))
    assert_matches(prof.column("when"), expected_numeric(table["when"], integer=False))
    for name in ("cat", "strings"):
        assert_matches(prof.column(name), expected_categorical(table[name], top_k=3))
        assert prof.column(name).quantiles == ()


def test_repeated_values_get_bins_of_their_own() -> None:
    """A discrete column gets a point bin per value; a heavy tie in a continuous one gets one too.

    Statistics computed from profiles then see these values exactly (tests/stats/test_stats_drift
    checks the error bounds; here, the bins themselves).
    """
    rng = np.random.default_rng(2)
    n = 10_000
    pixel = np.where(rng.random(n) < 0.7, 0.0, rng.integers(1, 17, n).astype(np.float64))
    zero_inflated = np.where(rng.random(n) < 0.3, 0.0, rng.normal(5, 1, n))
    rating = rng.integers(1, 6, n)
    prof = profile_table(pa.table({"pixel": pixel, "zi": zero_inflated, "rating": rating}))

    px = prof.column("pixel")
    values = np.unique(pixel)
    assert px.hist_edges == tuple(
        float(e) for e in np.sort(np.concatenate([values, np.nextafter(values, np.inf)]))
    )
    counts = np.array(px.hist_counts)
    assert list(counts[1::2]) == [int(np.sum(pixel == v)) for v in values]  # [v, v⁺): exactly v
    assert not counts[0::2].any()  # nothing between two values, nor outside the range

    zi = prof.column("zi")
    assert zi.hist_edges[0] == zero_inflated.min()
    zero_bin = zi.hist_edges.index(0.0)
    assert zi.hist_edges[zero_bin + 1] == 5e-324  # 0⁺: the bin [0, 0⁺) holds exactly the zeros
    assert zi.hist_counts[zero_bin + 1] == int(np.sum(zero_inflated == 0.0))
    assert len(zi.hist_edges) <= len(QUANTILE_PROBS) + 2

    assert prof.column("rating").hist_edges == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)  # unit bins
    assert prof.column("rating").hist_counts[1:-1] == tuple(
        int(np.sum(rating == v)) for v in range(1, 6)
    )


def test_distinct_values_are_found_without_a_pass_over_the_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = np.sort(np.random.default_rng(0).integers(0, 7, 1_000_000)).astype(np.float64)
    calls = 0
    real = np.searchsorted

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "searchsorted", counting)
    values = profile_mod._few_values(s, 50)
    monkeypatch.undo()
    assert values is not None and list(values) == [0, 1, 2, 3, 4, 5, 6]
    assert calls == 7  # one binary search per distinct value
    assert profile_mod._few_values(np.arange(100.0), 50) is None


def test_edge_cases_column_by_column() -> None:
    table = edge_table()
    prof = profile_table(table, top_k=2)
    assert_python_types(prof)
    for name in ("const", "all_null", "single", "ties", "f32", "dec", "day", "tz"):
        col = table[name]
        integer = pa.types.is_integer(col.type)
        assert_matches(prof.column(name), expected_numeric(col, integer=integer))
    for name in ("i8", "uint"):
        assert_matches(prof.column(name), expected_numeric(table[name], integer=True))
    const = prof.column("const")
    assert const.hist_edges == (2.5, float(np.nextafter(2.5, 3)))
    assert const.hist_counts == (0, 6, 0)
    assert const.std == 0.0
    assert prof.column("all_null").quantiles == () and prof.column("all_null").hist_counts == ()
    assert prof.column("single").std is None
    ties = prof.column("ties")
    assert list(ties.hist_edges) == sorted(set(ties.hist_edges))
    assert ties.hist_counts[0] == 0 and ties.hist_counts[-1] == 0  # nothing outside the range
    assert ties.hist_counts[-2] == 1  # the bin before the last edge holds exactly the max
    assert ties.hist_counts[1] == 3  # all the 1.0s sit in the bin starting at the first edge
    assert prof.column("tz").min == dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp()
    assert prof.column("day").kind == "datetime"

    bools = prof.column("bools")
    assert bools.kind == "boolean"
    assert bools.top_values == ("true", "false") and bools.top_counts == (4, 1)
    assert bools.mean == pytest.approx(0.8) and bools.min == 0.0 and bools.max == 1.0
    assert bools.std == pytest.approx(float(np.std([1, 0, 1, 1, 1], ddof=1)))
    assert_matches(bools, expected_categorical(table["bools"], top_k=2))

    empty = prof.column("empty_str")
    assert empty.top_values == ("", "x") and empty.top_counts == (3, 1) and empty.other_count == 1
    assert empty.nulls == 1 and empty.distinct == 3

    assert prof.column("nullstr").top_values == () and prof.column("nullstr").nulls == 6
    other = prof.column("listy")
    # Arrow cannot hash lists: distinct is 0 ("not computed") for such columns.
    assert other.kind == "other" and other.nulls == 1 and other.distinct == 0
    binary = profile_table(pa.table({"b": pa.array([b"x", b"y", b"x", None])})).column("b")
    assert binary.kind == "other" and binary.distinct == 2 and binary.nulls == 1


def test_chunked_columns_give_the_same_profile() -> None:
    table = mixed_table(3_000, seed=3)
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=700))
    assert chunked["floats"].num_chunks > 1
    assert profile_table(chunked) == profile_table(table)


def test_polars_and_pandas_arrow_inputs_agree() -> None:
    pl = pytest.importorskip("polars")
    frame = pd.DataFrame({"x": np.arange(100.0), "s": ["a", "b"] * 50})
    a = profile_table(pa.Table.from_pandas(frame, preserve_index=False))
    b = profile_table(pl.from_pandas(frame).to_arrow())
    strip = [(c.name, c.count, c.min, c.max, c.quantiles, c.top_counts) for c in a.columns]
    assert strip == [(c.name, c.count, c.min, c.max, c.quantiles, c.top_counts) for c in b.columns]


def test_batch_profile_uses_reference_bins_and_categories() -> None:
    rng = np.random.default_rng(7)
    ref_table = pa.table(
        {
            "x": rng.normal(0, 1, 10_000),
            "k": rng.integers(0, 10, 10_000),
            "c": np.array(list("abcdefgh"))[rng.integers(0, 8, 10_000)],
        }
    )
    cur_table = pa.table(
        {
            "x": rng.normal(0.5, 2, 4_000),
            "k": rng.integers(5, 20, 4_000),
            "c": np.array(list("abcxyz"))[rng.integers(0, 6, 4_000)],
        }
    )
    ref = profile_table(ref_table, top_k=5)
    cur = profile_table(cur_table, reference=ref, top_k=5)
    for name, integer in (("x", False), ("k", True)):
        r, c = ref.column(name), cur.column(name)
        assert c.hist_edges == r.hist_edges
        assert r.hist_counts[0] == 0 and r.hist_counts[-1] == 0  # edges span the reference
        want = expected_numeric(cur_table[name], integer=integer, edges=np.asarray(r.hist_edges))
        assert_matches(c, want)
    c = cur.column("c")
    ref_top = ref.column("c").top_values
    assert len(ref_top) == 5
    assert c.top_values[:5] == ref_top
    counts = pd.Series(cur_table["c"].to_pylist()).value_counts()
    for value, count in zip(c.top_values, c.top_counts, strict=True):
        assert count == counts.get(value, 0)
    new = [v for v in c.top_values if v not in ref_top]
    assert set(new) == {"x", "y", "z"} & set(counts.index)
    assert c.other_count == counts.sum() - sum(c.top_counts)


def test_batch_profile_of_all_null_column_keeps_reference_bins() -> None:
    ref = profile_table(pa.table({"x": [1.0, 2.0, 3.0]}))
    cur = profile_table(pa.table({"x": pa.array([None, None], type=pa.float64())}), reference=ref)
    col = cur.column("x")
    assert col.hist_edges == ref.column("x").hist_edges
    assert col.hist_counts == (0,) * (len(col.hist_edges) + 1)
    assert col.min is None and col.nulls == 2


# --------------------------------------------------------------------------- paths


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream in batches of 1,000 rows so that merging is exercised on small files."""
    monkeypatch.setattr(profile_mod, "_BATCH_ROWS", 1_000)


def _path_table(n: int) -> pa.Table:
    rng = np.random.default_rng(11)
    x = rng.lognormal(0, 1, n)
    x[::97] = np.nan
    x[::101] = np.inf
    return pa.table(
        {
            "x": pa.array(x, mask=rng.random(n) < 0.02),
            "k": rng.integers(0, 30, n),
            "c": np.array(["u", "v", "w", "", "zz"])[rng.integers(0, 5, n)],
            "b": rng.random(n) < 0.3,
        }
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_path_profile_matches_in_memory(
    tmp_path: pathlib.Path, fmt: str, small_batches: None
) -> None:
    table = _path_table(20_000)
    path = tmp_path / f"data.{fmt}"
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        # CSV cannot round-trip NaN/inf/null floats, and reads "" back as null.
        table = table.drop_columns(["x"])
        table = table.set_column(1, "c", pa.array([v or "e" for v in table["c"].to_pylist()]))
        pacsv.write_csv(table, path)
    mem = profile_table(table)
    disk = profile_table(path)
    assert disk.rows == mem.rows
    for m, d in zip(mem.columns, disk.columns, strict=True):
        assert d.name == m.name and d.kind == m.kind
        for key in ("count", "nulls", "nan", "pos_inf", "neg_inf", "distinct", "min", "max"):
            assert getattr(d, key) == getattr(m, key), (m.name, key)
        for key in ("mean", "std"):
            if getattr(m, key) is not None:
                assert getattr(d, key) == pytest.approx(getattr(m, key), rel=1e-9)
        # Under 200k rows the pilot sample is the whole file, so the bins are the same.
        assert d.hist_edges == m.hist_edges and d.hist_counts == m.hist_counts
        assert (d.top_values, d.top_counts, d.other_count) == (
            m.top_values,
            m.top_counts,
            m.other_count,
        )
        if m.quantiles:
            _assert_quantiles_within_bins(d, np.asarray(m.quantiles))


def _assert_quantiles_within_bins(prof: ColumnProfile, exact: np.ndarray) -> None:
    """Quantiles interpolated from a histogram are off by at most the width of their bin."""
    assert prof.min is not None and prof.max is not None
    bounds = np.concatenate(([prof.min], np.clip(prof.hist_edges, prof.min, prof.max), [prof.max]))
    got = np.asarray(prof.quantiles)
    for q_true, q_est in zip(exact, got, strict=True):
        j = int(np.searchsorted(bounds, q_true, side="right")) - 1
        j = min(max(j, 0), len(bounds) - 2)
        lo, hi = bounds[max(j - 1, 0)], bounds[min(j + 2, len(bounds) - 1)]
        assert lo - 1e-9 <= q_est <= hi + 1e-9


def test_path_batch_profile_against_reference(tmp_path: pathlib.Path, small_batches: None) -> None:
    ref_table = _path_table(8_000)
    cur_table = _path_table(6_000)
    path = tmp_path / "batch.parquet"
    pq.write_table(cur_table, path)
    ref = profile_table(ref_table)
    disk = profile_table(path, reference=ref)
    mem = profile_table(cur_table, reference=ref)
    for m, d in zip(mem.columns, disk.columns, strict=True):
        assert d.hist_edges == m.hist_edges and d.hist_counts == m.hist_counts
        assert d.top_values == m.top_values and d.top_counts == m.top_counts


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            pa.table({"x": pa.array([], type=pa.float64())}),
            "Cannot profile an empty table (0 rows)",
        ),
        (pa.table({}), "Cannot profile a table with no columns."),
        (
            pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"]),
            "Column names must be unique to be profiled; duplicated: a. Rename the columns first.",
        ),
        ([1, 2, 3], "profile_table() takes a pyarrow.Table or a pathlib.Path, not list"),
    ],
)
def test_bad_input_errors(data: Any, message: str) -> None:
    with pytest.raises(DataError) as info:
        profile_table(data)
    assert str(info.value).startswith(message)


def test_path_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DataError, match="No such file"):
        profile_table(tmp_path / "missing.parquet")
    other = tmp_path / "data.json"
    other.write_text("{}")
    with pytest.raises(DataError) as info:
        profile_table(other)
    assert str(info.value) == (
        "Cannot profile 'data.json': only Parquet (.parquet, .pq) and CSV (.csv, .tsv) files "
        "can be read from a path; load other formats into a table first."
    )
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"Cannot read 'broken\.parquet'"):
        profile_table(broken)


def test_column_lookup_error() -> None:
    prof = profile_table(pa.table({"a": [1], "b": [2]}))
    with pytest.raises(DataError) as info:
        prof.column("zz")
    assert str(info.value) == "No column 'zz' in this profile; its columns are: 'a', 'b'."


def test_quantile_grid() -> None:
    assert QUANTILE_PROBS[0] == 0.0 and QUANTILE_PROBS[-1] == 1.0
    assert list(QUANTILE_PROBS) == sorted(set(QUANTILE_PROBS))
    assert 0.5 in QUANTILE_PROBS and 0.25 in QUANTILE_PROBS and 0.999 in QUANTILE_PROBS


def test_dictionary_columns_counted_from_codes() -> None:
    """pandas categoricals arrive as Arrow dictionaries: unused categories and nulls don't count."""
    first = pd.Categorical(["a", "b", None, "a"], categories=["a", "b", "unused"])
    second = pd.Categorical(["b", "c"], categories=["c", "b"])
    table = pa.concat_tables(
        [
            pa.Table.from_pandas(pd.DataFrame({"c": first}), preserve_index=False),
            pa.Table.from_pandas(pd.DataFrame({"c": second}), preserve_index=False),
        ],
        promote_options="permissive",
    )
    col = profile_table(table).column("c")
    assert (col.kind, col.count, col.nulls, col.distinct) == ("categorical", 6, 1, 3)
    assert dict(zip(col.top_values, col.top_counts, strict=True)) == {"a": 2, "b": 2, "c": 1}
    ints = profile_table(pa.table({"k": pa.array([1, 2, 2]).dictionary_encode()})).column("k")
    assert ints.top_values == ("2", "1") and ints.top_counts == (2, 1)


def test_streamed_distinct_counts(tmp_path: pathlib.Path, small_batches: None) -> None:
    """Exact below the cap; near-unique columns estimated from per-batch counts above it."""
    rng = np.random.default_rng(4)
    n = 120_000
    table = pa.table(
        {"unique": rng.permutation(n).astype(np.float64), "few": rng.integers(0, 7, n)}
    )
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    prof = profile_table(path)
    assert prof.column("few").distinct == 7
    assert prof.column("unique").distinct == n
