"""Helpers for the views tests: fixed drift results (no randomness), tables, Chromium."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelbook.stats.drift import ColumnDrift, DatasetDrift

GOLDEN = Path(__file__).parent / "golden"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def numeric_column(name: str = "age", *, drifted: bool = True) -> ColumnDrift:
    edges = tuple(float(e) for e in range(20, 70, 5))  # 10 edges → 11 bins
    ref = (0, 5, 9, 12, 14, 15, 14, 12, 9, 6, 4)
    cur = (2, 2, 4, 6, 9, 12, 15, 16, 15, 12, 7)
    return ColumnDrift(
        column=name,
        kind="numeric",
        test="wasserstein",
        statistic=0.31 if drifted else 0.01,
        threshold=0.05,
        p_value=1e-9 if drifted else 0.6,
        drifted=drifted,
        reason="Wasserstein distance in reference standard deviations (default for numeric).",
        stats={"wasserstein": 0.31, "ks": 0.2},
        reference_counts=ref,
        current_counts=cur,
        bin_edges=edges,
    )


def categorical_column(name: str = "plan") -> ColumnDrift:
    return ColumnDrift(
        column=name,
        kind="categorical",
        test="jensenshannon",
        statistic=0.12,
        threshold=0.035,
        p_value=1e-6,
        drifted=True,
        reason="Jensen–Shannon distance of category frequencies (default for categorical).",
        stats={"jensenshannon": 0.12},
        reference_counts=(50, 30, 20, 0),
        current_counts=(30, 30, 25, 15),
        bin_labels=("basic", "pro", "team", "enterprise"),
    )


def untested_column(name: str = "notes") -> ColumnDrift:
    return ColumnDrift(
        column=name,
        kind="numeric",
        test="none",
        statistic=math.nan,
        threshold=math.nan,
        p_value=None,
        drifted=False,
        reason="Not tested: the current data has no finite values.",
        stats={},
        reference_counts=(),
        current_counts=(),
        tested=False,
    )


def fixed_drift() -> DatasetDrift:
    cols = (numeric_column(), categorical_column(), numeric_column("income", drifted=False))
    cols = (*cols, untested_column())
    return DatasetDrift(columns=cols, drifted_share=2 / 3, share_threshold=0.5, drifted=True)


def wide_drift(n_columns: int, *, seed: int = 0) -> DatasetDrift:
    """A drift result over n numeric/categorical columns, a third of them drifted."""
    rng = np.random.default_rng(seed)
    edges = tuple(float(e) for e in np.quantile(rng.normal(size=5000), np.linspace(0, 1, 101)))
    cols = []
    for i in range(n_columns):
        drifted = i % 3 == 0
        if i % 5 == 4:
            labels = tuple(f"v{j}" for j in range(12))
            ref = tuple(int(v) for v in rng.integers(50, 100, 12))
            cur = tuple(int(v) + (40 if drifted and j < 3 else 0) for j, v in enumerate(ref))
            cols.append(
                ColumnDrift(f"cat_{i}", "categorical", "jensenshannon", 0.1 if drifted else 0.01,
                            0.035, 1e-5 if drifted else 0.5, drifted, "default", {},
                            ref, cur, bin_labels=labels)
            )  # fmt: skip
        else:
            ref = tuple(int(v) for v in rng.integers(40, 60, 101))
            shift = 3 if drifted else 0
            cur = tuple(int(v) for v in np.roll(np.asarray(ref), shift))
            cols.append(
                ColumnDrift(f"num_{i}", "numeric", "wasserstein", 0.2 if drifted else 0.01, 0.05,
                            1e-8 if drifted else 0.4, drifted, "default", {}, ref, cur,
                            bin_edges=edges[1:])
            )  # fmt: skip
    share = sum(c.drifted for c in cols) / n_columns
    return DatasetDrift(columns=tuple(cols), drifted_share=share, share_threshold=0.5,
                        drifted=share >= 0.5)  # fmt: skip


def history_runs() -> list[dict[str, Any]]:
    start = datetime(2026, 11, 1, 6, 0, 0)
    return [
        {
            "started_at": start + timedelta(days=i),
            "status": "alert" if i in (3, 5) else "ok",
            "drift_share": [0.0, 0.05, 0.1, 0.6, 0.1, 0.7][i],
            "metrics": {"auc": [0.81, 0.8, 0.8, 0.71, 0.79, 0.69][i]},
        }
        for i in range(6)
    ]


def customer_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two versions of a table with a key: rows added, removed and changed, a column added."""
    rng = np.random.default_rng(7)
    n = 400
    a = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50_000, 12_000, n).round(2),
            "plan": rng.choice(["basic", "pro", "team"], n),
        }
    )
    b = a[~a["id"].isin([3, 10, 11])].copy()  # 3 removed
    b.loc[b["id"].isin(range(20, 30)), "income"] += 1000.0  # 10 changed incomes
    b.loc[b["id"].isin([25, 26, 40]), "plan"] = "enterprise"  # 3 plans (2 overlap)
    b.loc[b["id"] == 41, "age"] = None  # an age becomes null
    extra = pd.DataFrame(
        {"id": [1000, 1001], "age": [30, 40], "income": [1.0, 2.0], "plan": ["pro", "team"]}
    )
    b = pd.concat([b, extra], ignore_index=True)
    b["age"] = b["age"].astype("Int64")
    b["score"] = rng.random(len(b))  # a new column
    return a, b
