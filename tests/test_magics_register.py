"""The %register and %modelbook magics in a real IPython shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from sklearn.linear_model import LogisticRegression

import modelbook as mb


@pytest.fixture
def trained(ip: Any) -> Any:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = pd.Series((X["a"] > 0).astype(int), name="label")
    ip.user_ns.update(
        X=X,
        y=y,
        clf=LogisticRegression().fit(X, y),
        clf2=LogisticRegression(C=0.5).fit(X, y),  # another model: a second version
        empty=X.iloc[:0],
    )
    return ip


def test_register_model_from_cell(trained: Any, registry: Path) -> None:
    version = trained.run_line_magic(
        "register",
        "clf --data X --target y --metrics \"{'auc': 0.93}\" --tag team=risk stage=dev "
        "--notes 'baseline model' --alias production",
    )
    assert version.ref == "clf@1"
    assert version.train_dataset == "clf-training@1"
    assert version.metrics == {"auc": 0.93}
    assert version.tags == {"team": "risk", "stage": "dev"}
    assert version.notes == "baseline model"
    assert version.aliases == ("production",)
    assert mb.show("clf@production").version == 1


def test_modelbook_subcommands(
    trained: Any, registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trained.run_line_magic("register", "clf --name churn")
    trained.run_line_magic("register", "clf2 --name churn")
    listing = trained.run_line_magic("modelbook", "ls")
    assert [row[0] for row in listing.rows] == ["churn"]
    assert trained.run_line_magic("modelbook", "show churn@1").version == 1
    change = trained.run_line_magic("modelbook", "alias churn@2 production")
    assert (change.version, change.previous) == (2, None)
    trained.run_line_magic("modelbook", "load churn@production --as restored")
    assert type(trained.user_ns["restored"]).__name__ == "LogisticRegression"
    trained.run_line_magic("modelbook", "env churn")
    assert "scikit-learn==" in capsys.readouterr().out
    history = trained.run_line_magic("modelbook", "alias --history churn")
    assert len(history) == 1
    other = registry.parent / "other"
    trained.run_line_magic("modelbook", f"use {other}")
    try:
        with pytest.raises(UsageError) as info:  # a folder with no registry yet: said so
            trained.run_line_magic("modelbook", "ls")
        assert str(info.value).startswith(f"no registry at {other} ")
    finally:
        mb.use(None)


@pytest.mark.parametrize(
    ("magic", "line", "message"),
    [
        (
            "register",
            "missing",
            "variable 'missing' is not defined in the notebook: run the cell that creates it first.",
        ),
        (
            "register",
            "clf --data nope",
            "--data variable 'nope' is not defined in the notebook: run the cell that creates it first.",
        ),
        (
            "register",
            "number",
            "cannot register a builtins.int: modelbook stores models (scikit-learn estimators and pipelines, XGBoost and LightGBM models, or any picklable object with a predict() method) and datasets (pandas or polars DataFrame, pyarrow Table, 2-D numpy array, or a path to a .parquet/.csv file).",
        ),
        (
            "register",
            "empty",
            "dataset 'empty' is empty (0 rows × 2 columns): there is nothing to store.",
        ),
        (
            "register",
            "dupes",
            "dataset 'dupes' has duplicate column names ('a'): give every column a unique name.",
        ),
        (
            "register",
            "intcols",
            "dataset 'intcols' has non-string column names (0, 1): rename them, e.g. df.columns = df.columns.astype(str).",
        ),
        (
            "register",
            "X --name 9lives",
            "invalid name '9lives': a name must start with a letter and use only letters, digits, '_', '-' or '.' (at most 128).",
        ),
        (
            "register",
            "clf --metrics '{oops'",
            "--metrics '{oops' is not a dict literal: write --metrics \"{'auc': 0.91}\" or pass a variable.",
        ),
        ("register", "clf --tag team", "--tag 'team' is not KEY=VALUE, e.g. --tag team=risk."),
        (
            "register",
            "clf --bogus",
            "%register: unrecognized arguments: --bogus (see %register --help)",
        ),
        ("modelbook", "show ghost", "no model or dataset named 'ghost'; the registry is empty."),
    ],
)
def test_usage_errors_are_one_line(trained: Any, magic: str, line: str, message: str) -> None:
    trained.user_ns.update(
        number=5,
        dupes=pd.DataFrame([[1, 2]], columns=["a", "a"]),
        intcols=pd.DataFrame([[1, 2]]),
    )
    with pytest.raises(UsageError) as info:
        trained.run_line_magic(magic, line)
    assert type(info.value) is UsageError
    assert str(info.value) == message


def test_unknown_subcommand(trained: Any) -> None:
    with pytest.raises(UsageError) as info:
        trained.run_line_magic("modelbook", "frobnicate")
    message = str(info.value)
    assert message.startswith(
        "%modelbook: argument command: invalid choice: 'frobnicate' (choose from "
    )
    assert "'show'" in message and message.endswith("(see %modelbook --help)")


def test_not_found_messages_list_what_exists(trained: Any) -> None:
    trained.run_line_magic("register", "clf --name churn")
    trained.run_line_magic("register", "clf2 --name churn")
    with pytest.raises(UsageError) as info:
        trained.run_line_magic("modelbook", "show churn@7")
    assert str(info.value) == "churn has no version 7; versions: 1-2."
    trained.run_line_magic("modelbook", "alias churn@1 staging")
    with pytest.raises(UsageError) as info:
        trained.run_line_magic("modelbook", "show churn@production")
    assert str(info.value) == "churn has no alias 'production'; aliases of churn: staging."
    with pytest.raises(UsageError) as info:
        trained.run_line_magic("modelbook", "show churny")
    assert str(info.value) == "no model or dataset named 'churny'; registered: churn."


def test_usage_error_prints_no_traceback(trained: Any, capsys: pytest.CaptureFixture[str]) -> None:
    trained.run_cell("%register missing")
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "UsageError: variable 'missing' is not defined in the notebook" in output
    assert "Traceback" not in output


def test_rerunning_a_cell_returns_the_stored_version(trained: Any, registry: Path) -> None:
    """Issue 10, item 6: re-executing a notebook stores nothing new and moves no alias."""
    line = "clf --data X --target y --alias production"
    first = trained.run_line_magic("register", line)
    trained.user_ns["clf"] = LogisticRegression().fit(trained.user_ns["X"], trained.user_ns["y"])
    again = trained.run_line_magic("register", line)
    assert (first.ref, first.reused) == ("clf@1", False)
    assert (again.ref, again.reused) == ("clf@1", True)
    assert str(again).startswith("model clf@1 already stored (identical model): ")
    assert len(mb.alias_history("clf")) == 1
    assert len(list(registry.glob("objects/??/*"))) == 2  # one model blob, one Parquet blob


class _Unpicklable:
    """Has predict, cannot be serialised (holds a lambda)."""

    def __init__(self) -> None:
        self.transform = lambda x: x

    def predict(self, rows: Any) -> Any:
        return rows


def test_failed_registration_leaves_no_training_dataset(trained: Any, registry: Path) -> None:
    """Issue 10, item 2: all or nothing, through the magic."""
    trained.user_ns["odd"] = _Unpicklable()
    with pytest.raises(UsageError) as info:
        trained.run_line_magic("register", "odd --data X --target y")
    assert str(info.value).startswith("cannot store test_magics_register._Unpicklable: it cannot ")
    with pytest.raises(mb.NotFoundError):
        mb.show("odd-training")
    assert list(registry.glob("objects/??/*")) == []
    assert list(registry.glob("objects/tmp/*")) == []
