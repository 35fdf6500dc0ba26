"""drift.multivariate and drift.domain_classifier in real monitor runs (real registry files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import modelbook
from modelbook.errors import ConfigError
from modelbook.render import mimebundle
from modelbook.stats.multivariate import MEASURE_ROWS


def make_frame(n: int, seed: int, *, flip: bool = False) -> pd.DataFrame:
    """8 float columns (s1, s2 a correlated sensor pair), 2 int, 2 categorical."""
    rng = np.random.default_rng(seed)
    s1 = rng.normal(20.0, 2.0, n)
    noise = rng.normal(0.0, 1.2, n)
    s2 = 50.0 + (-1.0 if flip else 1.0) * 1.6 * (s1 - 20.0) + noise
    data: dict[str, Any] = {"s1": s1, "s2": s2}
    for i in range(6):
        data[f"f{i}"] = rng.normal(i, 1 + i / 5, n)
    data["k0"] = rng.poisson(5, n).astype(np.int64)
    data["k1"] = rng.integers(0, 30, n)
    data["plan"] = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    data["region"] = rng.choice(list("nesw"), n)
    return pd.DataFrame(data)


def _check(report: Any, name: str) -> Any:
    found = [c for c in report.checks if c.check == name]
    assert len(found) == 1, [str(c) for c in report.checks]
    return found[0]


def test_flipped_correlation_is_found_by_both_methods(registry: Path) -> None:
    """Each marginal is unchanged (no column drifts); the relation of s1 and s2 flips."""
    modelbook.register(make_frame(60_000, 1), name="sensors")
    report = modelbook.monitor(
        "sensors", data=make_frame(20_000, 2, flip=True), multivariate="both", store="none"
    )
    assert not [c for c in report.checks if c.check == "drift.column" and c.status == "alert"]
    pca, classifier = (
        _check(report, "drift.multivariate"),
        _check(report, "drift.domain_classifier"),
    )
    assert pca.status == "alert" and classifier.status == "alert"
    found = report.multivariate
    assert found is not None and found.pca is not None and found.classifier is not None
    assert {c[0] for c in found.pca.contributions[:2]} == {"s1", "s2"}
    assert sum(c[1] for c in found.pca.contributions[:2]) > 0.8
    assert {c for c, _ in found.classifier.importances[:2]} == {"s1", "s2"}
    assert "extra error from s" in pca.message and "top columns: s" in classifier.message
    assert found.pca.fitted == "registration"
    text = mimebundle(report, live=False)["text/plain"]
    assert "multivariate: reconstruction error" in text and "domain classifier: AUC" in text


def test_unchanged_data_at_200k_rows_raises_nothing(registry: Path) -> None:
    modelbook.register(make_frame(200_000, 3), name="sensors")
    report = modelbook.monitor(
        "sensors", data=make_frame(200_000, 4), multivariate="both", store="none"
    )
    assert _check(report, "drift.multivariate").status == "ok", report.summary()
    assert _check(report, "drift.domain_classifier").status == "ok", report.summary()
    assert report.status == "ok", report.summary()


def test_unchanged_data_at_2m_rows_streamed_from_parquet_raises_nothing(
    registry: Path, tmp_path: Path
) -> None:
    modelbook.register(make_frame(100_000, 5), name="sensors")
    path = tmp_path / "batch.parquet"
    with pq.ParquetWriter(path, pa.Schema.from_pandas(make_frame(1, 0), preserve_index=False)) as w:
        for part in range(4):
            table = pa.Table.from_pandas(make_frame(500_000, 10 + part), preserve_index=False)
            w.write_table(table, row_group_size=250_000)
    report = modelbook.monitor("sensors", data=path, store="none")
    pca = report.multivariate.pca  # type: ignore[union-attr]
    assert pca is not None and pca.rows == MEASURE_ROWS  # 10 blocks of 10,000 rows of the 2M
    assert _check(report, "drift.multivariate").status == "ok", report.summary()
    assert report.status == "ok", report.summary()
    # The same batch in memory gives the same error (the stream is a sum over chunks).
    small = make_frame(50_000, 10)
    small.to_parquet(tmp_path / "small.parquet")
    from_file = modelbook.monitor("sensors", data=tmp_path / "small.parquet", store="none")
    in_memory = modelbook.monitor("sensors", data=small, store="none")
    assert from_file.multivariate.pca.error == pytest.approx(  # type: ignore[union-attr]
        in_memory.multivariate.pca.error,
        abs=1e-12,  # type: ignore[union-attr]
    )


def test_missing_values_alone_do_not_alert(registry: Path) -> None:
    modelbook.register(make_frame(60_000, 6), name="sensors")
    rng = np.random.default_rng(7)
    batch = make_frame(30_000, 8)
    for column in ("f0", "f1", "f2", "f3", "f4", "f5", "k0"):
        batch.loc[rng.random(len(batch)) < 0.2, column] = np.nan
    report = modelbook.monitor("sensors", data=batch, store="none")
    check = _check(report, "drift.multivariate")
    assert check.status in ("ok", "info"), check  # imputed cells lower the error, at most
    # The nulls themselves are reported, by the check made for them.
    assert any(c.check == "invariants.nulls" and c.status == "alert" for c in report.checks)
    # Missing values that break the sensor pair do move the error: that alerts.
    broken = make_frame(30_000, 9)
    broken.loc[: len(broken) // 2, "s2"] = np.nan
    moved = modelbook.monitor("sensors", data=broken, store="none")
    assert _check(moved, "drift.multivariate").status == "alert"


@pytest.mark.parametrize("loader", ["load_breast_cancer", "load_wine"])
def test_real_data(registry: Path, loader: str) -> None:
    """Held-out rows of a real dataset raise nothing; the same rows with three columns shuffled
    (their marginals intact, their relations to the others broken) alert and name them first."""
    import sklearn.datasets

    data = getattr(sklearn.datasets, loader)(as_frame=True).frame
    train, test = data.iloc[::2], data.iloc[1::2].reset_index(drop=True)
    modelbook.register(train, name="real", target="target")
    report = modelbook.monitor("real", data=test, multivariate="both", store="none")
    assert _check(report, "drift.multivariate").status == "ok", report.summary()
    assert _check(report, "drift.domain_classifier").status == "ok", report.summary()
    pca = report.multivariate.pca  # type: ignore[union-attr]
    assert pca is not None and "target" not in [c[0] for c in pca.contributions]
    columns = {
        "load_breast_cancer": ["mean perimeter", "worst concave points", "mean texture"],
        "load_wine": ["flavanoids", "alcohol", "proline"],
    }[loader]
    rng = np.random.default_rng(0)
    shuffled = test.assign(**{c: rng.permutation(test[c]) for c in columns})
    moved = modelbook.monitor("real", data=shuffled, store="none")
    assert _check(moved, "drift.multivariate").status == "alert", moved.summary()
    top = [c[0] for c in moved.multivariate.pca.contributions[:3]]  # type: ignore[union-attr]
    assert set(top) == set(columns)


def test_old_datasets_get_statistics_on_first_use(registry: Path) -> None:
    modelbook.register(make_frame(30_000, 11), name="sensors")
    con = duckdb.connect(str(registry / "registry.duckdb"))
    stored = con.execute("SELECT multivariate FROM dataset_versions").fetchall()[0][0]
    con.execute("UPDATE dataset_versions SET multivariate = NULL")  # as registered before
    con.close()
    batch = make_frame(5_000, 12, flip=True)
    quiet = modelbook.monitor("sensors", data=batch, store="none")
    assert quiet.multivariate.pca.fitted == "first use"  # type: ignore[union-attr]
    con = duckdb.connect(str(registry / "registry.duckdb"), read_only=True)
    assert con.execute("SELECT multivariate FROM dataset_versions").fetchall()[0][0] is None
    con.close()
    first = modelbook.monitor("sensors", data=batch)
    con = duckdb.connect(str(registry / "registry.duckdb"), read_only=True)
    again = con.execute("SELECT multivariate FROM dataset_versions").fetchall()[0][0]
    con.close()
    assert again == stored  # the same sample, the same statistics, stored once
    later = modelbook.monitor("sensors", data=batch, store="none")
    assert later.multivariate.pca.fitted == "registration"  # type: ignore[union-attr]
    assert later.multivariate.pca.error == first.multivariate.pca.error  # type: ignore[union-attr]
    assert first.status == "alert"


def test_run_columns_and_variance_refit_for_the_run(registry: Path) -> None:
    modelbook.register(make_frame(20_000, 13), name="sensors")
    batch = make_frame(5_000, 14, flip=True)
    only = modelbook.monitor("sensors", data=batch, columns=["s1", "s2", "f0"], store="none")
    pca = only.multivariate.pca  # type: ignore[union-attr]
    assert pca.fitted == "this run" and pca.features == 3 and pca.drifted
    wider = modelbook.monitor(
        "sensors", data=batch, rules={"multivariate": {"variance": 0.9}}, store="none"
    )
    assert wider.multivariate.pca.fitted == "this run"  # type: ignore[union-attr]
    off = modelbook.monitor(
        "sensors", data=batch, rules={"checks": {"drift.multivariate": "info"}}, store="none"
    )
    assert _check(off, "drift.multivariate").status == "info"
    none = modelbook.monitor("sensors", data=batch, multivariate="off", store="none")
    assert none.multivariate is None
    assert not [c for c in none.checks if c.check.startswith("drift.m")]


def test_report_round_trips_through_the_stored_json(registry: Path) -> None:
    from modelbook.monitoring.report import MonitorReport

    modelbook.register(make_frame(20_000, 15), name="sensors")
    report = modelbook.monitor(
        "sensors", data=make_frame(5_000, 16, flip=True), multivariate="both"
    )
    again = MonitorReport.from_json(report.to_json())
    assert again.multivariate == report.multivariate
    history = modelbook.history("sensors")
    assert history.runs[0].status == "alert"


def test_bad_settings_are_one_line_errors(registry: Path) -> None:
    modelbook.register(make_frame(2_000, 17), name="sensors")
    with pytest.raises(ConfigError) as info:
        modelbook.monitor("sensors", data=make_frame(500, 18), multivariate="lda")
    assert str(info.value) == (
        "multivariate='lda' is not one of pca, classifier, both, off: pass e.g. "
        "multivariate='classifier' (--multivariate classifier)."
    )
    with pytest.raises(ConfigError) as info:
        modelbook.monitor(
            "sensors", data=make_frame(500, 18), rules={"multivariate": {"sigma": -1}}
        )
    assert str(info.value) == "monitor.multivariate.sigma must be a number > 0, e.g. 3; got -1."
    assert modelbook.history("sensors").runs == ()  # nothing stored


def test_magic_flag(ip: Any) -> None:
    from IPython.core.error import UsageError

    modelbook.register(make_frame(20_000, 19), name="sensors")
    ip.user_ns["batch"] = make_frame(5_000, 20, flip=True)
    report = ip.run_line_magic(
        "monitor", "sensors --data batch --multivariate classifier --store none"
    )
    assert report.multivariate.pca is None and report.multivariate.classifier.drifted
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("monitor", "sensors --data batch --multivariate lda")
    assert type(info.value) is UsageError and "--multivariate" in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_flag(registry: Path, tmp_path: Path) -> None:
    modelbook.register(make_frame(20_000, 21), name="sensors")
    path = tmp_path / "batch.parquet"
    make_frame(5_000, 22, flip=True).to_parquet(path)
    done = subprocess.run(
        [sys.executable, "-m", "modelbook", "monitor", "sensors", "--data", str(path),
         "--multivariate", "both", "--store", "none", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # an alert
    out = json.loads(done.stdout)
    assert out["multivariate"]["pca"]["drifted"] and out["multivariate"]["classifier"]["drifted"]
    names = {c["check"]: c["status"] for c in out["checks"]}
    assert names["drift.multivariate"] == names["drift.domain_classifier"] == "alert"


def test_keyword_over_the_rules_table_for_callers_of_rules_only() -> None:
    """A timeline takes rules only: ``multivariate=`` is written into its table, and wins."""
    from modelbook.monitoring.multivariate import rules_with_method

    given = {"multivariate": {"sigma": 4, "method": "pca"}}
    assert rules_with_method(given, "both") == {
        "multivariate": {"sigma": 4, "method": "both", "enabled": True}
    }
    assert rules_with_method(None, "off") == {"multivariate": {"enabled": False}}
    assert rules_with_method(given, None) is given
    with pytest.raises(ConfigError, match="multivariate='x' is not one of"):
        rules_with_method(None, "x")
