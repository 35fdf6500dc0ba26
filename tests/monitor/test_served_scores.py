"""Models served elsewhere: ``scores=`` / ``predicted=`` (``--scores``, ``--predicted``) read the
model's outputs from columns of the batch instead of calling ``predict``.

The same rows must give the same estimates and prediction drift as calling the model; NaN or
out-of-range scores are a ``stability.scores`` alert with counts and are left out of estimation
(said so); classes the model never had are stated and left out; bad columns are one-line errors
and store nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from estimation_data import Registered, cancer, wine, with_outputs

import modelbook
from modelbook.errors import DataError
from modelbook.monitoring import MonitorReport

BINARY = ("roc_auc", "accuracy", "precision", "recall", "f1")


@pytest.fixture(scope="module")
def _cancer(tmp_path_factory: pytest.TempPathFactory) -> Registered:
    return cancer(tmp_path_factory.mktemp("cancer") / ".modelbook")


@pytest.fixture
def reg(registry: Path, _cancer: Registered) -> Registered:
    return _cancer.copy_to(registry)


@pytest.fixture(scope="module")
def _wine(tmp_path_factory: pytest.TempPathFactory) -> Registered:
    return wine(tmp_path_factory.mktemp("wine") / ".modelbook")


@pytest.fixture
def wine_reg(registry: Path, _wine: Registered) -> Registered:
    return _wine.copy_to(registry)


def _values(report: MonitorReport) -> dict[str, Any]:
    return {m: e["value"] for m, e in report.estimated.items()}


def _check(report: MonitorReport, name: str) -> Any:
    found = [c for c in report.checks if c.check == name]
    assert len(found) == 1, [str(c) for c in report.checks]
    return found[0]


def test_served_columns_give_the_same_estimates_as_predict(reg: Registered) -> None:
    served = with_outputs(reg.model, reg.X_batch, names=["p_benign"])
    called = modelbook.monitor("cancer", data=reg.X_batch, store="none")
    read = modelbook.monitor(
        "cancer", data=served, scores="p_benign", predicted="predicted", store="none"
    )
    scores_only = modelbook.monitor(
        "cancer", data=served.drop(columns="predicted"), scores=["p_benign"], store="none"
    )
    two = with_outputs(reg.model, reg.X_batch, names=["p_malignant", "p_benign"])
    two = two.drop(columns="predicted")  # the class is read off the scores (P ≥ 0.5)
    both = modelbook.monitor("cancer", data=two, scores=["p_malignant", "p_benign"], store="none")
    for report in (read, scores_only, both):
        assert set(report.estimated) == set(BINARY)
        for metric in BINARY:
            assert report.estimated[metric]["value"] == pytest.approx(
                called.estimated[metric]["value"], abs=1e-12
            ), metric
            assert report.estimated[metric]["band_lower"] == called.estimated[metric]["band_lower"]
        # Outputs, not inputs: no schema finding about them, no drift test of them as features.
        assert not [c for c in report.checks if c.check.startswith("schema.")], report.summary()
        assert report.drift is not None
        tested = {c.column for c in report.drift.columns}
        assert not {"p_benign", "predicted", "p_malignant"} & tested
        # Prediction drift reads the served scores, against the model's on the reference.
        assert report.prediction_drift is not None and called.prediction_drift is not None
        assert report.prediction_drift.statistic == pytest.approx(called.prediction_drift.statistic)
        assert report.serving == {}  # nothing was timed: predict was not called
        stable = _check(report, "stability.scores")
        assert (stable.status, stable.message) == ("ok", "all 180 rows have scores in [0, 1]")


def test_nan_and_out_of_range_scores_alert_and_are_left_out(reg: Registered) -> None:
    served = with_outputs(reg.model, reg.X_batch, names=["p_benign"]).reset_index(drop=True)
    bad = served.copy()
    bad.loc[[0, 1, 2, 3, 4], "p_benign"] = np.nan
    bad.loc[[5, 6, 7], "p_benign"] = 1.7
    bad.loc[[8, 9], "p_benign"] = -0.1
    report = modelbook.monitor("cancer", data=bad, scores="p_benign", predicted="predicted")
    stable = _check(report, "stability.scores")
    assert stable.status == "alert"
    assert stable.message == (
        "5 rows with NaN scores and 5 with scores outside [0, 1] (5.56% of 180): "
        "left out of estimated performance"
    )
    assert stable.statistic == pytest.approx(10 / 180)
    assert stable.column == "p_benign"
    note = _check(report, "performance.estimated")
    assert (note.status, note.message) == (
        "info",
        "10 rows with NaN or out-of-range scores left out; estimated on the other 170 of 180 rows",
    )
    assert report.status == "alert"
    # The estimate is the one of the valid rows alone.
    valid = modelbook.monitor(
        "cancer", data=served.iloc[10:], scores="p_benign", predicted="predicted", store="none"
    )
    for metric in BINARY:
        assert report.estimated[metric]["n"] == 170
        assert report.estimated[metric]["value"] == pytest.approx(
            valid.estimated[metric]["value"], abs=1e-12
        )
    roc = _check(report, "performance.estimated.roc_auc")
    assert "±3 SE on 170 rows" in roc.message
    assert roc.message.endswith("; 10 rows left out (see performance.estimated)")


def test_too_few_valid_scores_are_insufficient(reg: Registered) -> None:
    served = with_outputs(reg.model, reg.X_batch, names=["p_benign"]).reset_index(drop=True)
    served.loc[40:, "p_benign"] = np.nan
    report = modelbook.monitor("cancer", data=served, scores="p_benign", store="none")
    roc = _check(report, "performance.estimated.roc_auc")
    assert roc.status == "info"
    assert roc.message.startswith("roc_auc not estimated: 40 rows; estimation needs at least 50")
    assert report.estimated["roc_auc"]["status"] == "insufficient"
    assert _check(report, "stability.scores").status == "alert"


def test_predicted_classes_the_model_never_had_are_left_out(reg: Registered) -> None:
    served = with_outputs(reg.model, reg.X_batch, names=["p_benign"]).reset_index(drop=True)
    served.loc[[0, 1, 2], "predicted"] = 7
    report = modelbook.monitor(
        "cancer", data=served, scores="p_benign", predicted="predicted", store="none"
    )
    note = _check(report, "performance.estimated")
    assert note.status == "info"
    assert note.message == (
        "3 predicted classes the model never had ('7') left out; "
        "estimated on the other 177 of 180 rows"
    )
    assert report.estimated["roc_auc"]["n"] == 177
    assert not [c for c in report.checks if c.status == "error"], report.summary()


def test_string_classes_served_as_probability_columns(wine_reg: Registered) -> None:
    classes = list(wine_reg.model.classes_)
    assert classes == ["barbera", "barolo", "grignolino"]
    names = [f"p_{c}" for c in classes]
    served = with_outputs(wine_reg.model, wine_reg.X_batch, names=names).reset_index(drop=True)
    y = wine_reg.y_batch.reset_index(drop=True)
    called = modelbook.monitor("wine", data=wine_reg.X_batch, target=wine_reg.y_batch)
    read = modelbook.monitor("wine", data=served, target=y, scores=names, predicted="predicted")
    assert set(read.estimated) == set(called.estimated)
    for metric, e in read.estimated.items():
        assert e["value"] == pytest.approx(called.estimated[metric]["value"], abs=1e-12), metric
        assert e["realized"] == pytest.approx(called.estimated[metric]["realized"], abs=1e-12)
    assert not [c for c in read.checks if c.check.startswith("schema.")]
    # A class the model never had among the served predictions: stated and left out.
    served.loc[[0, 1], "predicted"] = "merlot"
    odd = modelbook.monitor("wine", data=served, scores=names, predicted="predicted")
    note = _check(odd, "performance.estimated")
    assert note.message.startswith("2 predicted classes the model never had ('merlot') left out")
    assert odd.estimated["accuracy"]["n"] == len(served) - 2


def test_a_binary_model_served_with_predictions_only(reg: Registered) -> None:
    served = with_outputs(reg.model, reg.X_batch, names=["p_benign"])
    report = modelbook.monitor("cancer", data=served, predicted="predicted", store="none")
    # Prediction drift compares the predicted classes (the scores are not there).
    assert report.prediction_drift is not None
    assert report.prediction_drift.kind == "categorical"
    note = _check(report, "performance.estimated")
    assert (note.status, note.message) == (
        "info",
        "performance not estimated: it needs the model's probabilities: pass scores= "
        "(the batch columns holding them)",
    )
    assert report.estimated == {}


def test_a_dataset_version_compares_its_served_column(registry: Path) -> None:
    rng = np.random.default_rng(0)
    n = 2_000
    reference = pd.DataFrame({"x": rng.normal(size=n), "score": rng.beta(2, 5, n)})
    modelbook.register(reference, name="scored")
    same = pd.DataFrame({"x": rng.normal(size=n), "score": rng.beta(2, 5, n)})
    moved = same.assign(score=rng.beta(5, 2, n))
    quiet = modelbook.monitor("scored", data=same, scores="score")
    loud = modelbook.monitor("scored", data=moved, scores="score")
    assert _check(quiet, "drift.prediction").status == "ok"
    drifted = _check(loud, "drift.prediction")
    assert drifted.status == "alert" and drifted.column == "score"
    assert loud.prediction_drift is not None and loud.prediction_drift.drifted
    missing = modelbook.monitor("scored", data=same.assign(p=0.5), scores="p", store="none")
    assert _check(missing, "drift.prediction").message == (
        "the reference scored@1 has no column 'p': prediction drift not tested"
    )
    assert not [c for c in missing.checks if c.check == "schema.unexpected"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"scores": "nope"},
            "model output column 'nope' not in the batch (columns: mean radius, mean texture, "
            "mean perimeter, mean area, mean smoothness, mean compactness, mean concavity, "
            "mean concave points, mean symmetry, mean fractal dimension, radius error, "
            "texture error, perimeter error, area error, smoothness error, compactness error, "
            "concavity error, concave points error, symmetry error, fractal dimension error): "
            "pass the columns that hold the served model's scores / predictions.",
        ),
        (
            {"scores": ["p_benign", "p_benign"]},
            "scores= names a column twice: 'p_benign', 'p_benign'.",
        ),
        (
            {"scores": ["p_benign", "predicted", "mean radius"]},
            "scores= names 3 columns but the model has 2 classes (0, 1): name one column "
            "(P of classes_[1]) or two, in that order.",
        ),
        (
            {"predicted": ["predicted", "p_benign"]},
            "predicted= names 2 columns: pass the one "
            "batch column that holds the predicted class or value.",
        ),
        (
            {"scores": 3},
            "scores= must name columns of the batch (a string or a list of strings); got int.",
        ),
    ],
)
def test_bad_served_columns_are_one_line_errors_and_store_nothing(
    reg: Registered, kwargs: dict[str, Any], message: str
) -> None:
    served = with_outputs(reg.model, reg.X_batch, names=["p_benign"])
    with pytest.raises(DataError) as caught:
        modelbook.monitor("cancer", data=served, **kwargs)
    assert str(caught.value) == message
    assert modelbook.history("cancer").runs == ()


def test_scores_for_a_regressor_are_refused(registry: Path) -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    modelbook.register(Ridge().fit(X, y), name="sugar", data=X, target=y)
    batch = X.assign(pred=0.5)
    with pytest.raises(DataError) as caught:
        modelbook.monitor("sugar", data=batch, scores="pred")
    assert str(caught.value) == (
        "scores= is for classifiers; this model is a regressor: pass predicted= "
        "(the column of predicted values)."
    )
    report = modelbook.monitor("sugar", data=batch, predicted="pred", store="none")
    assert report.prediction_drift is not None
    assert report.prediction_drift.drifted  # a constant 0.5 is nothing like its predictions


def test_magic_flags_in_a_real_kernel(ip: Any, reg: Registered) -> None:
    served = with_outputs(reg.model, reg.X_batch, names=["p_malignant", "p_benign"])
    ip.user_ns["served"] = served
    report = ip.run_line_magic(
        "monitor", "cancer --data served --scores p_malignant p_benign --predicted predicted"
    )
    api = modelbook.monitor(
        "cancer", data=served, scores=["p_malignant", "p_benign"], predicted="predicted"
    )
    assert _values(report) == pytest.approx(_values(api), abs=1e-12)
    comma = ip.run_line_magic("monitor", "cancer --data served --scores p_malignant,p_benign")
    assert _values(comma) == pytest.approx(_values(api), abs=1e-12)
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("monitor", "cancer --data served --scores nope")
    assert str(caught.value).startswith("model output column 'nope' not in the batch")
    assert "\n" not in str(caught.value)


def test_cli_flags(reg: Registered, tmp_path: Path) -> None:
    path = tmp_path / "served.parquet"
    served = with_outputs(reg.model, reg.X_batch, names=["p_benign"])
    served.to_parquet(path)
    done = subprocess.run(
        [sys.executable, "-m", "modelbook", "monitor", "cancer", "--data", str(path),
         "--scores", "p_benign", "--predicted", "predicted", "--json"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "MODELBOOK_HOME": str(reg.home)},
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    api = modelbook.monitor(
        "cancer", data=str(path), scores="p_benign", predicted="predicted", store="none"
    )
    assert {m: e["value"] for m, e in data["estimated"].items()} == pytest.approx(
        _values(api), abs=1e-12
    )
    assert data["source"] == "cli"
    missing = subprocess.run(
        [sys.executable, "-m", "modelbook", "monitor", "cancer", "--data", str(path),
         "--scores", "nope"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "MODELBOOK_HOME": str(reg.home)},
    )  # fmt: skip
    assert missing.returncode == 3, missing.stderr  # a DataError: exit 3, the message on stderr
    assert "model output column 'nope' not in the batch" in missing.stderr


def test_served_at_registration_and_in_monitoring(registry: Path, _cancer: Registered) -> None:
    """eval_scores= at registration and scores= in the run: predict is never needed for them,
    and the estimates are the ones of a model that predicted both sets itself."""
    r = _cancer
    evaluation = with_outputs(r.model, r.X_eval, names=["p_benign"]).drop(columns="predicted")
    modelbook.register(
        r.model,
        name="served",
        data=r.X_train,
        target=r.y_train,
        eval_data=evaluation,
        eval_target=r.y_eval,
        eval_scores="p_benign",
    )
    batch = with_outputs(r.model, r.X_batch, names=["p_benign"]).drop(columns="predicted")
    served = modelbook.monitor("served", data=batch, scores="p_benign", store="none")
    reference = r.copy_to(registry.parent / "reference" / ".modelbook")
    called = modelbook.monitor("cancer", data=r.X_batch, store="none", registry=reference.home)
    for metric in BINARY:
        assert served.estimated[metric]["value"] == pytest.approx(
            called.estimated[metric]["value"], abs=1e-9
        ), metric
        assert served.estimated[metric]["registered"] == pytest.approx(
            called.estimated[metric]["registered"], abs=1e-9
        )
