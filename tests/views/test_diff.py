"""Diffs of stored versions: row changes match a pandas merge; models, errors, the magic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelbook
from modelbook.errors import DataError
from modelbook.version_diff import DatasetDiff, ModelDiff, row_changes


def _pandas_changes(a: pd.DataFrame, b: pd.DataFrame, key: str) -> dict[str, Any]:
    merged = a.merge(b, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    common = [c for c in a.columns if c in b.columns and c != key]
    per_column = {}
    any_changed = np.zeros(len(both), dtype=bool)
    for c in common:
        x, y = both[f"{c}_a"].astype(object), both[f"{c}_b"].astype(object)
        same = [
            (pd.isna(u) and pd.isna(v)) or (not pd.isna(u) and not pd.isna(v) and u == v)
            for u, v in zip(x, y, strict=True)
        ]
        differ = ~np.asarray(same, dtype=bool)
        if differ.any():
            per_column[c] = int(differ.sum())
        any_changed |= differ
    return {
        "added": int((merged["_merge"] == "right_only").sum()),
        "removed": int((merged["_merge"] == "left_only").sum()),
        "changed": int(any_changed.sum()),
        "unchanged": int((~any_changed).sum()),
        "per_column": per_column,
        "added_keys": sorted(merged.loc[merged["_merge"] == "right_only", key].tolist()),
        "removed_keys": sorted(merged.loc[merged["_merge"] == "left_only", key].tolist()),
    }


@pytest.fixture
def two_versions(registry: Path, customers: tuple[pd.DataFrame, pd.DataFrame]) -> DatasetDiff:
    a, b = customers
    modelbook.register(a, name="customers")
    modelbook.register(b, name="customers")
    result = modelbook.diff("customers@1", "customers@2", key="id")
    assert isinstance(result, DatasetDiff)
    return result


def test_row_changes_match_a_pandas_merge(
    two_versions: DatasetDiff, customers: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    expected = _pandas_changes(*customers, "id")
    rows = two_versions.rows
    assert rows is not None
    assert (rows.added, rows.removed, rows.changed, rows.unchanged) == (
        expected["added"],
        expected["removed"],
        expected["changed"],
        expected["unchanged"],
    )
    assert dict(rows.changed_columns) == expected["per_column"]
    assert [r["id"] for r in rows.added_sample] == expected["added_keys"]
    assert [r["id"] for r in rows.removed_sample] == expected["removed_keys"]
    assert rows.compared_columns == ("age", "income", "plan")


def test_changed_sample_names_the_changed_values(
    two_versions: DatasetDiff, customers: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    a, _ = customers
    rows = two_versions.rows
    assert rows is not None
    by_key = {s["key"]["id"]: s["changes"] for s in rows.changed_sample}
    assert min(by_key) == 20  # ordered by key
    assert by_key[25]["plan"] == [a.loc[a.id == 25, "plan"].item(), "enterprise"]
    old_income = a.loc[a.id == 25, "income"].item()
    assert by_key[25]["income"] == [pytest.approx(old_income), pytest.approx(old_income + 1000)]


def test_schema_rows_and_statistics(
    two_versions: DatasetDiff, customers: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    a, b = customers
    d = two_versions
    assert (d.a, d.b) == ("customers@1", "customers@2")
    assert (d.rows_a, d.rows_b) == (len(a), len(b))
    assert d.columns_added == (("score", "double"),)
    assert d.columns_removed == ()
    income = next(s for s in d.column_stats if s.column == "income")
    assert income.delta("mean") == pytest.approx(b["income"].mean() - a["income"].mean())
    age = next(s for s in d.column_stats if s.column == "age")
    assert age.b["nulls"] == 1 and age.a["nulls"] == 0 and "nulls" in age.changed
    assert d.drift is not None
    assert {c.column for c in d.drift.columns} == {"id", "age", "income", "plan"}
    assert not d.drift.drifted


def test_retyped_column_and_drifted_column(registry: Path) -> None:
    rng = np.random.default_rng(3)
    a = pd.DataFrame({"x": rng.normal(size=2000), "code": rng.integers(0, 9, 2000)})
    b = pd.DataFrame({"x": rng.normal(1.0, 1.0, size=2000), "code": a["code"].astype(str)})
    modelbook.register(a, name="t")
    modelbook.register(b, name="t")
    d = modelbook.diff("t@1", "t@2")
    assert isinstance(d, DatasetDiff)
    # (Which Arrow string type pandas text becomes is the capture's business, not the diff's.)
    ((column, type_a, type_b),) = d.columns_retyped
    assert (column, type_a) == ("code", "int64") and type_b in ("string", "large_string")
    assert d.drift is not None and d.drift.column("x").drifted
    assert d.notes == ("drift not computed for columns whose kind changed: code",)
    assert d.rows is None


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("nope", "key column 'nope' is not in customers@1; its columns: id, age, income, plan."),
        ("plan", "key plan is not unique in customers@1: 3 values occur more than once; pass "
                 "columns that identify one row."),
    ],
)  # fmt: skip
def test_key_errors(
    registry: Path, customers: tuple[pd.DataFrame, pd.DataFrame], key: str, message: str
) -> None:
    a, b = customers
    modelbook.register(a, name="customers")
    modelbook.register(b, name="customers")
    with pytest.raises(DataError) as info:
        modelbook.diff("customers@1", "customers@2", key=key)
    assert str(info.value) == message


def test_row_changes_with_a_composite_key(tmp_path: Path) -> None:
    a = pd.DataFrame({"k1": [1, 1, 2], "k2": ["a", "b", "a"], "v": [1.0, 2.0, 3.0]})
    b = pd.DataFrame({"k1": [1, 2, 3], "k2": ["a", "a", "a"], "v": [1.0, 3.5, 0.0]})
    a.to_parquet(tmp_path / "a.parquet")
    b.to_parquet(tmp_path / "b.parquet")
    r = row_changes(tmp_path / "a.parquet", tmp_path / "b.parquet", ["k1", "k2"])
    assert (r.added, r.removed, r.changed, r.unchanged) == (1, 1, 1, 1)
    assert r.changed_sample == ({"key": {"k1": 2, "k2": "a"}, "changes": {"v": [3.0, 3.5]}},)


def test_kind_mismatch_and_misplaced_options(registry: Path) -> None:
    from sklearn.linear_model import LinearRegression

    x = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    modelbook.register(x, name="data")
    modelbook.register(LinearRegression().fit(x, [1.0, 2.0, 3.0]), name="lin")
    with pytest.raises(DataError) as info:
        modelbook.diff("data@1", "lin@1")
    assert str(info.value) == (
        "data@1 is a dataset but lin@1 is a model: compare two models or two datasets."
    )
    with pytest.raises(DataError) as info:
        modelbook.diff("lin@1", "lin@1", key="a")
    assert str(info.value) == (
        "key= compares dataset rows; for models pass on= an evaluation table."
    )
    with pytest.raises(DataError) as info:
        modelbook.diff("data@1", "data@1", on=x)
    assert str(info.value) == "on= compares model predictions; for datasets pass key= a column."


# --------------------------------------------------------------------------- models


TRAIN = """
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
y = (X.a + 0.5 * X.b + rng.normal(scale=0.5, size=500) > 0).astype(int).rename("churned")
"""


def test_model_diff_in_a_real_shell(ip: Any) -> None:
    ip.run_cell(TRAIN, store_history=True)
    ip.run_cell(
        "m1 = LogisticRegression(C=1.0).fit(X, y)\n%register m1 --name churn --data X --target y "
        "--metrics \"{'auc': 0.81}\"",
        store_history=True,
    )
    ip.run_cell(
        "X2 = X.assign(a=X.a + 1.5)\nm2 = LogisticRegression(C=0.001).fit(X2, y)\n"
        "%register m2 --name churn --data X2 --target y --metrics \"{'auc': 0.84, 'f1': 0.7}\"",
        store_history=True,
    )
    ip.run_cell("d = %modelbook diff churn@1 churn@2 --on X", store_history=True)
    d = ip.user_ns["d"]
    assert isinstance(d, ModelDiff)
    assert d.params_changed == (("C", 1.0, 0.001),)
    assert [(m.name, m.a, m.b) for m in d.metrics] == [("auc", 0.81, 0.84), ("f1", None, 0.7)]
    assert d.metrics[0].delta == pytest.approx(0.03)
    assert d.packages == ()
    assert d.code_diff is not None
    assert "-m1 = LogisticRegression(C=1.0).fit(X, y)\n" in d.code_diff
    assert "+m2 = LogisticRegression(C=0.001).fit(X2, y)\n" in d.code_diff
    assert (d.train_a, d.train_b) == ("churn-training@1", "churn-training@2")
    assert d.drift is not None and d.drift.column("a").drifted
    assert not d.drift.column("b").drifted

    m1, m2, X = ip.user_ns["m1"], ip.user_ns["m2"], ip.user_ns["X"]
    p = d.predictions
    assert p is not None and p.task == "classification" and p.rows == len(X)
    assert p.differing == int((m1.predict(X) != m2.predict(X)).sum())
    gap = np.abs(m1.predict_proba(X) - m2.predict_proba(X)).max(axis=1)
    assert p.mean_abs_difference == pytest.approx(gap.mean())
    assert [r["row"] for r in p.largest] == list(np.argsort(-gap, kind="stable")[:10])
    assert p.largest[0]["difference"] == pytest.approx(gap.max())


def test_regression_disagreement_uses_a_tolerance() -> None:
    from sklearn.linear_model import LinearRegression

    from modelbook.version_diff import prediction_diff

    x = pd.DataFrame({"a": np.arange(10.0)})
    m1 = LinearRegression().fit(x, np.arange(10.0))
    m2 = LinearRegression().fit(x, np.arange(10.0) + np.r_[np.zeros(9), 5.0])
    p = prediction_diff(m1, m1, x)
    assert (p.differing, p.task, p.largest) == (0, "regression", ())
    p = prediction_diff(m1, m2, x)
    diff = np.abs(m1.predict(x) - m2.predict(x))
    assert p.differing == int((diff > 1e-6 * np.abs(m2.predict(x)) + 1e-9).sum())
    assert p.largest[0]["row"] == int(np.argmax(diff))


def test_magic_errors_are_usage_errors(ip: Any) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as info:
        ip.run_line_magic("modelbook", "diff a@1 b@1 --on nowhere")
    assert str(info.value) == (
        "--on variable 'nowhere' is not defined in the notebook: run the cell that creates it "
        "first."
    )
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("modelbook", "diff missing@1 missing@2")
    assert "missing" in str(info.value)


def test_magic_dataset_diff_with_key(ip: Any, customers: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    a, b = customers
    modelbook.register(a, name="customers")
    modelbook.register(b, name="customers")
    d = ip.run_line_magic("modelbook", "diff customers@1 customers@2 --key id")
    assert isinstance(d, DatasetDiff) and d.rows is not None and d.rows.key == ("id",)
    assert d.rows.removed == 3


def test_every_diff_flag_is_an_api_keyword() -> None:
    import inspect

    from modelbook import magics

    diff_parser = next(
        p
        for action in magics.MODELBOOK._actions
        if action.dest == "command"
        for name, p in action.choices.items()
        if name == "diff"
    )
    keywords = set(inspect.signature(modelbook.diff).parameters)
    flags = {a.dest for a in diff_parser._actions if a.option_strings and a.dest != "help"}
    assert flags == {"key", "on", "trust"} and flags <= keywords
