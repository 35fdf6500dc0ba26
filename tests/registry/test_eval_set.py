"""The evaluation set at registration, on a real registry on disk.

Real data with a real train/validation split (breast_cancer: binary; wine: multiclass, also with
string class labels; diabetes: regression). The measured metrics are compared with
scikit-learn's on the validation rows; the stored estimation state is compared with the one
``fit_estimation`` returned; gc, check and a failure mid-registration are exercised on disk.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split

import modelbook as mb
from modelbook import catalog
from modelbook.errors import DataError, IntegrityError
from modelbook.results import ModelVersion
from team_server import registry_connection

Split = tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]


def _split(loader: Any, *, test_size: float = 0.3) -> Split:
    X, y = loader(return_X_y=True, as_frame=True)
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=test_size, random_state=0, stratify=y if test_size > 0.5 else None
    )
    return X_train, X_val, y_train, y_val


@pytest.fixture(scope="module")
def cancer() -> tuple[Split, LogisticRegression]:
    split = _split(load_breast_cancer)
    model = LogisticRegression(max_iter=5000).fit(split[0], split[2])
    return split, model


@pytest.fixture(scope="module")
def wine_named() -> tuple[Split, LogisticRegression]:
    """Wine with string class labels, so classes_ are strings (107 validation rows: estimation
    needs at least 100)."""
    X_train, X_val, y_train, y_val = _split(load_wine, test_size=0.6)
    names = np.array(["barolo", "grignolino", "barbera"])
    y_train = pd.Series(names[y_train.to_numpy()], index=y_train.index, name="cultivar")
    y_val = pd.Series(names[y_val.to_numpy()], index=y_val.index, name="cultivar")
    model = LogisticRegression(max_iter=10000).fit(X_train, y_train)
    return (X_train, X_val, y_train, y_val), model


@pytest.fixture(scope="module")
def diabetes() -> tuple[Split, Ridge]:
    split = _split(load_diabetes)
    return split, Ridge(alpha=0.1).fit(split[0], split[2])


def _row(name: str, version: int) -> dict[str, Any]:
    return catalog.open_registry().model_version(name, version)


def _blobs(registry: Path) -> set[str]:
    objects = registry / "objects"
    if not objects.is_dir():
        return set()
    return {
        sub.name + f.name for sub in objects.iterdir() if len(sub.name) == 2 for f in sub.iterdir()
    }


# -- measured metrics equal scikit-learn's ----------------------------------------------------


def test_binary_measured_metrics_are_sklearns(registry: Path, cancer: Any) -> None:
    (X_train, X_val, y_train, y_val), model = cancer
    version = mb.register(
        model,
        name="cancer",
        data=X_train,
        target=y_train,
        eval_data=X_val,
        eval_target=y_val,
        metrics={"auc": 0.5},
    )
    assert isinstance(version, ModelVersion)
    assert version.evaluation == "cancer-eval@1"
    assert version.metrics == {"auc": 0.5}  # the user's metrics stay as given
    predicted = model.predict(X_val)
    proba = model.predict_proba(X_val)[:, 1]
    expected = {
        "accuracy": skm.accuracy_score(y_val, predicted),
        "precision": skm.precision_score(y_val, predicted),
        "recall": skm.recall_score(y_val, predicted),
        "f1": skm.f1_score(y_val, predicted),
        "roc_auc": skm.roc_auc_score(y_val, proba),
    }
    assert version.measured_metrics == pytest.approx(expected, abs=1e-12)
    assert set(version.measured_metrics) == set(expected)
    # The evaluation set is a normal dataset version, its labels a column of it.
    stored = mb.show("cancer-eval@1")
    assert (stored.n_rows, stored.target) == (len(X_val), "target")
    assert mb.load("cancer-eval@1")["target"].tolist() == y_val.tolist()
    # show, text, HTML and the MIME data all carry it.
    shown = mb.show("cancer")
    assert isinstance(shown, ModelVersion)
    assert shown.measured_metrics == version.measured_metrics
    text = str(shown)
    assert "measured on cancer-eval@1: accuracy=" in text
    assert "metrics: auc=0.5" in text
    bundle = shown._repr_mimebundle_()
    assert "evaluated on" in bundle["text/html"]
    assert "Measured on <code>cancer-eval@1</code>" in bundle["text/html"]
    data = bundle["application/vnd.modelbook.v1+json"]
    payload = data.get("data", data)
    assert payload["evaluation"] == "cancer-eval@1"
    assert payload["measured_metrics"]["roc_auc"] == pytest.approx(expected["roc_auc"])


def test_multiclass_string_labels_and_target_column(registry: Path, wine_named: Any) -> None:
    (X_train, X_val, y_train, y_val), model = wine_named
    eval_frame = X_val.assign(cultivar=y_val)  # the labels as a column of eval_data
    version = mb.register(
        model,
        name="wine",
        data=X_train,
        target=y_train,
        eval_data=eval_frame,
        eval_target="cultivar",
    )
    assert isinstance(version, ModelVersion)
    predicted = model.predict(X_val)
    proba = model.predict_proba(X_val)
    expected = {
        "accuracy": skm.accuracy_score(y_val, predicted),
        "precision_macro": skm.precision_score(y_val, predicted, average="macro"),
        "recall_macro": skm.recall_score(y_val, predicted, average="macro"),
        "f1_macro": skm.f1_score(y_val, predicted, average="macro"),
        "roc_auc_ovr": skm.roc_auc_score(
            y_val, proba, multi_class="ovr", labels=list(model.classes_)
        ),
    }
    assert version.measured_metrics == pytest.approx(expected, abs=1e-12)
    estimation = catalog.stored_estimation(catalog.open_registry(), _row("wine", 1))
    assert estimation is not None
    assert estimation.state.task == "multiclass"
    assert tuple(estimation.state.classes) == tuple(model.classes_.tolist())
    assert estimation.loss_model is None
    assert estimation.evaluation == "wine-eval@1"


def test_regression_measured_metrics_and_loss_model_roundtrip(
    registry: Path, diabetes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelbook.stats import estimation

    (X_train, X_val, y_train, y_val), model = diabetes
    fitted: list[Any] = []
    real = estimation.fit_estimation

    def capture(**kwargs: Any) -> Any:
        out = real(**kwargs)
        fitted.append(out)
        return out

    monkeypatch.setattr(estimation, "fit_estimation", capture)
    version = mb.register(
        model, name="dia", data=X_train, target=y_train, eval_data=X_val, eval_target=y_val
    )
    assert isinstance(version, ModelVersion)
    predicted = model.predict(X_val)
    expected = {
        "mae": skm.mean_absolute_error(y_val, predicted),
        "rmse": math.sqrt(skm.mean_squared_error(y_val, predicted)),
        "r2": skm.r2_score(y_val, predicted),
    }
    assert version.measured_metrics == pytest.approx(expected, rel=1e-12)
    [(state, loss_model)] = fitted
    stored = catalog.stored_estimation(catalog.open_registry(), _row("dia", 1))
    assert stored is not None
    assert stored.state.to_bytes() == state.to_bytes()
    assert stored.state.task == "regression"
    assert stored.measured == pytest.approx(expected, rel=1e-12)
    assert type(stored.loss_model) is type(loss_model)
    inner = getattr(stored.loss_model, "estimators_", [stored.loss_model])
    assert all(isinstance(m, HistGradientBoostingRegressor) for m in inner)
    # The stored loss model estimates exactly what the fitted one does (public API only).
    batch = X_val.iloc[:60]
    estimates = [
        estimation.estimate(
            stored.state, predicted=model.predict(batch), features=batch, loss_model=loss
        )
        for loss in (stored.loss_model, loss_model)
    ]
    assert [e.value for e in estimates[0]] == [e.value for e in estimates[1]]
    assert all(e.value is not None for e in estimates[0])


def test_binary_state_roundtrips(
    registry: Path, cancer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelbook.stats import estimation

    (X_train, X_val, y_train, y_val), model = cancer
    fitted: list[Any] = []
    real = estimation.fit_estimation
    monkeypatch.setattr(
        estimation, "fit_estimation", lambda **kw: fitted.append(real(**kw)) or fitted[-1]
    )
    mb.register(model, name="c", data=X_train, target=y_train, eval_data=X_val, eval_target=y_val)
    stored = catalog.stored_estimation(catalog.open_registry(), _row("c", 1))
    assert stored is not None
    assert stored.state.to_bytes() == fitted[0][0].to_bytes()
    assert stored.state.n_eval == len(X_val)
    assert tuple(stored.state.classes) == (0, 1)


def test_without_an_evaluation_set_nothing_changes(registry: Path, cancer: Any) -> None:
    (X_train, _X_val, y_train, _y_val), model = cancer
    version = mb.register(model, name="plain", data=X_train, target=y_train)
    assert isinstance(version, ModelVersion)
    assert (version.evaluation, dict(version.measured_metrics)) == (None, {})
    assert "measured on" not in str(version)
    row = _row("plain", 1)
    assert row["eval_dataset"] is None and row["estimator"] is None
    assert catalog.stored_estimation(catalog.open_registry(), row) is None
    assert mb.register(model, name="plain", data=X_train, target=y_train).reused


# -- models served elsewhere: eval_scores ------------------------------------------------------


class Served:
    """A model served elsewhere: it knows its classes but must not be asked to predict."""

    def __init__(self, classes: list[Any]) -> None:
        self.classes_ = np.asarray(classes)

    def predict(self, X: Any) -> Any:
        raise AssertionError("predict must not be called when eval_scores are given")


def test_eval_scores_binary_without_predict(registry: Path, cancer: Any) -> None:
    (_X_train, X_val, _y_train, y_val), model = cancer
    proba = model.predict_proba(X_val)[:, 1]
    frame = X_val.assign(p_malignant=proba, label=y_val.to_numpy())
    version = mb.register(
        Served([0, 1]),
        name="served",
        eval_data=frame,
        eval_target="label",
        eval_scores="p_malignant",
    )
    assert isinstance(version, ModelVersion)
    predicted = (proba >= 0.5).astype(int)
    assert version.measured_metrics == pytest.approx(
        {
            "accuracy": skm.accuracy_score(y_val, predicted),
            "precision": skm.precision_score(y_val, predicted),
            "recall": skm.recall_score(y_val, predicted),
            "f1": skm.f1_score(y_val, predicted),
            "roc_auc": skm.roc_auc_score(y_val, proba),
        },
        abs=1e-12,
    )
    assert catalog.stored_estimation(catalog.open_registry(), _row("served", 1)) is not None


def test_eval_scores_multiclass(registry: Path, wine_named: Any) -> None:
    (_X_train, X_val, _y_train, y_val), model = wine_named
    proba = model.predict_proba(X_val)
    names = [f"p_{c}" for c in model.classes_]
    frame = X_val.assign(**{n: proba[:, j] for j, n in enumerate(names)})
    version = mb.register(
        Served(list(model.classes_)),
        name="served-wine",
        eval_data=frame,
        eval_target=y_val,
        eval_scores=names,
    )
    assert isinstance(version, ModelVersion)
    predicted = model.classes_[np.argmax(proba, axis=1)]
    assert version.measured_metrics["accuracy"] == pytest.approx(
        skm.accuracy_score(y_val, predicted)
    )
    assert version.measured_metrics["roc_auc_ovr"] == pytest.approx(
        skm.roc_auc_score(y_val, proba, multi_class="ovr", labels=list(model.classes_))
    )


class ServedRegressor:
    """A regressor served elsewhere: no classes, and never asked to predict."""

    def predict(self, X: Any) -> Any:
        raise AssertionError("predict must not be called when eval_scores are given")


def test_eval_scores_regression_from_a_parquet_file(
    registry: Path, diabetes: Any, tmp_path: Path
) -> None:
    (_X_train, X_val, _y_train, y_val), model = diabetes
    predicted = model.predict(X_val)
    path = tmp_path / "validation.parquet"
    X_val.assign(progression=y_val.to_numpy(), served=predicted).to_parquet(path)
    version = mb.register(
        ServedRegressor(),
        name="dia-served",
        eval_data=str(path),
        eval_target="progression",
        eval_scores="served",
    )
    assert isinstance(version, ModelVersion)
    assert version.measured_metrics == pytest.approx(
        {
            "mae": skm.mean_absolute_error(y_val, predicted),
            "rmse": math.sqrt(skm.mean_squared_error(y_val, predicted)),
            "r2": skm.r2_score(y_val, predicted),
        },
        rel=1e-12,
    )
    assert mb.show("dia-served-eval@1").n_rows == len(X_val)
    stored = catalog.stored_estimation(catalog.open_registry(), _row("dia-served", 1))
    assert stored is not None and stored.loss_model is not None


# -- identity -----------------------------------------------------------------------------------


def test_same_eval_set_reuses_a_different_one_is_a_new_version(registry: Path, cancer: Any) -> None:
    (X_train, X_val, y_train, y_val), model = cancer
    kwargs: dict[str, Any] = {"name": "dedup", "data": X_train, "target": y_train}
    first = mb.register(model, eval_data=X_val, eval_target=y_val, **kwargs)
    again = mb.register(model, eval_data=X_val.copy(), eval_target=y_val.copy(), **kwargs)
    assert (again.version, again.reused) == (1, True)
    half = X_val.iloc[10:]
    other = mb.register(model, eval_data=half, eval_target=y_val.loc[half.index], **kwargs)
    assert isinstance(other, ModelVersion) and isinstance(first, ModelVersion)
    assert (other.version, other.reused, other.evaluation) == (2, False, "dedup-eval@2")
    assert "evaluation set: dedup-eval@1 → dedup-eval@2" in other.changes
    without = mb.register(model, **kwargs)  # no evaluation set: another identity again
    assert (without.version, without.reused) == (3, False)
    assert [r[0] for r in mb.ls("dedup-eval").rows] == [1, 2]


# -- gc, check and a failure mid-registration ---------------------------------------------------


def test_gc_keeps_and_check_verifies_the_fitted_blobs(registry: Path, diabetes: Any) -> None:
    (X_train, X_val, y_train, y_val), model = diabetes
    mb.register(model, name="dia", data=X_train, target=y_train, eval_data=X_val, eval_target=y_val)
    row = _row("dia", 1)
    fitted = {row["estimator"], row["loss_model"]}
    assert None not in fitted and fitted <= _blobs(registry)
    assert mb.gc(grace_seconds=0).removed_files == 0
    assert fitted <= _blobs(registry)
    report = mb.check()
    assert report.ok, report.problems
    assert report.files_checked == 5  # model, training, evaluation, state, loss model
    loss_path = registry / "objects" / row["loss_model"][:2] / row["loss_model"][2:]
    loss_path.write_bytes(loss_path.read_bytes() + b"tampered")
    with pytest.raises(IntegrityError, match="does not match its recorded hash"):
        catalog.stored_estimation(catalog.open_registry(), row)
    state_path = registry / "objects" / row["estimator"][:2] / row["estimator"][2:]
    state_path.unlink()
    problems = {(p.check, p.subject, p.message.split(" objects/")[0]) for p in mb.check().problems}
    assert problems == {
        ("blob.corrupt", "model dia@1", "its loss model artifact file"),
        ("blob.missing", "model dia@1", "its estimation state artifact file"),
    }


def test_a_failure_in_estimation_writes_nothing(
    registry: Path, cancer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelbook.stats import estimation

    (X_train, X_val, y_train, y_val), model = cancer
    mb.register(X_train.iloc[:10], name="other")  # a registry with something in it
    before_blobs = _blobs(registry)

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("killed while fitting")

    monkeypatch.setattr(estimation, "fit_estimation", broken)
    with pytest.raises(RuntimeError, match="killed while fitting"):
        mb.register(
            model, name="half", data=X_train, target=y_train, eval_data=X_val, eval_target=y_val
        )
    assert [r[0] for r in mb.ls().rows] == ["other"]
    assert _blobs(registry) == before_blobs
    tmp = registry / "objects" / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    with registry_connection() as con:
        assert con.execute("SELECT count(*) FROM model_versions").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM dataset_versions").fetchall() == [(1,)]


# -- bad input: one line, nothing written -------------------------------------------------------


def _bad_inputs(split: Split) -> list[tuple[str, dict[str, Any], str]]:
    X_train, X_val, y_train, y_val = split
    with_scores = X_val.assign(p=np.linspace(0.0, 1.0, len(X_val)), label=y_val.to_numpy())
    out_of_range = with_scores.assign(p=with_scores["p"] * 2)
    first = out_of_range["p"][out_of_range["p"] > 1].iloc[0]
    one_class = X_val[y_val == 1].iloc[:20]
    with_nan = with_scores.assign(p=with_scores["p"].where(with_scores.index != X_val.index[3]))
    return [
        (
            "length",
            {"eval_data": X_val, "eval_target": y_val.iloc[:-5]},
            f"eval_target has {len(X_val) - 5} labels but eval_data has {len(X_val)} rows: pass "
            "the labels that belong to the evaluation data.",
        ),
        (
            "columns",
            {"eval_data": X_val.drop(columns=["mean radius", "worst area"]), "eval_target": y_val},
            "eval_data lacks 2 of the model's input columns ('mean radius', 'worst area'): "
            "pass evaluation data with the columns the model was trained on.",
        ),
        (
            "target without data",
            {"eval_target": y_val},
            "eval_target= needs eval_data=: pass the evaluation data the labels belong to.",
        ),
        (
            "no labels",
            {"eval_data": X_val},
            "eval_data needs its labels: pass eval_target= (the labels, or the name of their "
            "column in eval_data).",
        ),
        (
            "unknown score column",
            {"eval_data": with_scores, "eval_target": "label", "eval_scores": ["p", "q"]},
            "eval_scores names columns that are not in eval_data: 'q'; its columns: "
            + ", ".join(list(with_scores.columns)[:20])
            + ".",
        ),
        (
            "out of range",
            {"eval_data": out_of_range, "eval_target": "label", "eval_scores": "p"},
            f"eval_scores column 'p' has {int((out_of_range['p'] > 1).sum())} values that are "
            f"NaN or outside [0, 1] (e.g. {first:g}): pass the model's probabilities for every "
            "row.",
        ),
        (
            "nan",
            {"eval_data": with_nan, "eval_target": "label", "eval_scores": "p"},
            "eval_scores column 'p' has 1 values that are NaN or outside [0, 1] (e.g. nan): "
            "pass the model's probabilities for every row.",
        ),
        (
            "one class",
            {"eval_data": one_class, "eval_target": y_val.loc[one_class.index]},
            "the evaluation set has one class (1) in 20 rows: metrics and calibration need "
            "every class the model predicts; pass a larger or stratified evaluation set.",
        ),
        (
            "training data",
            {"eval_data": X_train, "eval_target": y_train},
            "eval_data is the training data: training data is not a substitute for an evaluation "
            "set (metrics measured on it are optimistic and a calibrator fitted on it is biased); "
            "pass held-out rows the model never saw, e.g. a validation split (X_val, y_val).",
        ),
    ]


CASES = [
    "length",
    "columns",
    "target without data",
    "no labels",
    "unknown score column",
    "out of range",
    "nan",
    "one class",
    "training data",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_and_writes_nothing(registry: Path, cancer: Any, case: str) -> None:
    split, model = cancer
    X_train, _X_val, y_train, _y_val = split
    [(_, kwargs, message)] = [c for c in _bad_inputs(split) if c[0] == case]
    mb.register(X_train.iloc[:5], name="before")  # the registry exists; nothing else may appear
    blobs = _blobs(registry)
    with pytest.raises(DataError) as info:
        mb.register(model, name="bad", data=X_train, target=y_train, **kwargs)
    assert str(info.value) == message
    assert "\n" not in str(info.value)
    assert [r[0] for r in mb.ls().rows] == ["before"]
    assert _blobs(registry) == blobs


def test_the_training_data_relabelled_is_still_refused(registry: Path, cancer: Any) -> None:
    """Same rows, labels under another name: the features decide."""
    (X_train, _X_val, y_train, _y_val), model = cancer
    with pytest.raises(DataError, match=r"^eval_data is the training data: "):
        mb.register(
            model,
            name="bad",
            data=X_train,
            target=y_train,
            eval_data=X_train.assign(truth=y_train.to_numpy()),
            eval_target="truth",
        )


# -- quality.* compares with the measured value -------------------------------------------------


def test_quality_compares_with_the_measured_value(registry: Path, cancer: Any) -> None:
    (X_train, X_val, y_train, y_val), model = cancer
    version = mb.register(
        model,
        name="q",
        data=X_train,
        target=y_train,
        eval_data=X_val,
        eval_target=y_val,
        metrics={"accuracy": 0.5, "log_loss": 0.2},
    )
    assert isinstance(version, ModelVersion)
    report = mb.monitor("q", data=X_val, target=y_val, store="none")
    checks = {c.check: c for c in report.checks}
    accuracy = version.measured_metrics["accuracy"]
    assert checks["quality.accuracy"].message == (
        f"accuracy = {accuracy:.4g} (measured {accuracy:.4g} on q-eval@1, +0)"
    )
    assert checks["quality.accuracy"].status == "ok"
    # A registered metric that was not measured is compared with the registered value.
    assert "(registered 0.2, " in checks["quality.log_loss"].message
    row = _row("q", 1)
    assert json.loads(row["metrics"]) == {"accuracy": 0.5, "log_loss": 0.2}
