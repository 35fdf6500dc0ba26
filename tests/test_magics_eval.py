"""``%register --eval`` in a real IPython shell: the same evaluation set as the API's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import modelbook as mb
from modelbook import magics
from modelbook.results import ModelVersion


@pytest.fixture
def split(ip: Any) -> Any:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0)
    model = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    ip.user_ns.update(
        clf=model,
        X_train=X_train,
        y_train=y_train,
        X_val=X_val,
        y_val=y_val,
        scored=X_val.assign(p=model.predict_proba(X_val)[:, 1], label=y_val.to_numpy()),
    )
    return ip


def test_register_with_an_evaluation_set(split: Any, registry: Path) -> None:
    version = split.run_line_magic(
        "register", "clf --data X_train --target y_train --eval X_val --eval-target y_val"
    )
    assert isinstance(version, ModelVersion)
    assert version.evaluation == "clf-eval@1"
    model, X_val, y_val = (split.user_ns[k] for k in ("clf", "X_val", "y_val"))
    assert version.measured_metrics["accuracy"] == pytest.approx(
        skm.accuracy_score(y_val, model.predict(X_val))
    )
    assert version.measured_metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y_val, model.predict_proba(X_val)[:, 1])
    )
    # The magic and the API store the same thing: registering again through the API reuses it.
    again = mb.register(
        model,
        name="clf",
        data=split.user_ns["X_train"],
        target=split.user_ns["y_train"],
        eval_data=X_val,
        eval_target=y_val,
    )
    assert (again.version, again.reused) == (1, True)
    shown = split.run_line_magic("modelbook", "show clf")
    assert "measured on clf-eval@1: accuracy=" in str(shown)


def test_eval_target_column_and_eval_scores(split: Any, registry: Path) -> None:
    version = split.run_line_magic(
        "register", "clf --name served --eval scored --eval-target label --eval-scores p"
    )
    assert isinstance(version, ModelVersion)
    y_val, scored = split.user_ns["y_val"], split.user_ns["scored"]
    assert version.evaluation == "served-eval@1"
    assert version.measured_metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y_val, scored["p"])
    )
    stored = mb.load("served-eval@1")
    assert isinstance(stored, pd.DataFrame) and {"p", "label"} <= set(stored.columns)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "clf --data X_train --target y_train --eval X_val --eval-target nowhere",
            "--eval-target 'nowhere' is neither a notebook variable nor a column of --eval: run "
            "the cell that creates the labels first, or name their column.",
        ),
        (
            "clf --eval missing --eval-target y_val",
            "--eval 'missing' is neither a notebook variable nor a .parquet/.csv path: run the "
            "cell that creates it first.",
        ),
        (
            "clf --data X_train --target y_train --eval-target y_val",
            "eval_target= needs eval_data=: pass the evaluation data the labels belong to.",
        ),
        (
            "clf --data X_train --target y_train --eval X_train --eval-target y_train",
            "eval_data is the training data: training data is not a substitute for an evaluation "
            "set (metrics measured on it are optimistic and a calibrator fitted on it is biased); "
            "pass held-out rows the model never saw, e.g. a validation split (X_val, y_val).",
        ),
        (
            "clf --eval scored --eval-target label --eval-scores p q",
            "eval_scores names columns that are not in eval_data: 'q'; its columns: ",
        ),
    ],
)
def test_magic_errors_are_one_line(split: Any, registry: Path, line: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        split.run_line_magic("register", line)
    assert type(info.value) is UsageError
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
    assert not (registry / "registry.duckdb").exists()  # nothing written, not even a registry


def test_eval_flags_are_api_keywords() -> None:
    import inspect

    keywords = set(inspect.signature(mb.register).parameters)
    flags = {a.option_strings[0]: a.dest for a in magics.REGISTER._actions if a.option_strings}
    assert {flags["--eval"], flags["--eval-target"], flags["--eval-scores"]} <= keywords
    assert flags["--eval"] == "eval_data"
