"""Drift on real data: scikit-learn's bundled datasets, split cleanly and shifted on purpose.

A clean ``train_test_split`` is the batch a user monitors first; it must raise no alert, on narrow
tables (iris, 4 columns) as on wide ones (digits, 64 columns of discrete, often near-constant
pixels). A copy with a few informative columns shifted by one training standard deviation (or
spread twice as wide) must be flagged on exactly those columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelbook.stats.drift import DriftRules, drift_exact, drift_from_profiles
from modelbook.stats.profile import profile_table

#: Informative columns of each dataset, moved in the "shifted" copies.
MOVED = {
    "iris": ["petal length (cm)"],
    "wine": ["alcohol", "flavanoids", "proline"],
    "breast_cancer": ["mean radius", "worst area", "mean concave points"],
    "diabetes": ["bmi", "s5", "bp"],
    "digits": ["pixel_2_2", "pixel_3_4", "pixel_5_5"],
}
SEEDS = (0, 1, 2)


def _load(name: str) -> tuple[pd.DataFrame, pd.Series]:
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True, as_frame=True)
    return X, y


def _split(name: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    from sklearn.model_selection import train_test_split

    X, y = _load(name)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=seed)
    return X_train, X_test, y_train, y_test


def _moved(train: pd.DataFrame, test: pd.DataFrame, columns: list[str], how: str) -> pd.DataFrame:
    out = test.copy()
    for c in columns:
        mean, sd = train[c].mean(), train[c].std()
        out[c] = out[c] + sd if how == "shift" else mean + (out[c] - mean) * 2.0
    return out


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _profiles_drift(
    train: pd.DataFrame, test: pd.DataFrame, rules: DriftRules | None = None
) -> Any:
    ref = profile_table(_arrow(train))
    cur = profile_table(_arrow(test), reference=ref)
    return drift_from_profiles(ref, cur, rules=rules or DriftRules())


# --------------------------------------------------------------------------- stats level


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(MOVED))
def test_clean_split_raises_no_drift(name: str, seed: int) -> None:
    train, test, _, _ = _split(name, seed)
    for drift in (_profiles_drift(train, test), drift_exact(_arrow(train), _arrow(test))):
        assert drift.drifted_columns == (), [
            (c.column, c.verdict) for c in drift.columns if c.drifted
        ]
        assert not drift.drifted and drift.drifted_share == 0.0
        assert drift.correction_note == f"p-values Holm-corrected over {train.shape[1]} columns"
        for c in drift.columns:
            assert c.verdict.endswith(("no drift", f"not significant at {len(test):,} rows"))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(MOVED))
def test_shifted_columns_drift(name: str, seed: int) -> None:
    train, test, _, _ = _split(name, seed)
    drift = _profiles_drift(train, _moved(train, test, MOVED[name], "shift"))
    assert set(drift.drifted_columns) == set(MOVED[name]), [
        drift.column(c).verdict for c in MOVED[name]
    ]
    for c in MOVED[name]:
        col = drift.column(c)
        assert col.statistic > 0.5  # a 1-sd shift scores about 1 (module doc of stats.drift)
        assert col.verdict.endswith(f"after Holm over {train.shape[1]} columns: drifted")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", ["breast_cancer", "digits"])
def test_spread_columns_drift(name: str, seed: int) -> None:
    train, test, _, _ = _split(name, seed)
    drift = _profiles_drift(train, _moved(train, test, MOVED[name], "scale"))
    assert set(drift.drifted_columns) == set(MOVED[name])


def test_most_columns_shifted_is_dataset_drift() -> None:
    train, test, _, _ = _split("wine", 0)
    drift = _profiles_drift(train, _moved(train, test, list(train.columns), "shift"))
    assert drift.drifted and drift.drifted_share >= 0.5


def test_digits_false_alarm_is_gone() -> None:
    """The reported case: pixel_1_3 at p = 0.0094 < 0.01 alerted on a clean digits split.

    Held to the Holm level of its rank among 64 columns it is not significant; uncorrected it
    still would be (the binned KS now sees each pixel value exactly: p = 0.0085).
    """
    train, test, _, _ = _split("digits", 0)
    col = _profiles_drift(train, test).column("pixel_1_3")
    assert col.p_value is not None and col.p_value < 0.01
    assert col.p_threshold is not None and col.p_threshold < 0.01 / 50
    assert not col.drifted
    assert "after Holm over 64 columns): not significant at 540 rows" in col.verdict
    uncorrected = _profiles_drift(train, test, DriftRules(correction="none"))
    assert uncorrected.drifted_columns == ("pixel_1_3",)


def test_near_constant_pixels_do_not_dominate() -> None:
    """Pixels that are 0 in all but a few rows score like the others on a clean split.

    They were the top of every overview (17.7 for pixel_7_0, 5.3 for pixel_5_0 against ~0.1 for
    the rest); now the worst of them over ten splits stays below the worst of the others.
    """
    X, _ = _load("digits")
    near_constant = [c for c in X.columns if 0 < (X[c] != X[c].mode()[0]).mean() <= 0.02]
    assert len(near_constant) >= 5
    worst: dict[str, float] = {}
    for seed in range(10):
        train, test, _, _ = _split("digits", seed)
        for c in _profiles_drift(train, test).columns:
            worst[c.column] = max(worst.get(c.column, 0.0), c.statistic)
    others = max(v for k, v in worst.items() if k not in near_constant)
    assert max(worst[c] for c in near_constant) < others < 0.25


# --------------------------------------------------------------------------- through the API


def _drift_alerts(report: Any) -> list[tuple[str, str | None]]:
    return [
        (c.check, c.column)
        for c in report.checks
        if c.status == "alert" and c.check.startswith("drift.")
    ]


@pytest.mark.parametrize("name", ["digits", "wine"])
def test_register_and_monitor_sklearn_split(name: str, registry: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier

    import modelbook as mb

    train, test, y_train, _ = _split(name, 0)
    model = RandomForestClassifier(n_estimators=30, random_state=0).fit(train, y_train)
    mb.register(model, name=name, data=train, target=y_train)

    clean = mb.monitor(name, data=test)
    assert _drift_alerts(clean) == []
    assert clean.drift is not None and clean.drift.drifted_columns == ()
    dataset = next(c for c in clean.checks if c.check == "drift.dataset")
    assert f"p-values Holm-corrected over {train.shape[1]} columns" in dataset.message

    shifted = mb.monitor(name, data=_moved(train, test, MOVED[name], "shift"))
    assert shifted.status == "alert"
    assert {col for check, col in _drift_alerts(shifted) if check == "drift.column"} == set(
        MOVED[name]
    )
    assert np.isclose(shifted.drift.drifted_share, len(MOVED[name]) / train.shape[1])
