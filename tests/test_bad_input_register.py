"""Bad input to ``register`` (issue 10, items 9-12): one validation, in the API, so the API and
``%register`` refuse the same things with the same exact messages, before anything is written;
and inputs that used to be refused or misread (unnamed Series, lists, ragged CSV) are answered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from sklearn.linear_model import LogisticRegression

import modelbook as mb


@pytest.fixture
def X() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})


@pytest.fixture
def y(X: pd.DataFrame) -> pd.Series:
    labels = ((X.a + X.b) > 0).astype(int)  # an unnamed Series, as users write it
    assert labels.name is None
    return labels


@pytest.fixture
def clf(X: pd.DataFrame, y: pd.Series) -> LogisticRegression:
    return LogisticRegression().fit(X, y)


def _nothing_stored(home: Path) -> None:
    """No name, no version and no blob: the registry is as it was before the call."""
    if (home / "registry.duckdb").exists():
        con = duckdb.connect(str(home / "registry.duckdb"), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM entries").fetchall() == [(0,)]
        finally:
            con.close()
    assert list(home.glob("objects/??/*")) == []
    assert list(home.glob("objects/tmp/*")) == []


# -- item 12: the API stores nothing the magic would refuse --------------------------------------

BAD_MODEL_ARGS = [
    (
        {"metrics": {"auc": float("nan")}},
        "metric 'auc' is nan: give a finite number (leave out a metric that could not be "
        "computed).",
    ),
    (
        {"metrics": {"auc": float("inf")}},
        "metric 'auc' is inf: give a finite number (leave out a metric that could not be "
        "computed).",
    ),
    (
        {"metrics": {"auc": True}},
        "metric 'auc' is True, not a number: give a number, e.g. {'auc': 0.91}.",
    ),
    (
        {"metrics": {"auc": np.bool_(False)}},
        "metric 'auc' is False, not a number: give a number, e.g. {'auc': 0.91}.",
    ),
    ({"metrics": {"auc": "0.9"}}, "metric 'auc' is not a number: '0.9'."),
    ({"metrics": {1: 0.9}}, "metric names must be non-empty strings; got 1."),
    (
        {"metrics": [("auc", 0.9)]},
        "metrics= must be a mapping of names to numbers, e.g. {'auc': 0.91}.",
    ),
    ({"tag": {"team": 5}}, "tag 'team' must be a string; got int 5: write {'team': '5'}."),
    (
        {"tag": {"owner": None}},
        "tag 'owner' must be a string; got NoneType None: write {'owner': 'None'}.",
    ),
    ({"tag": {"": "x"}}, "tag names must be non-empty strings; got ''."),
    ({"tag": ["team=risk"]}, "tag= must be a mapping of strings, e.g. {'team': 'risk'}."),
    ({"notes": 5}, "notes= must be a string; got int 5."),
    (
        {"name": ""},
        "invalid name '': a name must start with a letter and use only letters, digits, '_', "
        "'-' or '.' (at most 128).",
    ),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_MODEL_ARGS)
def test_api_refuses_what_the_magic_refuses(
    registry: Path, clf: LogisticRegression, kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"name": "churn", **kwargs}
    with pytest.raises(mb.ModelbookError) as info:
        mb.register(clf, **arguments)
    assert str(info.value) == message
    _nothing_stored(registry)


def test_unfitted_estimator_is_refused(registry: Path, X: pd.DataFrame, y: pd.Series) -> None:
    with pytest.raises(mb.UnsupportedObjectError) as info:
        mb.register(LogisticRegression(), name="churn", data=X, target=y)
    assert str(info.value) == (
        "cannot register an unfitted LogisticRegression: fit it first (e.g. model.fit(X, y)); a "
        "model that was never trained cannot predict, so monitoring it would fail."
    )
    _nothing_stored(registry)


class Rule:
    """A hand-written model: predict, no fit; nothing to check for fitting."""

    def predict(self, rows: list[int]) -> list[int]:
        return [1 for _ in rows]


def test_objects_with_predict_but_no_fit_are_not_checked(registry: Path) -> None:
    assert mb.register(Rule(), name="rule").version == 1


MAGIC_CASES = [
    (
        "clf --name ''",
        "invalid name '': a name must start with a letter and use only letters, digits, '_', "
        "'-' or '.' (at most 128).",
    ),
    (
        "clf --metrics nan_metrics",
        "metric 'auc' is nan: give a finite number (leave out a metric that could not be "
        "computed).",
    ),
    (
        "clf --metrics \"{'auc': True}\"",
        "metric 'auc' is True, not a number: give a number, e.g. {'auc': 0.91}.",
    ),
    (
        "unfitted --data X --target y",
        "cannot register an unfitted LogisticRegression: fit it first (e.g. model.fit(X, y)); a "
        "model that was never trained cannot predict, so monitoring it would fail.",
    ),
    (
        "complex_frame",
        "dataset 'complex_frame' has a complex-number column 'z': modelbook stores real numbers "
        "only; store its parts as two columns, e.g. df.assign(z_real=df['z'].to_numpy().real, "
        "z_imag=df['z'].to_numpy().imag).drop(columns='z').",
    ),
    (
        "clf --data X --target wide",
        "target must be one column of labels; got an array of shape (120, 2): pass one label "
        "per row.",
    ),
]


@pytest.mark.parametrize(("line", "message"), MAGIC_CASES)
def test_register_magic_messages(
    ip: Any,
    registry: Path,
    clf: LogisticRegression,
    X: pd.DataFrame,
    y: pd.Series,
    line: str,
    message: str,
) -> None:
    ip.user_ns.update(
        clf=clf,
        X=X,
        y=y,
        unfitted=LogisticRegression(),
        nan_metrics={"auc": float("nan")},
        complex_frame=X.assign(z=X.a + 1j * X.b),
        wide=np.zeros((120, 2)),
    )
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("register", line)
    assert type(info.value) is UsageError
    assert str(info.value) == message
    _nothing_stored(registry)


# -- item 11: a complex-number column is a DataError, never an Arrow traceback ------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            pd.DataFrame({"z": np.array([1 + 2j, 3 - 1j])}),
            "dataset 'waves' has a complex-number column 'z': modelbook stores real numbers only; "
            "store its parts as two columns, e.g. df.assign(z_real=df['z'].to_numpy().real, "
            "z_imag=df['z'].to_numpy().imag).drop(columns='z').",
        ),
        (
            pd.DataFrame({"z": pd.Series([1 + 2j, 3j], dtype=object)}),
            "dataset 'waves' has a complex-number column 'z': modelbook stores real numbers only; "
            "store its parts as two columns, e.g. df.assign(z_real=df['z'].to_numpy().real, "
            "z_imag=df['z'].to_numpy().imag).drop(columns='z').",
        ),
        (
            np.array([[1 + 2j, 3j]]),
            "dataset 'waves' is an array of complex numbers: modelbook stores real numbers only; "
            "store the real and imaginary parts as columns, e.g. np.column_stack([a.real, "
            "a.imag]).",
        ),
        (
            pd.DataFrame({"a": pd.Series(["x", 1], dtype=object)}),
            "dataset 'waves' cannot be stored: column 'a' cannot be converted (Expected bytes, "
            "got a 'int' object); convert it to one type, e.g. df['a'].astype(str).",
        ),
    ],
)
def test_unstorable_columns(registry: Path, data: Any, message: str) -> None:
    with pytest.raises(mb.DataError) as info:
        mb.register(data, name="waves")
    assert str(info.value) == message
    _nothing_stored(registry)


# -- item 9: unnamed Series, lists and tuples -----------------------------------------------------


def test_unnamed_series_target_is_named_target(
    registry: Path, clf: LogisticRegression, X: pd.DataFrame, y: pd.Series
) -> None:
    version = mb.register(clf, name="churn", data=X, target=y)
    assert version.signature is not None and version.signature["target"] == "target"
    assert list(mb.load("churn-training").columns) == ["a", "b", "target"]


def test_unnamed_series_through_the_magic(
    ip: Any, registry: Path, clf: LogisticRegression, X: pd.DataFrame, y: pd.Series
) -> None:
    ip.user_ns.update(clf=clf, X=X, y=y)
    version = ip.run_line_magic("register", "clf --data X --target y")
    assert version.train_dataset == "clf-training@1"
    assert mb.show("clf-training").target == "target"
    labels = ip.run_line_magic("register", "y --name labels")
    assert labels.n_columns == 1 and labels.columns[0]["name"] == "x0"  # like a 1-D array


@pytest.mark.parametrize("kind", ["list", "tuple", "numpy"])
def test_labels_as_list_tuple_or_array(
    registry: Path, clf: LogisticRegression, X: pd.DataFrame, y: pd.Series, kind: str
) -> None:
    values = list(y)
    labels: Any = {"list": values, "tuple": tuple(values), "numpy": np.asarray(values)}[kind]
    version = mb.register(clf, name="churn", data=X, target=labels)
    training = mb.load(str(version.train_dataset))
    assert list(training["target"]) == values


def test_named_series_keeps_its_name_and_collisions_get_a_suffix(
    registry: Path, X: pd.DataFrame, y: pd.Series
) -> None:
    assert mb.register(X, name="a1", target=y.rename("label")).target == "label"
    assert mb.register(X, name="a2", target=y.rename("a")).target == "a_target"


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            np.zeros((120, 3)),
            "target must be one column of labels; got an array of shape (120, 3): pass one "
            "label per row.",
        ),
        (
            np.zeros((2, 60, 1)),
            "target must be one column of labels; got an array of shape (2, 60, 1): pass one "
            "label per row.",
        ),
        (
            pd.DataFrame({"p": [0] * 120, "q": [1] * 120}),
            "target must be one column of labels; got a DataFrame with 2 columns: pass one of "
            "them, e.g. target=df['p'].",
        ),
        (
            [0, 1, 0],
            "target has 3 labels but dataset 'churn-training' has 120 rows: pass the labels that "
            "belong to this data.",
        ),
        (
            {"a": 1},
            "cannot use a builtins.dict as target: expected the name of a column of the data, "
            "or the labels as a pandas or polars Series, a 1-D numpy array, a list or a tuple.",
        ),
        ([1j] * 120, "target labels are complex numbers: give real numbers or class labels."),
    ],
)
def test_target_messages_speak_of_labels(
    registry: Path, clf: LogisticRegression, X: pd.DataFrame, labels: Any, message: str
) -> None:
    with pytest.raises(mb.DataError) as info:
        mb.register(clf, name="churn", data=X, target=labels)
    assert str(info.value) == message
    assert "2-D" not in message
    _nothing_stored(registry)


# -- item 10: CSV read strictly -------------------------------------------------------------------


def _csv(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


CSV_CASES = [
    (
        "a,a,,b\n1,2,3,4\n5,6,7\n8,9,10,11,12\n",
        "the header (line 1) has duplicate column names ('a') and an empty column name "
        "(column 3): give every column a unique, non-empty name.",
    ),
    (
        "Plan,plan\nx,y\n",
        "the header (line 1) has duplicate column names ('plan'): give every column a unique, "
        "non-empty name.",
    ),
    (
        "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n",
        "the header has 3 columns, but line 3 has 2 fields and line 5 has 4: fix those rows (a "
        "missing or extra ',', or a value containing ',' without quotes).",
    ),
    (
        'a,b,c\n1,"two\nlines",3\n4,5\n',
        "the header has 3 columns, but line 4 has 2 fields: fix that row (a missing or extra "
        "',', or a value containing ',' without quotes).",
    ),
    (
        "a,b\n" + "1,2\n" * 3 + "1,2,3\n" * 7,
        "the header has 2 columns, but line 5 has 3 fields, line 6 has 3, line 7 has 3, line 8 "
        "has 3 and line 9 has 3 (7 such rows in all): fix those rows (a missing or extra ',', "
        "or a value containing ',' without quotes).",
    ),
    ('x,y\n1,2\n3,"open\n', "line 3: value with unterminated quote found."),
    ("a,b\n", "has a header but no rows: there is nothing to store."),
    (
        b"a,b\n1,caf\xe9\n",
        "is not UTF-8 text (byte 0xe9 on line 2): save it as UTF-8, or read it with "
        "pandas.read_csv(path, encoding='latin-1') (its real encoding) and pass the DataFrame.",
    ),
]


@pytest.mark.parametrize(("text", "problem"), CSV_CASES)
def test_csv_is_read_strictly(
    registry: Path, tmp_path: Path, ip: Any, text: str | bytes, problem: str
) -> None:
    path = _csv(tmp_path, "batch.csv", text)
    sep = " " if problem.startswith(("is ", "has ")) else ": "
    expected = f"dataset 'batch' file {path}{sep}{problem}"
    with pytest.raises(mb.DataError) as info:
        mb.register(path)
    assert str(info.value) == expected
    with pytest.raises(UsageError) as magic:
        ip.run_line_magic("register", str(path))
    assert str(magic.value) == expected
    _nothing_stored(registry)


def test_good_csv_variants_are_read(registry: Path, tmp_path: Path) -> None:
    quoted = _csv(tmp_path, "quoted.csv", 'a,b,c\n1,"two, and\na line",3\n4,5,6\n')
    version = mb.register(quoted)
    assert (version.n_rows, version.n_columns) == (2, 3)
    assert mb.load("quoted")["b"].tolist() == ["two, and\na line", "5"]
    semicolons = _csv(tmp_path, "semi.csv", "a;b\n1;2,5\n3;4\n")
    assert [c["name"] for c in mb.register(semicolons).columns] == ["a", "b"]
    tabs = _csv(tmp_path, "tabs.tsv", "a\tb\n1\t2\n")
    assert mb.register(tabs).n_columns == 2
    bom = _csv(tmp_path, "bom.csv", "\ufeffa,b\r\n1,2\r\n")
    assert [c["name"] for c in mb.register(bom).columns] == ["a", "b"]


def test_monitor_reads_csv_strictly_too(registry: Path, tmp_path: Path, X: pd.DataFrame) -> None:
    mb.register(X, name="reference")
    path = _csv(tmp_path, "batch.csv", "a,a,,b\n1,2,3,4\n5,6,7\n8,9,10,11,12\n")
    with pytest.raises(mb.DataError) as info:
        mb.monitor("reference", data=path)
    assert str(info.value) == (
        f"data file {path}: the header (line 1) has duplicate column names ('a') and an empty "
        "column name (column 3): give every column a unique, non-empty name."
    )
