"""Quality metrics against scikit-learn, task inference, and input errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from modelbook.errors import DataError
from modelbook.stats.metrics import infer_task, quality_metrics


def test_binary_classification_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    score = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1)
    pred = (score > 0.5).astype(int)
    got = quality_metrics(y, pred, y_score=score)
    assert got == pytest.approx(
        {
            "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred),
            "recall": skm.recall_score(y, pred),
            "f1": skm.f1_score(y, pred),
            "roc_auc": skm.roc_auc_score(y, score),
        },
        abs=1e-12,
    )
    # A probability matrix gives the same AUC; string labels work as classes.
    proba = np.column_stack([1 - score, score])
    assert quality_metrics(y, pred, y_score=proba)["roc_auc"] == pytest.approx(got["roc_auc"])
    labels = np.array(["no", "yes"])
    s = quality_metrics(pd.Series(labels[y]), labels[pred], y_score=score)
    assert s["f1"] == pytest.approx(skm.f1_score(labels[y], labels[pred], pos_label="yes"))


def test_multiclass_is_macro_averaged() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 800)
    proba = rng.dirichlet(np.ones(4), 800)
    proba[np.arange(800), y] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    got = quality_metrics(y, pred, y_score=proba)
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))


def test_regression_matches_sklearn() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(10, 3, 300)
    pred = y + rng.normal(0, 1, 300)
    got = quality_metrics(y, pred)
    assert got == pytest.approx(
        {
            "mae": skm.mean_absolute_error(y, pred),
            "rmse": math.sqrt(skm.mean_squared_error(y, pred)),
            "r2": skm.r2_score(y, pred),
        }
    )


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        ([0, 1, 1, 0] * 25, "classification"),
        (["a", "b", "c"] * 10, "classification"),
        ([True, False] * 10, "classification"),
        ([0.0, 1.0, 2.0] * 100, "classification"),
        ([0.5, 1.0, 2.0] * 100, "regression"),
        (list(range(1_000)), "regression"),
        (list(range(15)) * 20, "classification"),
    ],
)
def test_task_inference(labels: list[Any], task: str) -> None:
    assert infer_task(labels) == task


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"y_true": [1, 0, 1], "y_pred": [1, 0]},
            "y_true has 3 labels but y_pred has 2 predictions; they must be the same length.",
        ),
        ({"y_true": [], "y_pred": []}, "Cannot compute metrics on empty labels."),
        (
            {"y_true": [1, 0], "y_pred": [1, 0], "task": "ranking"},
            "task must be one of classification, regression, got 'ranking'.",
        ),
        (
            {"y_true": [1, 0], "y_pred": [1, 0], "y_score": [0.3]},
            "y_score has 1 rows but y_true has 2; they must be the same length.",
        ),
        (
            {"y_true": [[1, 2], [3, 4]], "y_pred": [1, 2]},
            "y_true must be one-dimensional, got shape (2, 2).",
        ),
    ],
)
def test_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError) as info:
        quality_metrics(**kwargs)
    assert str(info.value) == message
