"""Champion and challenger: ``monitor(..., challenger=)`` on breast_cancer, against direct
numpy/scipy computations, the stored runs, bad input, late labels, the magic and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from scipy.stats import binomtest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LinearRegression, LogisticRegression

import modelbook
from modelbook.errors import ConfigError, DataError, MonitorError
from modelbook.monitoring.challenger import (
    ChallengerComparison,
    compare,
    mcnemar,
    update_comparison,
)
from modelbook.registry import Registry

WEAK = ["mean smoothness"]  # one weak feature: ~0.6 accuracy


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x = x.iloc[:, :10]  # the "mean" features: quick to fit, still a strong model
    return x.iloc[:300], y.iloc[:300], x.iloc[300:].reset_index(drop=True), y.iloc[300:]


@pytest.fixture
def models(registry: Path, cancer: Any) -> dict[str, Any]:
    """churn@1 strong (production), churn@2 weak (candidate), churn@3 strong, another C."""
    tr, ytr, _, _ = cancer
    strong = LogisticRegression(max_iter=5000).fit(tr, ytr)
    weak = LogisticRegression(max_iter=5000).fit(tr[WEAK], ytr)
    close = LogisticRegression(max_iter=5000, C=0.5).fit(tr, ytr)
    modelbook.register(strong, name="churn", data=tr, target=ytr, alias="production")
    modelbook.register(weak, name="churn", data=tr[WEAK], target=ytr, alias="candidate")
    modelbook.register(close, name="churn", data=tr, target=ytr)
    return {"strong": strong, "weak": weak, "close": close}


def _rows(registry: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(registry / "registry.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_statistics_equal_a_direct_computation(registry: Path, models: Any, cancer: Any) -> None:
    _, _, te, yte = cancer
    result = modelbook.monitor(
        "churn@production", data=te, target=yte.to_numpy(), challenger="churn@3"
    )
    assert isinstance(result, ChallengerComparison)
    c = result.comparison
    a, b = models["strong"], models["close"]
    pa, pb = a.predict(te), b.predict(te)
    sa, sb = a.predict_proba(te)[:, 1], b.predict_proba(te)[:, 1]
    assert c.disagreement == pytest.approx(np.mean(pa != pb), abs=1e-12)
    assert c.mean_abs_delta == pytest.approx(np.mean(np.abs(sa - sb)), rel=1e-9)
    assert c.share_delta_above == pytest.approx(np.mean(np.abs(sa - sb) > 0.1), abs=1e-12)
    y = yte.to_numpy()
    b_, c_ = int(np.sum((pa == y) & (pb != y))), int(np.sum((pa != y) & (pb == y)))
    assert (c.mcnemar["b"], c.mcnemar["c"]) == (b_, c_)
    assert c.mcnemar["p_value"] == pytest.approx(binomtest(b_, b_ + c_, 0.5).pvalue, rel=1e-12)
    accuracy = {q["metric"]: q for q in c.quality}["accuracy"]
    assert accuracy["champion"] == pytest.approx(np.mean(pa == y))
    assert accuracy["challenger"] == pytest.approx(np.mean(pb == y))
    assert accuracy["n"] == c.n_labelled == len(y)
    # Both distributions on the same 20 bins over [0, 1], every row counted once.
    d = c.distribution
    assert d["kind"] == "histogram" and len(d["edges"]) == 21
    assert list(d["champion"]) == np.histogram(sa, np.linspace(0, 1, 21))[0].tolist()
    assert sum(d["challenger"]) == len(te)
    assert {"latency_ms_p50", "rows_per_second"} <= set(c.latency["challenger"])
    assert c.verdict == "inconclusive" and f"n = {len(y):,} labelled" in c.reason


def test_verdicts_better_worse_inconclusive(registry: Path, models: Any, cancer: Any) -> None:
    _, _, te, yte = cancer
    y = yte.to_numpy()
    worse = modelbook.monitor("churn@production", data=te, target=y, challenger="churn@candidate")
    assert worse.verdict == "worse", worse.comparison.reason
    assert worse.comparison.mcnemar["p_value"] < 0.05
    better = modelbook.monitor("churn@candidate", data=te, target=y, challenger="churn@1")
    assert better.verdict == "better", better.comparison.reason
    unlabelled = modelbook.monitor("churn@production", data=te, challenger="churn@candidate")
    assert unlabelled.verdict == "inconclusive" and unlabelled.comparison.n_labelled == 0
    assert "no labelled rows" in unlabelled.comparison.reason
    # Few labels: a large difference is not yet significant.
    few = np.where(np.arange(len(y)) < 6, y.astype(float), np.nan)
    small = modelbook.monitor("churn@production", data=te, target=few, challenger="churn@candidate")
    assert small.verdict == "inconclusive" and small.comparison.n_labelled == 6
    assert "n = 6 labelled" in small.comparison.reason


def test_mcnemar_is_scipys_binomtest_on_discordant_pairs() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random(500) < 0.2, rng.random(500) < 0.3
    found = mcnemar(a, b)
    n_b, n_c = int(np.sum(~a & b)), int(np.sum(a & ~b))
    assert (found["b"], found["c"]) == (n_b, n_c)
    assert found["p_value"] == binomtest(n_b, n_b + n_c, 0.5).pvalue
    assert mcnemar(a, a)["p_value"] == 1.0  # no discordant pair: nothing to test


def test_regression_uses_the_value_and_a_sign_test() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=400)
    a, b = y + rng.normal(0, 0.1, 400), y + rng.normal(0, 0.5, 400)
    c = compare(
        champion="m@1", challenger="m@2", task="regression", labels_a=a, labels_b=b,
        scores_a=None, scores_b=None, y_true=y,
    )  # fmt: skip
    assert c.disagreement is None
    assert c.mean_abs_delta == pytest.approx(np.mean(np.abs(a - b)))
    closer_a = int(np.sum(np.abs(a - y) < np.abs(b - y)))
    assert c.mcnemar is not None and c.mcnemar["b"] == closer_a
    assert c.verdict == "worse"


def test_two_linked_runs_and_a_comparison_are_stored(
    registry: Path, models: Any, cancer: Any
) -> None:
    _, _, te, yte = cancer
    result = modelbook.monitor(
        "churn@production", data=te, target=yte.to_numpy(), challenger="churn@candidate"
    )
    assert result.batch_id is not None
    runs = _rows(registry, "SELECT id, role, batch_id, target_version FROM monitor_runs")
    assert sorted((r[1], r[2], r[3]) for r in runs) == [
        ("challenger", result.batch_id, 2),
        ("champion", result.batch_id, 1),
    ]
    (row,) = _rows(
        registry, "SELECT champion_run, challenger_run, verdict, comparison FROM comparisons"
    )
    assert row[:3] == (result.champion.run_id, result.challenger.run_id, "worse")
    assert json.loads(row[3])["n_labelled"] == len(te)
    # Each run is a whole monitor run of its version (history shows it).
    assert result.challenger.target == "churn@2" and result.challenger.metrics["accuracy"] < 0.8


def test_store_none_writes_nothing(registry: Path, models: Any, cancer: Any) -> None:
    _, _, te, _ = cancer
    result = modelbook.monitor("churn@1", data=te, challenger="churn@3", store="none")
    assert result.batch_id is None and result.champion.run_id is None
    assert _rows(registry, "SELECT count(*) FROM monitor_runs") == [(0,)]


def test_kind_mismatch_is_one_line_and_writes_nothing(
    registry: Path, models: Any, cancer: Any
) -> None:
    tr, ytr, te, _ = cancer
    modelbook.register(LinearRegression().fit(tr, ytr), name="churn", data=tr, target=ytr)
    three = np.where(tr["mean radius"] > 17, 2, ytr)
    modelbook.register(
        LogisticRegression(max_iter=50_000).fit(tr / tr.std(), three), name="churn", data=tr
    )
    before = _rows(registry, "SELECT count(*) FROM monitor_runs")
    objects = sorted(p.name for p in (registry / "objects").rglob("*") if p.is_file())
    with pytest.raises(DataError) as regressor:
        modelbook.monitor("churn@1", data=te, challenger="churn@4")
    assert str(regressor.value) == (
        "challenger churn@4 is a regressor and champion churn@1 is a classifier: compare "
        "versions of the same kind."
    )
    with pytest.raises(DataError, match=r"^challenger churn@5 predicts classes \[0, 1, 2\]"):
        modelbook.monitor("churn@1", data=te, challenger="churn@5", id=None)
    assert _rows(registry, "SELECT count(*) FROM monitor_runs") == before
    assert _rows(registry, "SELECT count(*) FROM comparisons") == [(0,)]
    after = sorted(p.name for p in (registry / "objects").rglob("*") if p.is_file())
    assert [o for o in after if o not in objects and not o.startswith(".")] == []


@pytest.mark.parametrize(
    ("challenger", "message"),
    [
        ("churn@1", "challenger 'churn@1' is churn@1, the champion itself: name another version"),
        ("churn-training@1", "challenger 'churn-training@1' is dataset churn-training@1: name a"),
    ],
)
def test_bad_challengers(
    registry: Path, models: Any, cancer: Any, challenger: str, message: str
) -> None:
    _, _, te, _ = cancer
    with pytest.raises(ConfigError) as found:
        modelbook.monitor("churn@production", data=te, challenger=challenger)
    assert str(found.value).startswith(message) and "\n" not in str(found.value)
    assert _rows(registry, "SELECT count(*) FROM monitor_runs") == [(0,)]
    with pytest.raises(ConfigError, match="does not combine with chunk="):
        modelbook.monitor("churn@1", data=te, challenger="churn@3", chunk=100)
    with pytest.raises(ConfigError, match="does not combine with scores=/predicted="):
        modelbook.monitor("churn@1", data=te.assign(p=0.5), challenger="churn@3", scores="p")


def _send_labels(reg: Registry, model: str, ids: Any, labels: Any, tmp: Path, when: int) -> None:
    """A stored label set as the feedback contract writes it (Parquet id, label)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from modelbook.registry.store import now

    path = tmp / f"labels-{when}.parquet"
    pq.write_table(pa.table({"id": pa.array(ids), "label": pa.array(labels)}), path)
    with reg._staged(blob := reg.objects.put_file(path)), reg.write() as con:
        reg.objects.install(blob)
        con.execute(
            "INSERT INTO label_sets VALUES (?, ?, ?, ?, ?, ?)",
            [model, f"fp{when}", blob, len(ids), "target", now()],
        )


def test_update_comparison_after_late_labels(
    registry: Path, models: Any, cancer: Any, tmp_path: Path
) -> None:
    _, _, te, yte = cancer
    batch = te.assign(customer=np.arange(1000, 1000 + len(te)))
    first = modelbook.monitor(
        "churn@production", data=batch, id="customer", challenger="churn@candidate"
    )
    assert first.verdict == "inconclusive" and first.comparison.n_labelled == 0
    assert first.batch_id is not None
    reg = Registry(registry)
    y = yte.to_numpy()
    half = len(y) // 2
    ids = batch["customer"].to_numpy()
    # First a wrong label for every row, then the true labels for half of them: the later wins.
    _send_labels(reg, "churn", ids[:half], 1 - y[:half], tmp_path, 1)
    _send_labels(reg, "churn", ids[:half], y[:half], tmp_path, 2)
    updated = update_comparison(reg, first.batch_id)
    c = updated.comparison
    assert c.n_labelled == half and c.source == "feedback"
    pa, pb = models["strong"].predict(te)[:half], models["weak"].predict(te[WEAK])[:half]
    n_b = int(np.sum((pa == y[:half]) & (pb != y[:half])))
    n_c = int(np.sum((pa != y[:half]) & (pb == y[:half])))
    assert (c.mcnemar["b"], c.mcnemar["c"]) == (n_b, n_c)
    assert c.mcnemar["p_value"] == pytest.approx(binomtest(n_b, n_b + n_c, 0.5).pvalue)
    assert c.verdict == "worse"
    assert c.disagreement == pytest.approx(first.comparison.disagreement)
    (row,) = _rows(registry, "SELECT verdict FROM comparisons")
    assert row == ("worse",)
    # Without id= there is no log: nothing to update, and it says so.
    plain = modelbook.monitor("churn@production", data=te, challenger="churn@candidate")
    assert plain.batch_id is not None
    with pytest.raises(MonitorError, match=r"monitored without id=.*nothing to update"):
        update_comparison(reg, plain.batch_id)


def test_magic_flag(ip: Any, models: Any, cancer: Any) -> None:
    _, _, te, yte = cancer
    ip.user_ns["batch"] = te
    ip.user_ns["y"] = yte.to_numpy()
    result = ip.run_line_magic(
        "monitor", "churn@production --data batch --target y --challenger churn@candidate"
    )
    assert isinstance(result, ChallengerComparison) and result.verdict == "worse"
    with pytest.raises(UsageError, match="the champion itself"):
        ip.run_line_magic("monitor", "churn@1 --data batch --challenger churn@1")


def test_cli_flag(registry: Path, models: Any, cancer: Any, tmp_path: Path) -> None:
    _, _, te, yte = cancer
    path = tmp_path / "batch.parquet"
    te.assign(target=yte.to_numpy()).to_parquet(path)
    env = {**os.environ, "MODELBOOK_HOME": str(registry)}
    out = subprocess.run(
        [sys.executable, "-m", "modelbook", "monitor", "churn@production", "--data", str(path),
         "--target", "target", "--challenger", "churn@candidate", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode in (0, 1), out.stderr
    data = json.loads(out.stdout)
    assert data["verdict"] == "worse" and data["comparison"]["challenger"] == "churn@2"
    assert data["champion"]["target"] == "churn@1"


def test_feedback_updates_the_comparison(registry: Path, models: Any, cancer: Any) -> None:
    """The whole loop: a challenger run with id=, then mb.feedback with the labels."""
    _, _, te, yte = cancer
    batch = te.assign(customer=np.arange(len(te)))
    first = modelbook.monitor(
        "churn@production", data=batch, id="customer", challenger="churn@candidate"
    )
    assert first.verdict == "inconclusive"
    labels = pd.DataFrame({"customer": batch["customer"], "churned": yte.to_numpy()})
    modelbook.feedback("churn", labels=labels, id="customer", target="churned")
    (row,) = _rows(registry, "SELECT verdict, comparison FROM comparisons")
    assert row[0] == "worse"
    stored = json.loads(row[1])
    assert stored["n_labelled"] == len(te) and stored["source"] == "feedback"


def test_update_comparison_multiclass_string_classes(registry: Path, tmp_path: Path) -> None:
    """Iris with string classes: max-probability scores, class counts, labels by id later."""
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True, as_frame=True)
    names = np.asarray(["setosa", "versicolor", "virginica"])[y.to_numpy()]
    a = LogisticRegression(max_iter=2000).fit(x, names)
    b = LogisticRegression(max_iter=2000, C=0.01).fit(x, names)
    modelbook.register(a, name="iris", data=x, target=pd.Series(names, name="species"))
    modelbook.register(b, name="iris", data=x, target=pd.Series(names, name="species"))
    batch = x.assign(key=[f"k{i}" for i in range(len(x))])
    first = modelbook.monitor("iris@1", data=batch, id="key", challenger="iris@2")
    c = first.comparison
    assert c.distribution["kind"] == "classes"
    assert c.distribution["labels"] == ["setosa", "versicolor", "virginica"]
    pa_, pb_ = a.predict(x), b.predict(x)
    assert c.distribution["champion"] == [int(np.sum(pa_ == k)) for k in c.distribution["labels"]]
    top = np.abs(a.predict_proba(x).max(axis=1) - b.predict_proba(x).max(axis=1))
    assert c.mean_abs_delta == pytest.approx(top.mean())
    assert first.batch_id is not None
    reg = Registry(registry)
    keep = np.arange(0, len(x), 2)  # every other row gets its label
    _send_labels(reg, "iris", batch["key"].to_numpy()[keep], names[keep], tmp_path, 1)
    updated = update_comparison(reg, first.batch_id).comparison
    assert updated.n_labelled == len(keep)
    accuracy = {q["metric"]: q for q in updated.quality}["accuracy"]
    assert accuracy["champion"] == pytest.approx(np.mean(pa_[keep] == names[keep]))
    assert accuracy["challenger"] == pytest.approx(np.mean(pb_[keep] == names[keep]))
    n_b = int(np.sum((pa_[keep] == names[keep]) & (pb_[keep] != names[keep])))
    n_c = int(np.sum((pa_[keep] != names[keep]) & (pb_[keep] == names[keep])))
    assert (updated.mcnemar["b"], updated.mcnemar["c"]) == (n_b, n_c)
