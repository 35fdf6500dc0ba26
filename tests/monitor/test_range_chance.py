"""The range invariant does not fire on what chance alone puts outside a small training range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import modelbook as mb
from modelbook.monitoring.schema import _beyond_chance


def test_binomial_guard_matches_the_exchangeable_expectation() -> None:
    # 2 of 171 outside the range of 399 values: about 0.86 expected by chance.
    assert not _beyond_chance(2, 171, 399)
    assert _beyond_chance(14, 171, 399)
    assert not _beyond_chance(0, 171, 399)


def test_small_iid_batch_has_no_range_alert_but_a_shift_does(registry: Path) -> None:
    rng = np.random.default_rng(7)
    train = pd.DataFrame({"x": rng.normal(size=399)})
    mb.register(train, name="train")
    batch = pd.DataFrame({"x": rng.uniform(train.x.min(), train.x.max(), 171)})
    batch.loc[:1, "x"] = train.x.max() + 0.1  # 2 values (1.2 %) just above the training max
    report = mb.monitor("train", data=batch, store="none")
    assert not [c for c in report.alerts if c.check == "invariants.range"]
    batch.loc[:19, "x"] = train.x.max() + 0.1  # 20 values (11.7 %)
    report = mb.monitor("train", data=batch, store="none")
    assert [c.column for c in report.alerts if c.check == "invariants.range"] == ["x"]
