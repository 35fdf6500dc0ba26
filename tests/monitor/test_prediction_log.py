"""The prediction log (issue 12): each row's id, prediction and score, stored per run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from IPython.core.error import UsageError

import modelbook
from modelbook.errors import DataError
from modelbook.prediction_log import LogFile, log_view_sql, prediction_logs, verify_logs
from modelbook.registry import Registry

COLUMNS = ["id", "predicted", "score", "score_class", "row"]


def _log(home: Path, model: str) -> tuple[LogFile, pd.DataFrame]:
    files = prediction_logs(Registry(home), model)
    assert len(files) >= 1
    verify_logs(Registry(home), files)
    return files[-1], pq.read_table(files[-1].path).to_pandas()


def _counts(home: Path) -> tuple[int, int, int]:
    """(monitor runs, prediction logs, blob files): what a failed call must leave unchanged."""
    con = duckdb.connect(str(home / "registry.duckdb"), read_only=True)
    try:
        runs = con.sql("SELECT count(*) FROM monitor_runs").fetchall()[0][0]
        logs = con.sql("SELECT count(*) FROM prediction_logs").fetchall()[0][0]
    finally:
        con.close()
    blobs = sum(1 for _ in Registry(home).objects.iter_digests())
    return int(runs), int(logs), blobs


@pytest.fixture
def cancer(registry: Path) -> tuple[Any, pd.DataFrame]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    modelbook.register(model, name="cancer", data=X, target=y)
    return model, X


def test_binary_log_equals_the_model(registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    model, X = cancer
    batch = X.assign(customer_id=np.arange(1000, 1000 + len(X), dtype=np.int64))
    report = modelbook.monitor("cancer", data=batch, id="customer_id")
    assert report.prediction_log is not None
    assert report.prediction_log["rows"] == len(X)
    assert report.prediction_log["id_column"] == "customer_id"
    assert not [c for c in report.checks if c.check == "schema.unexpected"]  # the id: no input
    assert f"prediction log: {len(X)} rows by customer_id" in str(report)
    log, frame = _log(registry, "cancer")
    assert log.run_id == report.run_id and log.n_rows == len(X) and log.time_column is None
    assert log.blob == report.prediction_log["blob"]
    schema = pq.read_schema(log.path)
    assert schema.names == COLUMNS
    assert str(schema.field("id").type) == "int64"
    assert pq.ParquetFile(log.path).metadata.row_group(0).column(0).compression == "ZSTD"
    np.testing.assert_array_equal(frame["id"], batch["customer_id"])
    np.testing.assert_array_equal(frame["predicted"], model.predict(X))
    np.testing.assert_allclose(frame["score"], model.predict_proba(X)[:, 1], rtol=1e-12)
    assert frame["score_class"].isna().all()
    np.testing.assert_array_equal(frame["row"], np.arange(len(X)))
    # Stored with the run: the report read back names the log.
    stored = modelbook.history("cancer")
    assert stored is not None


def test_multiclass_string_classes(registry: Path) -> None:
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_wine(return_X_y=True, as_frame=True)
    y = y.map({0: "barolo", 1: "grignolino", 2: "barbera"})
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    modelbook.register(model, name="wine", data=X, target=y)
    batch = X.assign(sku=[f"w-{i:04d}" for i in range(len(X))])
    report = modelbook.monitor("wine", data=batch, id="sku")
    assert report.prediction_log is not None
    log, frame = _log(registry, "wine")
    assert str(pq.read_schema(log.path).field("id").type) == "string"
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(frame["id"], batch["sku"])
    np.testing.assert_array_equal(frame["predicted"], model.predict(X))
    np.testing.assert_allclose(frame["score"], proba.max(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(frame["score_class"], model.classes_[proba.argmax(axis=1)])
    assert (
        pq.read_schema(log.path).field("score_class").type
        == pq.read_schema(log.path).field("predicted").type
    )


def test_regression_from_a_parquet_path(registry: Path, tmp_path: Path) -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge().fit(X, y)
    modelbook.register(model, name="diabetes", data=X, target=y)
    path = tmp_path / "batch.parquet"
    batch = X.assign(patient=np.arange(len(X), dtype=np.int32) * 7)
    batch.to_parquet(path)
    report = modelbook.monitor("diabetes", data=path, id="patient")
    assert report.prediction_log is not None and report.prediction_log["rows"] == len(X)
    log, frame = _log(registry, "diabetes")
    assert str(pq.read_schema(log.path).field("id").type) == "int64"
    np.testing.assert_array_equal(frame["id"], batch["patient"])
    np.testing.assert_allclose(frame["predicted"], model.predict(X), rtol=1e-12)
    np.testing.assert_allclose(frame["score"], model.predict(X), rtol=1e-12)
    assert frame["score_class"].isna().all()


def test_time_without_chunk_is_logged(registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    _, X = cancer
    ts = pd.date_range("2026-01-01", periods=len(X), freq="h")
    batch = X.assign(cid=[f"c{i}" for i in range(len(X))], ts=ts)
    report = modelbook.monitor("cancer", data=batch, id="cid", time="ts")
    assert isinstance(report, modelbook.monitoring.MonitorReport)
    assert not [c for c in report.checks if c.check == "schema.unexpected"]
    log, frame = _log(registry, "cancer")
    assert log.time_column == "ts"
    schema = pq.read_schema(log.path)
    assert schema.names == ["id", "predicted", "score", "score_class", "time", "row"]
    assert str(schema.field("time").type) == "timestamp[us, tz=UTC]"
    assert (frame["time"].dt.tz_localize(None) == ts).all()
    with pytest.raises(DataError, match=r"^time='ts' needs chunk="):
        modelbook.monitor("cancer", data=batch, time="ts")  # no id: a timeline needs chunk=


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("nope", None, "id column 'nope' is not in the batch; columns: "),
        (
            "cid",
            [1, 2, 3, 2, 3, 3, *range(100, 100 + 563)],
            "id column 'cid' has 2 ids that occur more than once (3 extra rows), e.g. 2, 3: "
            "ids must be unique within a batch; deduplicate it first.",
        ),
        (
            "cid",
            [1.0, np.nan, 3.0] + [float(i) for i in range(10, 576)],
            "id column 'cid' holds floats with 1 NaN: ids must be integers or strings; drop or "
            "fill those rows (a pandas integer column with missing values becomes float).",
        ),
        (
            "cid",
            ["a", None] + [f"x{i}" for i in range(567)],
            "id column 'cid' has 1 null ids: every logged row needs an id; drop or fill those rows.",
        ),
        (
            "cid",
            [[1, 2]] * 569,
            "id column 'cid' holds list<item: int64> values, which cannot identify a row: "
            "use a column of integers or strings.",
        ),
    ],
)
def test_bad_ids_write_nothing(
    registry: Path,
    cancer: tuple[Any, pd.DataFrame],
    column: str,
    values: list[Any] | None,
    message: str,
) -> None:
    _, X = cancer
    batch = X.copy()
    if values is not None:
        batch[column] = pd.Series(values, dtype=object if column == "cid" else None)
        if all(isinstance(v, float) for v in values):
            batch[column] = batch[column].astype(float)
    before = _counts(registry)
    with pytest.raises(DataError) as caught:
        modelbook.monitor("cancer", data=batch, id=column, store="data")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert _counts(registry) == before


def test_duplicates_name_a_few(registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    _, X = cancer
    batch = X.assign(cid=np.arange(len(X)) // 2)
    with pytest.raises(
        DataError, match=r"has 284 ids that occur more than once \(284 extra rows\)"
    ):
        modelbook.monitor("cancer", data=batch, id="cid")
    with pytest.raises(DataError, match=r"e\.g\. 0, 1, 2, 3, 4 and 279 more: ids must be unique"):
        modelbook.monitor("cancer", data=batch, id="cid")
    sparse = np.arange(len(X), dtype=np.int64)[::-1] * 10**9  # decreasing, far apart: hashed
    assert modelbook.monitor("cancer", data=X.assign(cid=sparse), id="cid").prediction_log
    sparse[7] = sparse[3]
    with pytest.raises(DataError, match=r"has 1 ids that occur more than once \(1 extra rows\)"):
        modelbook.monitor("cancer", data=X.assign(cid=sparse), id="cid")
    dense = np.random.default_rng(0).permutation(len(X))  # shuffled, dense: counted
    assert modelbook.monitor("cancer", data=X.assign(cid=dense), id="cid").prediction_log


def test_id_column_from_settings(registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    _, X = cancer
    registry.joinpath("monitor.toml").write_text(
        '[monitor]\nid_column = "cid"\nprediction_log_days = 30\n'
    )
    report = modelbook.monitor("cancer", data=X.assign(cid=np.arange(len(X))))
    assert report.prediction_log is not None and report.prediction_log["id_column"] == "cid"
    registry.joinpath("monitor.toml").write_text("[monitor]\nprediction_log_days = -1\n")
    with pytest.raises(modelbook.errors.ConfigError, match="prediction_log_days must be"):
        modelbook.monitor("cancer", data=X)


def test_no_id_keeps_nothing(registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    _, X = cancer
    report = modelbook.monitor("cancer", data=X)
    assert report.prediction_log is None and report.run_id is not None
    assert prediction_logs(Registry(registry), "cancer") == []
    none = modelbook.monitor("cancer", data=X.assign(cid=np.arange(len(X))), id="cid", store="none")
    assert none.prediction_log is None


def test_retention_and_gc(registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    model, X = cancer
    batch = X.assign(cid=np.arange(len(X)))
    old = modelbook.monitor("cancer", data=batch, id="cid")
    new = modelbook.monitor("cancer", data=batch.assign(cid=batch["cid"] + 10_000), id="cid")
    assert old.prediction_log is not None and new.prediction_log is not None
    old_blob = Registry(registry).objects.path_for(old.prediction_log["blob"])
    # Age the first log by 40 days (its row and its file).
    con = duckdb.connect(str(registry / "registry.duckdb"))
    con.execute(
        "UPDATE prediction_logs SET created_at = created_at - INTERVAL 40 DAY WHERE run_id = ?",
        [old.run_id],
    )
    con.close()
    past = time.time() - 40 * 86400
    os.utime(old_blob, (past, past))
    before = modelbook.gc(grace_seconds=0)  # no retention set: every log stays
    assert before.removed_files == 0 and old_blob.exists()
    registry.joinpath("monitor.toml").write_text("[monitor]\nprediction_log_days = 30\n")
    done = modelbook.gc(grace_seconds=3600)
    assert done.removed_files == 1 and not old_blob.exists()
    files = prediction_logs(Registry(registry), "cancer")
    assert [f.run_id for f in files] == [new.run_id]
    verify_logs(Registry(registry), files)
    assert modelbook.check().ok
    loaded = modelbook.load("cancer@1")  # the model's artifact is untouched
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert len(modelbook.history("cancer").runs) == 2  # the runs themselves stay


def test_check_verifies_log_blobs(registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    _, X = cancer
    report = modelbook.monitor("cancer", data=X.assign(cid=np.arange(len(X))), id="cid")
    assert report.prediction_log is not None and modelbook.check().ok
    path = Registry(registry).objects.path_for(report.prediction_log["blob"])
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-10])
    found = modelbook.check()
    assert not found.ok
    assert [(p.check, p.subject) for p in found.problems] == [("blob.corrupt", "model cancer@1")]
    assert "prediction log artifact file" in found.problems[0].message
    with pytest.raises(modelbook.errors.IntegrityError):
        verify_logs(Registry(registry), prediction_logs(Registry(registry), "cancer"))


def test_view_over_runs_and_versions(registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model, X = cancer
    other = make_pipeline(StandardScaler(), LogisticRegression(C=0.01)).fit(X, model.predict(X))
    modelbook.register(other, name="cancer", data=X, target=model.predict(X))
    first = modelbook.monitor("cancer@1", data=X.assign(cid=np.arange(len(X))), id="cid")
    ts = pd.date_range("2026-03-01", periods=200, freq="D")
    second = modelbook.monitor(
        "cancer@2", data=X.head(200).assign(cid=np.arange(200), ts=ts), id="cid", time="ts"
    )
    files = prediction_logs(Registry(registry), "cancer")
    assert [(f.run_id, f.model_version) for f in files] == [
        (first.run_id, 1),
        (second.run_id, 2),
    ]
    view = duckdb.sql(log_view_sql(files)).df()
    assert len(view) == len(X) + 200
    assert set(view.columns) == {*COLUMNS, "time", "run_id", "model_version"}
    assert list(view.columns)[-2:] == ["run_id", "model_version"]
    per_version = view.groupby("model_version")["id"].count().to_dict()
    assert per_version == {1: len(X), 2: 200}
    assert view.loc[view.model_version == 1, "time"].isna().all()
    assert view.loc[view.model_version == 2, "time"].notna().all()
    v2 = view[view.model_version == 2].sort_values("row")
    np.testing.assert_allclose(v2["score"], other.predict_proba(X.head(200))[:, 1], rtol=1e-12)
    assert not np.allclose(v2["score"], model.predict_proba(X.head(200))[:, 1])
    assert duckdb.sql(log_view_sql([])).fetchall() == []


def test_magic_and_cli(ip: Any, registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    _, X = cancer
    ip.user_ns["batch"] = X.assign(customer_id=np.arange(len(X)))
    report = ip.run_line_magic("monitor", "cancer --data batch --id customer_id")
    assert report.prediction_log["rows"] == len(X)
    ip.user_ns["dup"] = X.assign(customer_id=0)
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("monitor", "cancer --data dup --id customer_id")
    assert "ids that occur more than once" in str(caught.value)
    assert "\n" not in str(caught.value)
    path = registry.parent / "batch.csv"
    X.assign(customer_id=[f"k{i}" for i in range(len(X))]).to_csv(path, index=False)
    done = subprocess.run(
        [sys.executable, "-m", "modelbook", "--registry", str(registry), "monitor", "cancer",
         "--data", str(path), "--id", "customer_id", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    assert data["prediction_log"]["rows"] == len(X)
    assert data["prediction_log"]["id_column"] == "customer_id"
    files = prediction_logs(Registry(registry), "cancer")
    assert len(files) == 2
    assert pq.read_table(files[-1].path).column("id").to_pylist()[:2] == ["k0", "k1"]
    bad = subprocess.run(
        [sys.executable, "-m", "modelbook", "--registry", str(registry), "monitor", "cancer",
         "--data", str(path), "--id", "nope"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 3
    assert "id column 'nope' is not in the batch" in bad.stderr


@pytest.mark.parametrize("on_disk", [False, True])
def test_timeline_keeps_one_log_per_chunk(
    registry: Path, tmp_path: Path, cancer: tuple[Any, pd.DataFrame], on_disk: bool
) -> None:
    model, X = cancer
    ts = pd.date_range("2026-01-01", periods=len(X), freq="3h")  # 569 rows over ~71 days
    # The same entity may be scored in two months: ids are unique within a chunk only.
    batch = X.assign(cid=np.arange(len(X)) % 300, ts=ts)
    data: Any = batch
    if on_disk:
        data = tmp_path / "batch.parquet"
        batch.to_parquet(data)
    timeline = modelbook.monitor("cancer", data=data, id="cid", time="ts", chunk="month")
    files = prediction_logs(Registry(registry), "cancer")
    assert len(files) == len(timeline) == 3
    assert [f.run_id for f in files] == [r.run_id for r in timeline]
    view = duckdb.sql(log_view_sql(files)).df()
    assert len(view) == len(X) and view["run_id"].nunique() == 3
    assert all(r.prediction_log is not None for r in timeline)
    assert [r.prediction_log["rows"] for r in timeline] == [r.n_rows for r in timeline]
    merged = view.assign(ts=view["time"].dt.tz_localize(None)).merge(
        batch.assign(expected=model.predict_proba(X)[:, 1]), on="ts"
    )
    assert len(merged) == len(X)
    np.testing.assert_array_equal(merged["id"], merged["cid"])
    np.testing.assert_allclose(merged["score"], merged["expected"], rtol=1e-12)
    dup = batch.assign(cid=0)
    with pytest.raises(DataError, match="ids that occur more than once"):
        modelbook.monitor("cancer", data=dup, id="cid", time="ts", chunk="month")
    assert len(prediction_logs(Registry(registry), "cancer")) == 3


def test_a_dataset_keeps_no_log(registry: Path, cancer: tuple[Any, pd.DataFrame]) -> None:
    _, X = cancer
    before = _counts(registry)
    with pytest.raises(DataError) as caught:
        modelbook.monitor("cancer-training@1", data=X.assign(cid=np.arange(len(X))), id="cid")
    assert str(caught.value) == (
        "id='cid' keeps each row's prediction, and cancer-training@1 is a dataset: monitor a "
        "model version to keep a prediction log."
    )
    assert _counts(registry) == before
