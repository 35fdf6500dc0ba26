"""Quality under scikit-learn's metric names, registered metrics compared or explained, and labels
in every shape a user has them (issue 10: items 9, 11 and 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from monitor_data import labels_for, make_frame
from sklearn import metrics as skm

import modelbook
from modelbook.errors import DataError


def _split(dataset: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    X, y = getattr(datasets, f"load_{dataset}")(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    return X_train, X_test, y_train, y_test


def _classifier(X: pd.DataFrame, y: pd.Series) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2_000)).fit(X, y)


@pytest.mark.parametrize("dataset", ["iris", "wine", "digits"])
def test_registered_multiclass_metrics_are_compared(registry: Path, dataset: str) -> None:
    X_train, X_test, y_train, y_test = _split(dataset)
    model = _classifier(X_train, y_train)
    pred, proba = model.predict(X_test), model.predict_proba(X_test)
    expected = {
        "accuracy": skm.accuracy_score(y_test, pred),
        "precision_macro": skm.precision_score(y_test, pred, average="macro"),
        "recall_macro": skm.recall_score(y_test, pred, average="macro"),
        "f1_macro": skm.f1_score(y_test, pred, average="macro"),
        "roc_auc_ovr": skm.roc_auc_score(y_test, proba, multi_class="ovr"),
        "f1_weighted": skm.f1_score(y_test, pred, average="weighted"),
        "balanced_accuracy": skm.balanced_accuracy_score(y_test, pred),
        "roc_auc_ovr_weighted": skm.roc_auc_score(
            y_test, proba, multi_class="ovr", average="weighted"
        ),
        "log_loss": skm.log_loss(y_test, proba),
    }
    registered = {
        name: expected[name]
        for name in ("f1_macro", "f1_weighted", "roc_auc_ovr", "balanced_accuracy")
    }
    registered["roc_auc_ovr_weighted"] = expected["roc_auc_ovr_weighted"]
    registered["neg_log_loss"] = -expected["log_loss"]
    modelbook.register(model, name=dataset, data=X_train, target=y_train, metrics=registered)
    report = modelbook.monitor(dataset, data=X_test, target=y_test, store="none")
    assert report.metrics == pytest.approx(expected, abs=1e-12)
    quality = {c.check: c for c in report.checks if c.check.startswith("quality")}
    # The defaults are reported; every registered metric is compared (same data: no change).
    for name in ("accuracy", "precision_macro", "recall_macro"):
        assert quality[f"quality.{name}"].status == "info"
    for name in ("f1_macro", "f1_weighted", "roc_auc_ovr", "balanced_accuracy", "log_loss"):
        check = quality[f"quality.{name}"]
        assert check.status == "ok", check
        assert check.statistic == pytest.approx(0.0, abs=1e-12)
    assert quality["quality.f1_macro"].test == "drop"
    assert quality["quality.log_loss"].test == "relative increase"
    assert "quality" not in quality  # no note: nothing was left uncompared
    assert report.registered_metric("log_loss") == pytest.approx(expected["log_loss"])
    assert report.registered_metric("f1_macro") == registered["f1_macro"]
    assert report.registered_metric("accuracy") is None
    assert not any(c.check in ("quality.f1", "quality.precision") for c in report.checks)


def test_metrics_that_cannot_be_compared_say_why(registry: Path) -> None:
    from sklearn.linear_model import RidgeClassifier

    X_train, X_test, y_train, y_test = _split("iris")
    model = RidgeClassifier().fit(X_train, y_train)  # no predict_proba
    modelbook.register(
        model,
        name="ridge",
        data=X_train,
        target=y_train,
        metrics={
            "f1": 0.9,
            "AUC": 0.95,
            "roc_auc_ovr": 0.97,
            "mae": 0.1,
            "cv_score": 0.8,
            "f1-macro": 0.9,
        },
    )
    report = modelbook.monitor("ridge", data=X_test, target=y_test, store="none")
    notes = [c.message for c in report.checks if c.check == "quality"]
    assert notes == [
        "registered f1 = 0.9 was not compared: f1 is the binary score of one positive class, "
        "and the model has 3 classes: register the averaging you used (f1_macro, f1_weighted, "
        "f1_micro)",
        "registered AUC = 0.95 was not compared: roc_auc is the binary ROC AUC, and the model "
        "has 3 classes: register roc_auc_ovr (one-vs-rest, macro) or roc_auc_ovr_weighted",
        "registered roc_auc_ovr = 0.97 was not compared: roc_auc_ovr needs predicted "
        "probabilities, and the model has no predict_proba",
        "registered mae = 0.1 was not compared: mae is a regression metric and the model is a "
        "classifier",
        "registered cv_score = 0.8 was not compared: modelbook does not compute it (it compares "
        "scikit-learn's metric names, e.g. accuracy, f1_macro, roc_auc_ovr, "
        "neg_mean_absolute_error)",
    ]
    f1 = next(c for c in report.checks if c.check == "quality.f1_macro")
    assert f1.message.startswith("f1_macro = ") and "(registered 0.9, " in f1.message
    assert set(report.metrics) == {"accuracy", "precision_macro", "recall_macro", "f1_macro"}


def test_binary_models_keep_the_plain_names(trained: Any) -> None:
    """A binary model's f1 is sklearn's f1 (positive class): names unchanged for binary."""
    X = make_frame(2_000, seed=21)
    y = labels_for(X, seed=22)
    report = modelbook.monitor("churn", data=X, target=y, store="none")
    assert list(report.metrics) == ["accuracy", "precision", "recall", "f1", "roc_auc"]
    assert report.metrics["f1"] == pytest.approx(skm.f1_score(y, trained.model.predict(X)))


def test_string_labels_for_an_integer_classifier(registry: Path) -> None:
    X_train, X_test, y_train, y_test = _split("iris")
    modelbook.register(_classifier(X_train, y_train), name="iris", data=X_train, target=y_train)
    names = np.array(["setosa", "versicolor", "virginica"])
    report = modelbook.monitor("iris", data=X_test, target=names[y_test.to_numpy()])
    assert report.status == "error"
    assert [(c.check, c.message) for c in report.errors] == [
        (
            "quality",
            "labels are strings ('setosa', 'versicolor', 'virginica') but the model predicts "
            "integers (0, 1, 2): pass labels of the model's type",
        )
    ]
    assert report.metrics == {}
    # Labels of the right type but of classes the model never had: said as well.
    other = modelbook.monitor("iris", data=X_test, target=y_test + 10, store="none")
    assert [c.message for c in other.errors] == [
        "labels (10, 11, 12) are none of the model's classes (0, 1, 2): pass labels of the "
        "classes the model predicts"
    ]


def test_a_new_class_in_the_labels_is_noted(registry: Path) -> None:
    X_train, X_test, y_train, y_test = _split("iris")
    model = _classifier(X_train, y_train)
    modelbook.register(model, name="iris", data=X_train, target=y_train)
    labels = y_test.to_numpy().copy()
    labels[:9] = 3
    report = modelbook.monitor("iris", data=X_test, target=labels, store="none")
    notes = [c.message for c in report.checks if c.check == "quality"]
    assert notes == [
        "9 labels (20.00%) are classes the model never predicts (3): they count as errors"
    ]
    assert report.metrics["accuracy"] == pytest.approx(
        skm.accuracy_score(labels, model.predict(X_test)), abs=1e-12
    )


@pytest.mark.parametrize(
    "shape", ["unnamed series", "named series", "list", "tuple", "one-column frame", "column"]
)
def test_labels_in_every_shape(trained: Any, shape: str) -> None:
    """Unnamed Series, lists and tuples are labels like a 1-D array; the label column takes the
    training target's name (churned), so the labels' drift is reported under it."""
    X = make_frame(2_000, seed=21)
    y = labels_for(X, seed=22).to_numpy()
    target: Any = {
        "unnamed series": pd.Series(y),
        "named series": pd.Series(y, name="whatever"),
        "list": y.tolist(),
        "tuple": tuple(y.tolist()),
        "one-column frame": pd.DataFrame({"label": y}),
        "column": np.asarray(y).reshape(-1, 1),
    }[shape]
    report = modelbook.monitor("churn", data=X, target=target, store="none")
    baseline = modelbook.monitor("churn", data=X, target=y, store="none")
    assert report.metrics == baseline.metrics
    assert report.metrics["accuracy"] == pytest.approx(
        skm.accuracy_score(y, trained.model.predict(X))
    )
    label = next(c for c in report.checks if c.check == "drift.label")
    assert label.column == "churned"
    assert not any(c.check == "schema.unexpected" for c in report.checks)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            {"churned": [0, 1]},
            "cannot use a builtins.dict as target: expected the name of a column of the batch, "
            "or the labels as a pandas or polars Series, a 1-D numpy array, a list or a tuple.",
        ),
        (
            7,
            "cannot use a builtins.int as target: expected the name of a column of the batch, "
            "or the labels as a pandas or polars Series, a 1-D numpy array, a list or a tuple.",
        ),
        (
            pd.DataFrame({"a": [0, 1], "b": [1, 0]}),
            "target must be one column of labels; got a DataFrame with 2 columns: pass one of "
            "them, e.g. target=df['a'].",
        ),
        (
            np.zeros((4_000, 2)),
            "target must be one column of labels; got an array of shape (4000, 2): pass one label "
            "per row.",
        ),
        (
            [0, "yes"] * 2_000,
            "target labels cannot be read: Could not convert 'yes' with type str: tried to "
            "convert to int64; give every label one type.",
        ),
        (
            [0, 1, 1],
            "target has 3 labels but the batch has 4,000 rows: pass the labels that belong to "
            "this batch.",
        ),
    ],
)
def test_bad_labels(trained: Any, batch: pd.DataFrame, target: Any, message: str) -> None:
    with pytest.raises(DataError) as info:
        modelbook.monitor("churn", data=batch, target=target, store="none")
    assert str(info.value) == message
    assert "2-D" not in message
