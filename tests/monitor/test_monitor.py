"""End to end: a registered scikit-learn model monitored on undrifted and drifted batches."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from monitor_data import labels_for, make_frame
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

import modelbook
from modelbook.errors import AlertError
from modelbook.monitoring import MonitorReport


def _db(home: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(home / "registry.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_undrifted_batch_is_ok(trained: Any, batch: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=batch)
    assert isinstance(report, MonitorReport)
    assert report.status == "ok", report.summary()
    assert report.ok and report.alerts == ()
    assert report.target == "churn@1" and report.reference == "churn-training@1"
    assert report.drift is not None
    assert sorted(c.column for c in report.drift.columns) == ["calls", "charges", "plan", "tenure"]
    assert report.drift.drifted_columns == ()
    assert report.prediction_drift is not None and not report.prediction_drift.drifted
    assert report.prediction_drift.kind == "numeric"  # P(churn), not the 0/1 label
    assert report.raise_for_alerts() is report
    assert report.n_rows == len(batch)


def test_drifted_batch_alerts_on_the_moved_column_only(trained: Any, drifted: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=drifted)
    assert report.status == "alert"
    assert report.drift is not None and report.drift.drifted_columns == ("tenure",)
    tenure = report.drift.column("tenure")
    assert tenure.test == "wasserstein" and tenure.statistic == pytest.approx(0.5, abs=0.05)
    alerted = {(c.check, c.column) for c in report.alerts}
    assert ("drift.column", "tenure") in alerted
    assert ("drift.prediction", "prediction") in alerted  # tenure drives the churn score
    assert ("drift.column", "charges") not in alerted
    with pytest.raises(AlertError, match=r"^monitor run of churn@1: alert, \d+ alerts: "):
        report.raise_for_alerts()


def test_quality_metrics_match_sklearn(trained: Any) -> None:
    X = make_frame(3_000, seed=21)
    y = labels_for(X, seed=22)
    report = modelbook.monitor("churn", data=X, target=y.to_numpy())
    predicted = trained.model.predict(X)
    score = trained.model.predict_proba(X)[:, 1]
    assert report.metrics["accuracy"] == pytest.approx(accuracy_score(y, predicted), abs=1e-12)
    assert report.metrics["precision"] == pytest.approx(precision_score(y, predicted), abs=1e-12)
    assert report.metrics["recall"] == pytest.approx(recall_score(y, predicted), abs=1e-12)
    assert report.metrics["f1"] == pytest.approx(f1_score(y, predicted), abs=1e-12)
    assert report.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    accuracy = next(c for c in report.checks if c.check == "quality.accuracy")
    assert accuracy.status == "ok"  # same distribution: within 0.05 of the registered accuracy
    assert report.reference_metrics["accuracy"] == pytest.approx(
        accuracy_score(trained.y, trained.model.predict(trained.X))
    )


def test_quality_drop_alerts(trained: Any) -> None:
    X = make_frame(3_000, seed=21)
    wrong = 1 - labels_for(X, seed=22).to_numpy()  # flipped labels: accuracy collapses
    report = modelbook.monitor("churn", data=X, target=wrong)
    check = next(c for c in report.checks if c.check == "quality.accuracy")
    assert check.status == "alert"
    assert check.test == "drop" and check.threshold == 0.05
    assert check.statistic == pytest.approx(
        report.reference_metrics["accuracy"] - report.metrics["accuracy"]
    )


def test_regression_metrics_match_sklearn(registry: Path) -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=2_000), "b": rng.normal(size=2_000)})
    y = 3 * X["a"] - X["b"] + rng.normal(size=2_000)
    model = LinearRegression().fit(X, y)
    modelbook.register(model, name="price", data=X, target=y.rename("y"))
    Xb = pd.DataFrame({"a": rng.normal(size=1_000), "b": rng.normal(size=1_000)})
    yb = 3 * Xb["a"] - Xb["b"] + rng.normal(size=1_000)
    report = modelbook.monitor("price", data=Xb, target=yb.to_numpy())
    pred = model.predict(Xb)
    assert report.metrics["mae"] == pytest.approx(mean_absolute_error(yb, pred), abs=1e-12)
    assert report.metrics["rmse"] == pytest.approx(
        math.sqrt(mean_squared_error(yb, pred)), abs=1e-12
    )
    assert report.metrics["r2"] == pytest.approx(r2_score(yb, pred), abs=1e-12)
    assert report.prediction_drift is not None and report.prediction_drift.kind == "numeric"


def test_target_column_of_the_batch_gives_labels_and_label_drift(trained: Any) -> None:
    X = make_frame(3_000, seed=21)
    frame = X.assign(churned=labels_for(X, seed=22))
    report = modelbook.monitor("churn", data=frame, target="churned")
    predicted = trained.model.predict(X)
    assert report.metrics["accuracy"] == pytest.approx(
        accuracy_score(frame["churned"], predicted), abs=1e-12
    )
    assert {c.check for c in report.checks} >= {"drift.label"}
    assert not any(c.check == "schema.unexpected" for c in report.checks)


def test_serving_cost_is_measured(trained: Any, batch: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=batch)
    s = report.serving
    assert s["rows_per_second"] > 0
    assert 0 < s["latency_ms_p50"] <= s["latency_ms_p95"]
    assert s["batch_us_per_row_p50"] > 0
    assert {c.check for c in report.checks} >= {"serving.latency_p95_ms", "serving.rows_per_second"}
    slow = modelbook.monitor(
        "churn", data=batch, rules={"checks": {"serving.latency_p95_ms": 1e-9}}, store="none"
    )
    check = next(c for c in slow.checks if c.check == "serving.latency_p95_ms")
    assert check.status == "alert" and check.threshold == 1e-9


def test_stored_run_in_duckdb(trained: Any, drifted: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=drifted)
    rows = _db(
        trained.home,
        "SELECT id, target, target_version, reference, status, source, n_rows, drift_share, "
        "n_alerts, batch_dataset, report FROM monitor_runs",
    )
    assert len(rows) == 1
    run_id, target, version, reference, status, source, n_rows, share, n_alerts, batch, text = rows[
        0
    ]
    assert (run_id, target, version, reference) == (report.run_id, "churn", 1, "churn-training@1")
    # 'interactive' once any test has started the global IPython shell in this process
    assert report.source in ("api", "interactive")
    assert (status, source, n_rows, n_alerts, batch) == (
        "alert",
        report.source,
        4_000,
        len(report.alerts),
        None,
    )
    assert share == pytest.approx(0.25)
    stored = json.loads(text)
    assert stored["status"] == "alert" and stored["run_id"] == report.run_id
    assert stored["drift"]["columns"][0]["column"] in {"tenure", "charges", "calls", "plan"}
    checks = _db(
        trained.home,
        "SELECT position, check_name, column_name, status FROM check_results "
        f"WHERE run_id = '{report.run_id}' ORDER BY position",
    )
    assert [(c.check, c.column, c.status) for c in report.checks] == [r[1:] for r in checks]
    # The reference predictions were computed once and stored; a second run reuses them.
    assert _db(
        trained.home,
        "SELECT model, model_version, dataset, dataset_version FROM reference_predictions",
    ) == [("churn", 1, "churn-training", 1)]
    before = _db(trained.home, "SELECT profile FROM reference_predictions")
    again = modelbook.monitor("churn", data=drifted)
    assert _db(trained.home, "SELECT profile FROM reference_predictions") == before
    assert again.prediction_drift == report.prediction_drift
    assert _db(trained.home, "SELECT count(*) FROM monitor_runs") == [(2,)]


def test_store_none_and_data(trained: Any, batch: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=batch, store="none")
    assert report.run_id is None
    assert _db(trained.home, "SELECT count(*) FROM monitor_runs") == [(0,)]
    assert _db(trained.home, "SELECT count(*) FROM reference_predictions") == [(0,)]
    kept = modelbook.monitor("churn", data=batch, store="data")
    assert kept.batch_dataset == "churn-batches@1"
    assert _db(trained.home, "SELECT batch_dataset FROM monitor_runs") == [("churn-batches@1",)]
    stored = modelbook.load("churn-batches@1")
    pd.testing.assert_frame_equal(stored, batch, check_dtype=False)


def test_production_alias_is_the_default(trained: Any, batch: pd.DataFrame) -> None:
    from sklearn.base import clone

    # Another model (an identical one would return churn@1 again).
    other = clone(trained.model).set_params(logisticregression__C=0.5).fit(trained.X, trained.y)
    modelbook.register(other, name="churn", data=trained.X, target=trained.y)  # churn@2
    assert modelbook.monitor("churn", data=batch, store="none").target == "churn@2"
    modelbook.alias("churn@1", "production")
    assert modelbook.monitor("churn", data=batch, store="none").target == "churn@1"
    assert modelbook.monitor("churn@2", data=batch, store="none").target == "churn@2"


def test_dataset_ref_and_parquet_path_agree_with_memory(
    trained: Any, drifted: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "batch.parquet"
    drifted.to_parquet(path)
    memory = modelbook.monitor("churn-training", data=drifted, store="none")
    streamed = modelbook.monitor("churn-training", data=str(path), store="none")
    assert memory.target == streamed.target == "churn-training@1"
    assert memory.reference == "churn-training@1" and memory.target_kind == "dataset"
    assert memory.drift is not None and streamed.drift is not None
    for a, b in zip(memory.drift.columns, streamed.drift.columns, strict=True):
        assert (a.column, a.test, a.drifted) == (b.column, b.test, b.drifted)
        assert a.statistic == pytest.approx(b.statistic, abs=1e-9)
    # A model on a path: predictions stream through the model chunk by chunk.
    model_run = modelbook.monitor("churn", data=path, store="none")
    assert model_run.prediction_drift is not None and model_run.prediction_drift.drifted


def test_columns_limit_drift(trained: Any, drifted: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=drifted, columns=["charges", "plan"], store="none")
    assert report.drift is not None
    assert [c.column for c in report.drift.columns] == ["charges", "plan"]


def test_fail_on_alert_raises_after_storing(trained: Any, drifted: pd.DataFrame) -> None:
    with pytest.raises(AlertError, match=r"drift\.column \[tenure\]: drifted: wasserstein"):
        modelbook.monitor("churn", data=drifted, fail_on_alert=True)
    assert _db(trained.home, "SELECT status FROM monitor_runs") == [("alert",)]


def test_rendering(trained: Any, drifted: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=drifted, target=labels_for(drifted, seed=3).to_numpy())
    bundle = report._repr_mimebundle_()
    text = bundle["text/plain"]
    assert text.startswith(
        "monitor churn@1: ALERT (4,000 rows, reference churn-training@1, 1 of 4 columns drifted"
    )
    assert "alert drift.column [tenure]: drifted: wasserstein" in text
    html = bundle["text/html"]
    assert "<script" not in html and "<h4>Data drift: 1 of 4 columns" in html
    for section in ("Findings", "Prediction drift", "Quality", "Serving cost"):
        assert f"<h4>{section}" in html
    data = bundle["application/vnd.modelbook.v1+json"]
    assert data["type"] == "monitor_report" and data["version"] == 1
    assert data["data"]["status"] == "alert"
    json.dumps(data)  # plain JSON
    frame = report.to_frame()
    assert list(frame.columns) == [
        "check",
        "column",
        "status",
        "test",
        "statistic",
        "threshold",
        "message",
    ]
    assert len(frame) == len(report.checks)


def test_stored_report_round_trips(trained: Any, drifted: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=drifted, target=labels_for(drifted, seed=3).to_numpy())
    assert report.run_id is not None
    text = modelbook.api.open_registry().monitor_report_json(report.run_id)
    again = MonitorReport.from_json(text)
    assert again.to_dict() == report.to_dict()
    assert str(again) == str(report)


def test_csv_path_batch(trained: Any, drifted: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "batch.csv"
    drifted.to_csv(path, index=False)
    report = modelbook.monitor("churn", data=path, store="none")
    assert report.n_rows == len(drifted)
    assert report.drift is not None and report.drift.drifted_columns == ("tenure",)
    assert not [c for c in report.checks if c.check.startswith("schema.") and c.status == "alert"]


def test_missing_labels_are_left_out(trained: Any) -> None:
    X = make_frame(2_000, seed=21)
    y = labels_for(X, seed=22).astype("float64").to_numpy().copy()
    y[:500] = np.nan  # labels not in yet
    report = modelbook.monitor("churn", data=X, target=y, store="none")
    known = ~np.isnan(y)
    predicted = trained.model.predict(X)
    assert report.metrics["accuracy"] == pytest.approx(
        accuracy_score(y[known], predicted[known]), abs=1e-12
    )
    notes = [c.message for c in report.checks if c.check == "quality"]
    assert notes == ["500 rows without a label left out of the metrics"]
