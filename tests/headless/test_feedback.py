"""Late labels (``mb.feedback``): the join cases, realized quality against scikit-learn,
idempotence, min_labels, bad input, and the magic and CLI shells.

The registry is real (DuckDB file, Parquet logs written by real monitor runs with ``id=``); the
model is a logistic regression on scikit-learn's breast-cancer data, registered twice (two
versions) so that one label file reaches both versions' runs.
"""

from __future__ import annotations

import importlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import modelbook as mb
from modelbook.api import feedback
from modelbook.errors import ConfigError, DataError, NotFoundError
from modelbook.late_labels import FeedbackReport


@dataclass(frozen=True)
class World:
    home: Path
    X: pd.DataFrame  # the monitored batch (features), index = position
    y: np.ndarray  # its true labels
    ids: np.ndarray  # its customer ids
    models: dict[int, Any]  # version -> fitted model
    runs: dict[str, str]  # 'v1', 'v2', 'v1-other' -> run id
    other_ids: np.ndarray  # ids of the v1-other run (never labelled here)


def _build(folder: Path) -> World:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    home = folder / ".modelbook"
    m1 = LogisticRegression(max_iter=5000).fit(X[:300], y[:300])
    m2 = LogisticRegression(max_iter=5000, C=0.001).fit(X[:300], y[:300])
    mb.register(m1, name="churn", data=X[:300], target=y[:300], metrics={"accuracy": 0.95},
                registry=home)  # fmt: skip
    mb.register(m2, name="churn", data=X[:300], target=y[:300], metrics={"accuracy": 0.99},
                registry=home)  # fmt: skip
    batch = X[300:].reset_index(drop=True)
    ids = np.arange(1000, 1000 + len(batch))
    runs = {}
    for label, ref in (("v1", "churn@1"), ("v2", "churn@2")):
        report = mb.monitor(ref, data=batch.assign(customer_id=ids), id="customer_id",
                            registry=home)  # fmt: skip
        runs[label] = report.run_id
    other = X[:100].assign(customer_id=np.arange(5000, 5100))
    runs["v1-other"] = mb.monitor("churn@1", data=other, id="customer_id", registry=home).run_id
    return World(home, batch, y[300:].to_numpy(), ids, {1: m1, 2: m2}, runs,
                 np.arange(5000, 5100))  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    return _build(tmp_path_factory.mktemp("feedback-template"))


@pytest.fixture
def world(template: World, registry: Path) -> World:
    """A private copy of the template registry at the ``registry`` fixture's path."""
    shutil.copytree(template.home, registry)
    return World(registry, template.X, template.y, template.ids, template.models,
                 template.runs, template.other_ids)  # fmt: skip


def _labels(w: World, rows: slice | np.ndarray, *, flip: bool = False) -> pd.DataFrame:
    y = w.y[rows]
    return pd.DataFrame({"customer_id": w.ids[rows], "churned": 1 - y if flip else y})


def _count(home: Path, table: str) -> int:
    con = duckdb.connect(str(home / "registry.duckdb"), read_only=True)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    finally:
        con.close()


def _run(report: FeedbackReport, run_id: str) -> Any:
    return next(r for r in report.runs if r.run_id == run_id)


def _expected(w: World, version: int, rows: np.ndarray, y: np.ndarray) -> dict[str, float]:
    model = w.models[version]
    X = w.X.iloc[rows]
    predicted = model.predict(X)
    proba = model.predict_proba(X)[:, 1]
    return {
        "accuracy": skm.accuracy_score(y, predicted),
        "precision": skm.precision_score(y, predicted, zero_division=0),
        "recall": skm.recall_score(y, predicted, zero_division=0),
        "f1": skm.f1_score(y, predicted, zero_division=0),
        "roc_auc": skm.roc_auc_score(y, proba),
    }


def test_mb_feedback_is_the_api_function() -> None:
    """``mb.feedback`` stays the function once the prediction log's reader is imported (no
    module may be named ``modelbook/feedback.py``: importing it would rebind the name)."""
    importlib.import_module("modelbook.prediction_log")
    assert not (Path(mb.__file__).parent / "feedback.py").exists()
    assert mb.feedback is feedback


def test_partial_coverage_unmatched_duplicates_and_sklearn_metrics(world: World) -> None:
    rows = np.arange(0, 150)
    labels = _labels(world, rows)
    extra = pd.DataFrame({"customer_id": [99_001, 99_002, 99_003], "churned": [0, 1, 0]})
    dupes = labels.iloc[:2]  # the same id twice with the same value: counted, kept once
    report = feedback("churn", labels=pd.concat([labels, extra, dupes]), id="customer_id",
                         target="churned")  # fmt: skip
    assert report.applied
    assert (report.labels, report.distinct, report.duplicates) == (155, 153, 2)
    assert (report.matched, report.unmatched) == (150, 3)
    assert report.unmatched_ids == (99_001, 99_002, 99_003)
    assert report.conflicts == 0
    v1, v2, other = (_run(report, world.runs[k]) for k in ("v1", "v2", "v1-other"))
    # Unlabelled predictions stay: counted, never dropped by the join.
    assert (v1.predictions, v1.labelled, v1.matched) == (len(world.X), 150, 150)
    assert v1.coverage == pytest.approx(150 / len(world.X))
    assert (other.predictions, other.labelled, other.stored, other.status) == (
        100, 0, False, "unlabelled"
    )  # fmt: skip
    # Realized quality equals scikit-learn's on the labelled subset, for each version.
    for version, run in ((1, v1), (2, v2)):
        assert run.stored
        expected = _expected(world, version, rows, world.y[rows])
        assert set(run.metrics) == set(expected)
        for name, value in expected.items():
            assert run.metrics[name] == pytest.approx(value, abs=1e-12), name
    accuracy = next(c for c in v2.checks if c.check == "quality.accuracy")
    assert accuracy.status == ("alert" if v2.metrics["accuracy"] < 0.94 else "ok")
    assert "registered 0.99" in accuracy.message
    assert _count(world.home, "feedback_results") == 2
    assert _count(world.home, "label_sets") == 1
    # The stored label set holds the matched labels only: unmatched ids are kept nowhere.
    con = duckdb.connect(str(world.home / "registry.duckdb"), read_only=True)
    blob = con.execute("SELECT blob, n_rows FROM label_sets").fetchall()[0]
    con.close()
    stored = pd.read_parquet(world.home / "objects" / blob[0][:2] / blob[0][2:])
    assert blob[1] == 150 and sorted(stored["id"]) == sorted(world.ids[rows])
    # The original runs are never rewritten.
    assert mb.history("churn").runs[0].run_id in world.runs.values()


def test_same_labels_twice_change_nothing(world: World, tmp_path: Path) -> None:
    labels = _labels(world, np.arange(0, 120))
    first = feedback("churn", labels=labels, id="customer_id", target="churned")
    assert first.applied and first.stored_runs == 2
    path = tmp_path / "labels.parquet"
    labels.to_parquet(path)  # the same labels as a file: the same content
    again = feedback("churn", labels=str(path), id="customer_id", target="churned")
    assert not again.applied
    assert again.stored_runs == 0
    assert {r.status for r in again.runs if r.labelled} == {"unchanged"}
    assert "already applied: nothing changed" in again.summary()
    assert _count(world.home, "feedback_results") == 2
    assert _count(world.home, "label_sets") == 1
    # gc keeps the stored label set (it is referenced): sending the file again still reads it.
    mb.gc(grace_seconds=0)
    assert not feedback("churn", labels=labels, id="customer_id", target="churned").applied


def test_conflicts_across_files_later_file_wins(world: World) -> None:
    feedback("churn", labels=_labels(world, np.arange(0, 150)), id="customer_id",
                target="churned")  # fmt: skip
    changed = np.arange(0, 10)
    second = pd.concat([_labels(world, changed, flip=True), _labels(world, np.arange(150, 170))])
    report = feedback("churn", labels=second, id="customer_id", target="churned")
    assert report.conflicts == 10
    assert [c["id"] for c in report.conflicting] == list(world.ids[changed])
    assert [c["label"] for c in report.conflicting] == list(1 - world.y[changed])
    assert [c["previous"] for c in report.conflicting] == list(world.y[changed])
    # The later file wins: realized quality uses the flipped labels for those ids.
    rows = np.arange(0, 170)
    truth = world.y[rows].copy()
    truth[changed] = 1 - truth[changed]
    v1 = _run(report, world.runs["v1"])
    assert (v1.labelled, v1.matched) == (170, 30)
    assert v1.metrics["accuracy"] == pytest.approx(_expected(world, 1, rows, truth)["accuracy"])
    assert _count(world.home, "feedback_results") == 4
    assert _count(world.home, "label_sets") == 2


def test_conflict_within_one_file_is_an_error_and_writes_nothing(world: World) -> None:
    labels = _labels(world, np.arange(0, 150))
    bad = pd.concat([labels, _labels(world, np.arange(0, 2), flip=True)])
    with pytest.raises(DataError, match=r"^the labels give 2 ids more than one value \(1000: "):
        feedback("churn", labels=bad, id="customer_id", target="churned")
    assert _count(world.home, "label_sets") == 0
    assert _count(world.home, "feedback_results") == 0


def test_min_labels_gives_insufficient_never_ok(world: World) -> None:
    labels = _labels(world, np.arange(0, 40))
    report = feedback("churn", labels=labels, id="customer_id", target="churned")
    v1 = _run(report, world.runs["v1"])
    assert v1.status == "insufficient" and report.status == "insufficient"
    assert v1.checks[0].message == "40 labelled rows, fewer than min_labels = 100: no verdict"
    accuracy = next(c for c in v1.checks if c.check == "quality.accuracy")
    assert accuracy.status == "insufficient"
    assert "40 labelled rows" in accuracy.message
    assert all(c.status != "ok" for c in v1.checks)
    # With a lower bar the same labels give a verdict (new labels_state: a new result).
    more = _labels(world, np.arange(40, 45))
    lower = feedback("churn", labels=more, id="customer_id", target="churned", min_labels=10)
    assert _run(lower, world.runs["v1"]).status in ("ok", "alert")


def test_min_labels_from_settings(world: World) -> None:
    (world.home / "monitor.toml").write_text("[feedback]\nmin_labels = 20\n")
    report = feedback("churn", labels=_labels(world, np.arange(0, 30)), id="customer_id",
                         target="churned")  # fmt: skip
    assert report.min_labels == 20
    assert _run(report, world.runs["v1"]).status in ("ok", "alert")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            {"model": "nope"},
            NotFoundError,
            "no model named 'nope'; registered: churn.",
        ),
        (
            {"id": "client"},
            DataError,
            "the labels have no id column 'client' (their columns: customer_id, churned); "
            "pass id= one of them.",
        ),
        (
            {"labels": "strings"},
            DataError,
            "churn@1: labels are strings ('no', 'yes') but the model predicts integers (0, 1): "
            "pass labels of the model's type; nothing was stored.",
        ),
        (
            {"labels": "string-ids"},
            DataError,
            "the labels' ids (customer_id) are strings but the logged ids are integers: pass "
            "ids of the type the predictions were logged with.",
        ),
        (
            {"model": "churn@2"},
            ConfigError,
            "feedback takes a model name, not 'churn@2': labels belong to every version of "
            "churn; pass 'churn'.",
        ),
        (
            {"min_labels": 0},
            ConfigError,
            "min_labels must be a positive whole number of labels, not 0.",
        ),
    ],
)
def test_bad_input_one_line_nothing_written(
    world: World, call: dict[str, Any], error: type[Exception], message: str
) -> None:
    labels = _labels(world, np.arange(0, 150))
    if call.get("labels") == "strings":
        labels = labels.assign(churned=np.where(labels["churned"] == 1, "yes", "no"))
    elif call.get("labels") == "string-ids":
        labels = labels.assign(customer_id=labels["customer_id"].astype(str))
    kwargs = {"id": "customer_id", "target": "churned", **call, "labels": labels}
    model = kwargs.pop("model", "churn")
    with pytest.raises(error) as info:
        feedback(model, **kwargs)
    assert str(info.value) == message
    assert "\n" not in str(info.value)
    assert _count(world.home, "label_sets") == 0
    assert _count(world.home, "feedback_results") == 0


def test_report_renders_text_html_and_mime(world: World) -> None:
    from modelbook.render import MIME_TYPE

    labels = pd.concat([_labels(world, np.arange(0, 150)),
                        pd.DataFrame({"customer_id": [99_001], "churned": [1]})])  # fmt: skip
    report = feedback("churn", labels=labels, id="customer_id", target="churned")
    bundle = report._repr_mimebundle_()
    assert "151 labels for churn: 150 matched, 1 unmatched" in bundle["text/plain"]
    html = bundle["text/html"]
    assert "<script" not in html and "<svg" not in html
    assert "99001" in html and "coverage" in html
    data = bundle[MIME_TYPE]
    assert data["type"] == "feedback_report"
    runs = {r["run_id"]: r for r in data["data"]["runs"]}
    assert runs[world.runs["v1"]]["coverage"] == pytest.approx(150 / len(world.X))


def test_history_shows_coverage_and_realized_quality(world: World) -> None:
    feedback("churn", labels=_labels(world, np.arange(0, 150)), id="customer_id",
                target="churned")  # fmt: skip
    history = mb.history("churn")
    by_id = {r.run_id: r for r in history.runs}
    v1 = by_id[world.runs["v1"]]
    assert v1.labelled == 150 and v1.coverage == pytest.approx(150 / len(world.X))
    expected = _expected(world, 1, np.arange(0, 150), world.y[:150])
    assert v1.realized["accuracy"] == pytest.approx(expected["accuracy"])
    assert by_id[world.runs["v1-other"]].coverage is None
    text = str(history)
    assert "coverage" in text and "realized accuracy" in text
    html = history._repr_mimebundle_()["text/html"]
    assert "realized accuracy" in html
    frame = history.to_frame()
    assert "coverage" in frame.columns
    assert frame["realized accuracy"].notna().sum() == 2  # the two labelled runs
    # The chart draws realized quality over time: the static image and the widget.
    assert "realized accuracy" in history.with_realized().metric_names
    from modelbook.widgets.history import HistoryWidget

    widget = HistoryWidget(history)
    assert "realized accuracy" in widget.metrics and "<svg" in widget.chart_svg


def test_magic_with_a_variable_and_a_path(world: World, ip: Any, tmp_path: Path) -> None:
    from IPython.core.error import UsageError

    ip.user_ns["late"] = _labels(world, np.arange(0, 150))
    report = ip.run_line_magic(
        "modelbook", "feedback churn --labels late --id customer_id --target churned"
    )
    assert report.matched == 150 and report.stored_runs == 2
    path = tmp_path / "late.parquet"
    _labels(world, np.arange(150, 200)).to_parquet(path)
    report = ip.run_line_magic(
        "modelbook", f"feedback churn --labels {path} --id customer_id --target churned "
        "--min-labels 10",
    )  # fmt: skip
    assert report.matched == 50 and report.min_labels == 10
    with pytest.raises(UsageError, match=r"^the labels have no id column 'client'"):
        ip.run_line_magic("modelbook", "feedback churn --labels late --id client --target churned")
    with pytest.raises(UsageError, match=r"^--labels 'missing' is neither a notebook variable"):
        ip.run_line_magic("modelbook", "feedback churn --labels missing --id x --target y")


def test_cli_json_and_exit_codes(world: World, cli: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    _labels(world, np.arange(0, 150)).to_parquet(good)
    args = ["feedback", "churn", "--labels", str(good), "--id", "customer_id",
            "--target", "churned", "--registry", str(world.home)]  # fmt: skip
    done = cli(*args, "--json")
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    assert data["matched"] == 150 and data["applied"] is True
    assert done.returncode == (1 if data["status"] == "alert" else 0)
    # Wrong labels: realized quality collapses → alert, exit 1.
    flipped = tmp_path / "flipped.parquet"
    _labels(world, np.arange(150, 269), flip=True).to_parquet(flipped)
    args[3] = str(flipped)
    done = cli(*args)
    assert done.returncode == 1, done.stderr
    assert "ALERT" in done.stdout or "alert" in done.stdout
    # Bad input: exit 3 (data error), one line on stderr, JSON error object.
    done = cli(*[a if a != "customer_id" else "client" for a in args], "--json")
    assert done.returncode == 3
    assert json.loads(done.stdout)["error"]["type"] == "DataError"
    assert done.stderr.strip().count("\n") == 0


def test_magic_in_a_real_kernel(world: World, tmp_path: Path) -> None:
    """``%modelbook feedback`` in a kernel process: a notebook variable as --labels."""
    import os

    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELBOOK_")}
    env["MODELBOOK_HOME"] = str(world.home)
    ids = ", ".join(str(i) for i in world.ids[:120])
    truth = ", ".join(str(int(v)) for v in world.y[:120])
    code = (
        "import pandas as pd\n%load_ext modelbook\n"
        f"late = pd.DataFrame({{'customer_id': [{ids}], 'churned': [{truth}]}})\n"
        "r = %modelbook feedback churn --labels late --id customer_id --target churned\n"
        "print('RESULT', r.matched, r.stored_runs, r.applied)\n"
        "%modelbook feedback churn --labels late --id nope --target churned\n"
    )
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    out: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append(f"ERROR {msg['content']['ename']}: {msg['content']['evalue']}")

    try:
        kc.execute_interactive(code, timeout=120, output_hook=hook)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    text = "".join(out)
    assert "RESULT 120 2 True" in text
    assert "UsageError: the labels have no id column 'nope'" in text  # one line, no traceback
    assert "Traceback" not in text


@pytest.mark.parametrize("dataset", ["iris", "diabetes"])
def test_multiclass_and_regression_match_sklearn(registry: Path, dataset: str) -> None:
    """Multiclass (iris: macro averages; no roc_auc_ovr, the log keeps the top probability only)
    and regression (diabetes: mae, rmse, r2) realized on the labelled rows."""
    from sklearn import datasets
    from sklearn.linear_model import LinearRegression, LogisticRegression

    X, y = getattr(datasets, f"load_{dataset}")(return_X_y=True, as_frame=True)
    model = (LogisticRegression(max_iter=5000) if dataset == "iris" else LinearRegression()).fit(
        X, y
    )
    mb.register(model, name="m", data=X, target=y)
    ids = np.arange(len(X)) * 7 + 3
    run = mb.monitor("m", data=X.assign(key=ids), id="key").run_id
    rows = np.arange(0, len(X), 2)[:120]
    labels = pd.DataFrame({"key": ids[rows], "truth": y.to_numpy()[rows]})
    report = feedback("m", labels=labels, id="key", target="truth")
    realized = _run(report, run)
    assert realized.stored and realized.labelled == len(rows)
    predicted = model.predict(X.iloc[rows])
    truth = y.to_numpy()[rows]
    if dataset == "iris":
        expected = {
            "accuracy": skm.accuracy_score(truth, predicted),
            "precision_macro": skm.precision_score(truth, predicted, average="macro"),
            "recall_macro": skm.recall_score(truth, predicted, average="macro"),
            "f1_macro": skm.f1_score(truth, predicted, average="macro"),
        }
    else:
        expected = {
            "mae": skm.mean_absolute_error(truth, predicted),
            "rmse": skm.root_mean_squared_error(truth, predicted),
            "r2": skm.r2_score(truth, predicted),
        }
    assert set(realized.metrics) == set(expected)
    for name, value in expected.items():
        assert realized.metrics[name] == pytest.approx(value, rel=1e-9), name
