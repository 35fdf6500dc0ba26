"""Quality metrics against scikit-learn, task inference, and input errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from modelbook.errors import DataError
from modelbook.stats.metrics import (
    infer_task,
    label_type_mismatch,
    lookup_metric,
    quality_metrics,
    unavailable_reason,
)


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


def test_multiclass_names_the_averaging() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 800)
    proba = rng.dirichlet(np.ones(4), 800)
    proba[np.arange(800), y] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    got = quality_metrics(y, pred, y_score=proba)
    assert list(got) == ["accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc_ovr"]
    assert got["precision_macro"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert got["recall_macro"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert got["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert got["roc_auc_ovr"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))


def _fitted(loader: Any) -> tuple[Any, Any, Any, Any]:
    """Labels, predictions, probabilities and classes of a model on a held-out split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2_000))
    model.fit(X_train, y_train)
    return y_test, model.predict(X_test), model.predict_proba(X_test), model.classes_


#: Every multiclass metric by scikit-learn's name, computed by scikit-learn.
SKLEARN_MULTICLASS = {
    "accuracy": lambda y, p, s, c: skm.accuracy_score(y, p),
    "balanced_accuracy": lambda y, p, s, c: skm.balanced_accuracy_score(y, p),
    "matthews_corrcoef": lambda y, p, s, c: skm.matthews_corrcoef(y, p),
    **{
        f"{base}_{average}": (
            lambda y, p, s, c, base=base, average=average: getattr(skm, f"{base}_score")(
                y, p, average=average, zero_division=0
            )
        )
        for base in ("precision", "recall", "f1", "jaccard")
        for average in ("macro", "micro", "weighted")
    },
    "roc_auc_ovr": lambda y, p, s, c: skm.roc_auc_score(y, s, multi_class="ovr", labels=c),
    "roc_auc_ovr_weighted": lambda y, p, s, c: skm.roc_auc_score(
        y, s, multi_class="ovr", average="weighted", labels=c
    ),
    "roc_auc_ovo": lambda y, p, s, c: skm.roc_auc_score(y, s, multi_class="ovo", labels=c),
    "roc_auc_ovo_weighted": lambda y, p, s, c: skm.roc_auc_score(
        y, s, multi_class="ovo", average="weighted", labels=c
    ),
    "log_loss": lambda y, p, s, c: skm.log_loss(y, s, labels=c),
}


@pytest.mark.parametrize("dataset", ["iris", "wine", "digits"])
def test_multiclass_metrics_match_sklearn_on_bundled_datasets(dataset: str) -> None:
    from sklearn import datasets

    y, pred, proba, classes = _fitted(getattr(datasets, f"load_{dataset}"))
    got = quality_metrics(
        y, pred, y_score=proba, classes=classes, extra=[*SKLEARN_MULTICLASS, "f1", "mae"]
    )
    # Binary-only and regression metrics do not apply to a multiclass model: left out.
    assert set(got) == set(SKLEARN_MULTICLASS)
    for name, reference in SKLEARN_MULTICLASS.items():
        assert got[name] == pytest.approx(reference(y, pred, proba, classes), abs=1e-12), name


def test_binary_metrics_match_sklearn_on_breast_cancer() -> None:
    from sklearn.datasets import load_breast_cancer

    y, pred, proba, classes = _fitted(load_breast_cancer)
    extra = ["f1_macro", "balanced_accuracy", "average_precision", "neg_log_loss", "brier_score"]
    extra += ["roc_auc_ovr", "jaccard"]
    got = quality_metrics(y, pred, y_score=proba[:, 1], classes=classes, extra=extra)
    positive = proba[:, 1]
    assert got == pytest.approx(
        {
            "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred),
            "recall": skm.recall_score(y, pred),
            "f1": skm.f1_score(y, pred),
            "roc_auc": skm.roc_auc_score(y, positive),
            "f1_macro": skm.f1_score(y, pred, average="macro"),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
            "average_precision": skm.average_precision_score(y, positive),
            "log_loss": skm.log_loss(y, proba),
            "brier_score": skm.brier_score_loss(y, positive),
            "roc_auc_ovr": skm.roc_auc_score(y, positive),
            "jaccard": skm.jaccard_score(y, pred),
        },
        abs=1e-12,
    )


def test_regression_extras_match_sklearn() -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True)
    pred = Ridge().fit(X[:300], y[:300]).predict(X[300:])
    y = y[300:]
    extra = ["neg_mean_squared_error", "explained_variance", "neg_median_absolute_error"]
    extra += ["mean_absolute_percentage_error", "max_error", "accuracy"]
    got = quality_metrics(y, pred, task="regression", extra=extra)
    assert got == pytest.approx(
        {
            "mae": skm.mean_absolute_error(y, pred),
            "rmse": skm.root_mean_squared_error(y, pred),
            "r2": skm.r2_score(y, pred),
            "mse": skm.mean_squared_error(y, pred),
            "explained_variance": skm.explained_variance_score(y, pred),
            "median_absolute_error": skm.median_absolute_error(y, pred),
            "mape": skm.mean_absolute_percentage_error(y, pred),
            "max_error": skm.max_error(y, pred),
        },
        abs=1e-9,
    )


def test_one_vs_rest_auc_with_a_class_absent_from_the_batch() -> None:
    """scikit-learn refuses the score; the classes present are averaged (module docstring)."""
    y, pred, proba, classes = _fitted(__import__("sklearn.datasets").datasets.load_iris)
    keep = y != 2
    got = quality_metrics(y[keep], pred[keep], y_score=proba[keep], classes=classes)
    present = [skm.roc_auc_score(y[keep] == c, proba[keep][:, c]) for c in (0, 1)]
    assert got["roc_auc_ovr"] == pytest.approx(np.mean(present), abs=1e-12)
    # Two classes present but three in the model: still multiclass names.
    assert "f1_macro" in got and "f1" not in got


@pytest.mark.parametrize(
    ("name", "metric", "sign"),
    [
        ("f1_macro", "f1_macro", 1.0),
        ("F1-Macro", "f1_macro", 1.0),
        ("auc", "roc_auc", 1.0),
        ("roc_auc_ovr_weighted", "roc_auc_ovr_weighted", 1.0),
        ("neg_mean_absolute_error", "mae", -1.0),
        ("neg_root_mean_squared_error", "rmse", -1.0),
        ("mean_squared_error", "mse", 1.0),
        ("neg_log_loss", "log_loss", -1.0),
        ("r2_score", "r2", 1.0),
    ],
)
def test_registered_names(name: str, metric: str, sign: float) -> None:
    found = lookup_metric(name)
    assert found is not None and (found[0].name, found[1]) == (metric, sign)


@pytest.mark.parametrize("name", ["custom_score", "neg_accuracy", "f1_samples", "loss"])
def test_unknown_names(name: str) -> None:
    assert lookup_metric(name) is None


@pytest.mark.parametrize(
    ("name", "task", "scores", "reason"),
    [
        (
            "f1",
            "multiclass",
            True,
            "f1 is the binary score of one positive class, and the model has 3 classes: "
            "register the averaging you used (f1_macro, f1_weighted, f1_micro)",
        ),
        (
            "roc_auc",
            "multiclass",
            True,
            "roc_auc is the binary ROC AUC, and the model has 3 classes: register roc_auc_ovr "
            "(one-vs-rest, macro) or roc_auc_ovr_weighted",
        ),
        (
            "roc_auc_ovr",
            "multiclass",
            False,
            "roc_auc_ovr needs predicted probabilities, and the model has no predict_proba",
        ),
        ("mae", "binary", True, "mae is a regression metric and the model is a classifier"),
        (
            "accuracy",
            "regression",
            False,
            "accuracy is a classification metric and the model is a regressor",
        ),
        ("f1_macro", "binary", False, None),
    ],
)
def test_why_a_metric_does_not_apply(
    name: str, task: str, scores: bool, reason: str | None
) -> None:
    found = lookup_metric(name)
    assert found is not None
    assert unavailable_reason(found[0], task=task, n_classes=3, scores=scores) == reason


def test_labels_of_another_type_than_the_predictions() -> None:
    labels = np.array(["setosa", "versicolor", "virginica"])[np.arange(30) % 3]
    with pytest.raises(DataError) as info:
        quality_metrics(labels, np.arange(30) % 3)
    assert str(info.value) == (
        "labels are strings ('setosa', 'versicolor', 'virginica') but predictions are integers "
        "(0, 1, 2): pass labels of the predictions' type."
    )
    assert label_type_mismatch([True, False], [0, 1]) is None
    assert label_type_mismatch([0.0, 1.0], [0, 1]) is None
    assert label_type_mismatch(np.array(["a", 1], dtype=object), ["a", "b"]) == (
        "of mixed types ('a', 1)",
        "strings ('a', 'b')",
    )


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


def test_the_positive_class_is_the_models_when_the_batch_lacks_it() -> None:
    """A batch of negatives only: F1 is about the model's positive class (classes_[1]), not
    about whichever label happens to be the largest in the batch."""
    got = quality_metrics([0, 0, 0, 0], [0, 0, 0, 0], classes=np.array([0, 1]))
    assert got == {"accuracy": 1.0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert quality_metrics(["no", "no"], ["no", "yes"], classes=np.array(["no", "yes"])) == {
        "accuracy": 0.5,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
    }
