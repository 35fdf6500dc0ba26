"""Toy churn data shared by the monitor tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

N = 4_000


def make_frame(n: int, seed: int, *, shift: float = 0.0, scale: float = 1.0) -> pd.DataFrame:
    """Features of the churn toy problem; ``shift``/``scale`` move the ``tenure`` column only."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure": rng.normal(24.0, 6.0, n) * scale + shift * 6.0,
            "charges": rng.normal(70.0, 15.0, n),
            "calls": rng.poisson(3.0, n).astype(np.int64),
            "plan": pd.Series(
                rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2]), dtype="str"
            ),
        }
    )


def labels_for(frame: pd.DataFrame, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    logit = (
        -0.12 * (frame["tenure"] - 24) + 0.05 * (frame["charges"] - 70) + 0.3 * (frame["calls"] - 3)
    )
    return pd.Series(
        (rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(np.int64), name="churned"
    )
