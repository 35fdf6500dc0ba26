"""Seeded data for the segment tests: a region/plan table whose regions differ, and a model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REGIONS = ("north", "south", "east", "west")


def region_frame(
    n: int, seed: int, *, shift: dict[str, float] | None = None, n_regions: int = 4
) -> pd.DataFrame:
    """x1 depends on the region (north is +1 sd), x2 and plan do not; ``shift`` moves x2 by
    that many standard deviations in the named regions. ``n_regions`` > 4: regions r04, r05…
    with equal shares."""
    rng = np.random.default_rng(seed)
    names = list(REGIONS) + [f"r{k:02d}" for k in range(4, n_regions)]
    p = np.asarray([0.1, 0.4, 0.3, 0.2]) if n_regions == 4 else np.full(n_regions, 1 / n_regions)
    region = rng.choice(np.asarray(names[:n_regions], dtype=object), n, p=p)
    x1 = rng.normal(0.0, 1.0, n) + (region == "north") * 1.0
    x2 = rng.normal(5.0, 2.0, n)
    for name, sd in (shift or {}).items():
        x2 = np.where(region == name, x2 + 2.0 * sd, x2)
    plan = rng.choice(np.asarray(["basic", "gold"], dtype=object), n, p=[0.7, 0.3])
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "plan": pd.Series(plan, dtype="str"),
            "region": pd.Series(region, dtype="str"),
        }
    )


def labels(frame: pd.DataFrame, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    logit = 1.5 * frame["x1"] + 0.6 * (frame["x2"] - 5.0)
    return pd.Series((rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(np.int64))


def register_model(home: Path, reference: pd.DataFrame, *, seed: int = 7) -> Any:
    """A logistic regression on x1, x2 (region and plan are not inputs), registered as ``m``
    with its training data (which has the region and plan columns) and its accuracy."""
    from sklearn.linear_model import LogisticRegression

    import modelbook

    y = labels(reference, seed)
    model = LogisticRegression().fit(reference[["x1", "x2"]], y)
    accuracy = float((model.predict(reference[["x1", "x2"]]) == y).mean())
    modelbook.register(
        model,
        name="m",
        data=reference,
        target=y.rename("y"),
        metrics={"accuracy": accuracy},
        registry=home,
    )
    return model


def groups(report: Any, key: str) -> dict[str, dict[str, Any]]:
    """The groups of one slice of a report, by value."""
    for column in report.segments["columns"]:
        if column["key"] == key:
            return {g["value"]: g for g in column["groups"]}
    raise KeyError(key)


def column(report: Any, key: str) -> dict[str, Any]:
    return next(c for c in report.segments["columns"] if c["key"] == key)
