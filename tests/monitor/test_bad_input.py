"""Bad input: a clear error before anything is written, or a recorded failed check; nothing
already stored is ever lost."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

import modelbook
from modelbook.errors import DataError, MonitorError, NotFoundError, UntrustedArtifactError


def _runs(home: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(home / "registry.duckdb"), read_only=True)
    try:
        return con.execute("SELECT id, status FROM monitor_runs ORDER BY started_at").fetchall()
    finally:
        con.close()


@pytest.fixture
def first_run(trained: Any, batch: pd.DataFrame) -> list[tuple[Any, ...]]:
    """One good run already stored: every failure below must leave it in place."""
    modelbook.monitor("churn", data=batch)
    runs = _runs(trained.home)
    assert len(runs) == 1
    return runs


def _checks(report: Any, check: str) -> list[tuple[str | None, str]]:
    return [(c.column, c.status) for c in report.checks if c.check == check]


@pytest.mark.parametrize(
    ("data", "target", "error", "message"),
    [
        (
            pd.DataFrame({"tenure": pd.Series([], dtype=float)}),
            None,
            DataError,
            "data is empty (0 rows × 1 columns): there is nothing to store.",
        ),
        (
            "missing.parquet",
            None,
            DataError,
            "data file missing.parquet does not exist.",
        ),
        (
            None,
            np.zeros(10),
            DataError,
            "target has 10 labels but the batch has 4,000 rows: pass the labels that belong to "
            "this batch.",
        ),
        (
            None,
            "nope",
            DataError,
            "target column 'nope' is not in the batch; columns: tenure, charges, calls, plan.",
        ),
    ],
)
def test_bad_input_raises_and_stores_nothing(
    first_run: Any,
    trained: Any,
    batch: pd.DataFrame,
    data: Any,
    target: Any,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error) as info:
        modelbook.monitor("churn", data=batch if data is None else data, target=target)
    assert str(info.value) == message
    assert _runs(trained.home) == first_run


def test_unknown_reference_and_columns(first_run: Any, trained: Any, batch: pd.DataFrame) -> None:
    with pytest.raises(NotFoundError, match=r"^churn has no version 7; versions: 1\.$"):
        modelbook.monitor("churn@7", data=batch)
    with pytest.raises(DataError) as info:
        modelbook.monitor("churn", data=batch, columns=["tenure", "zip"])
    assert str(info.value) == "columns not in the reference churn-training@1: 'zip'."
    assert _runs(trained.home) == first_run


def test_model_without_training_data_needs_a_reference(registry: Path, batch: pd.DataFrame) -> None:
    from sklearn.dummy import DummyClassifier

    model = DummyClassifier().fit(batch[["tenure"]], np.arange(len(batch)) % 2)
    modelbook.register(model, name="bare")
    with pytest.raises(MonitorError) as info:
        modelbook.monitor("bare", data=batch)
    assert str(info.value) == (
        "model bare@1 has no training dataset recorded: pass the dataset to compare against, "
        "e.g. reference='churn-training@1' (--reference)."
    )
    modelbook.register(batch, name="base")
    report = modelbook.monitor("bare", data=batch, reference="base@1", store="none")
    assert report.reference == "base@1"


def test_missing_column_is_recorded(first_run: Any, trained: Any, batch: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=batch.drop(columns=["charges"]))
    assert report.status == "error"
    assert _checks(report, "schema.missing") == [("charges", "alert")]
    predict = [c for c in report.checks if c.check == "model.predict"]
    assert [c.message for c in predict] == [
        "cannot predict: input columns missing from the batch: charges"
    ]
    assert report.drift is not None and "charges" not in [c.column for c in report.drift.columns]
    runs = _runs(trained.home)
    assert runs[0] == first_run[0] and runs[1] == (report.run_id, "error")


def test_extra_and_retyped_and_all_null_columns(trained: Any, batch: pd.DataFrame) -> None:
    bad = batch.assign(
        zip=pd.Series(["x"] * len(batch), dtype="str"),
        calls=batch["calls"].astype(str),  # numbers as strings
        charges=np.nan,
    )
    report = modelbook.monitor("churn", data=bad)
    assert _checks(report, "schema.unexpected") == [("zip", "alert")]
    assert _checks(report, "schema.type") == [("calls", "alert")]
    assert _checks(report, "schema.all_null") == [("charges", "alert")]
    retyped = next(c for c in report.checks if c.check == "schema.type")
    assert retyped.message == "type changed from int64 to large_string (numeric → categorical)"
    assert report.drift is not None
    assert [c.column for c in report.drift.columns] == ["tenure", "plan"]
    assert report.status == "error"  # the pipeline cannot scale strings/NaN: predict fails
    assert [c.check for c in report.checks if c.status == "error"] == ["model.predict"]


def test_int_to_float_is_information_not_an_alert(trained: Any, batch: pd.DataFrame) -> None:
    report = modelbook.monitor("churn", data=batch.assign(calls=batch["calls"].astype(float)))
    assert _checks(report, "schema.type") == [("calls", "info")]
    assert report.status == "ok"


def test_nan_and_inf_injections(trained: Any, batch: pd.DataFrame) -> None:
    import pyarrow as pa

    # In Arrow, NaN is a value (pandas turns NaN into null, checked by invariants.nulls).
    table = pa.Table.from_pandas(batch, preserve_index=False)
    tenure = batch["tenure"].to_numpy().copy()
    tenure[:200] = np.nan  # 5 %
    charges = batch["charges"].to_numpy().copy()
    charges[-3:] = np.inf
    table = table.set_column(0, "tenure", pa.array(tenure, from_pandas=False))
    table = table.set_column(1, "charges", pa.array(charges))
    report = modelbook.monitor("churn", data=table, store="none")
    nan = next(c for c in report.checks if c.check == "stability.nan")
    assert (nan.column, nan.status, nan.statistic) == ("tenure", "alert", pytest.approx(0.05))
    assert nan.message == "200 NaN (5.00%; training: 0.00%)"
    inf = next(c for c in report.checks if c.check == "stability.inf")
    assert (inf.column, inf.status) == ("charges", "alert")
    assert inf.message == "3 +inf and 0 -inf (0.07%; training: 0)"
    # scikit-learn refuses NaN input: a failed predict is a recorded error, not an exception.
    predict = next(c for c in report.checks if c.check == "model.predict")
    assert predict.status == "error" and predict.message.startswith("predict() failed: ValueError:")


def test_pandas_nan_counts_as_null(trained: Any, batch: pd.DataFrame) -> None:
    bad = batch.copy()
    bad.loc[bad.index[:400], "tenure"] = np.nan  # 10 %
    report = modelbook.monitor("churn", data=bad, store="none")
    nulls = next(c for c in report.checks if c.check == "invariants.nulls")
    assert (nulls.column, nulls.status, nulls.statistic) == ("tenure", "alert", pytest.approx(0.1))


def test_out_of_range_and_unseen_categories(trained: Any, batch: pd.DataFrame) -> None:
    bad = batch.copy()
    bad.loc[bad.index[:400], "charges"] = 10_000.0  # 10 % far above the training maximum
    bad.loc[bad.index[:100], "plan"] = "enterprise"  # 2.5 % unseen category
    report = modelbook.monitor("churn", data=bad, store="none")
    rng = next(c for c in report.checks if c.check == "invariants.range")
    assert (rng.column, rng.status, rng.statistic) == ("charges", "alert", pytest.approx(0.1))
    cat = next(c for c in report.checks if c.check == "invariants.categories")
    assert (cat.column, cat.status, cat.statistic) == ("plan", "alert", pytest.approx(0.025))
    assert cat.message == "2.50% of rows have categories unseen in training ('enterprise')"


def test_null_increase(trained: Any, batch: pd.DataFrame) -> None:
    bad = batch.copy()
    bad["plan"] = bad["plan"].where(np.arange(len(bad)) % 10 != 0, None)  # 10 % null
    report = modelbook.monitor("churn", data=bad, store="none")
    nulls = next(c for c in report.checks if c.check == "invariants.nulls")
    assert (nulls.column, nulls.status, nulls.statistic) == ("plan", "alert", pytest.approx(0.1))


class ExplodingModel:
    """A user model whose predict raises (stored with pickle: loading needs trust)."""

    classes_ = np.array([0, 1])

    def predict(self, X: Any) -> Any:
        raise RuntimeError("feature store unreachable")


class NanModel:
    def predict(self, X: Any) -> Any:
        out = np.ones(len(X))
        out[::4] = np.nan
        return out


def test_failing_predict_is_a_recorded_error(
    first_run: Any, trained: Any, batch: pd.DataFrame
) -> None:
    modelbook.register(ExplodingModel(), name="boom", data=trained.X)
    with pytest.raises(UntrustedArtifactError):
        modelbook.monitor("boom", data=batch)
    assert _runs(trained.home) == first_run
    report = modelbook.monitor("boom", data=batch, trust=True)
    assert report.status == "error"
    errors = [(c.check, c.message) for c in report.errors]
    assert errors == [
        ("model.predict", "predict() failed: RuntimeError: feature store unreachable")
    ]
    assert report.drift is not None and report.drift.drifted_columns == ()
    runs = _runs(trained.home)
    assert runs[:1] == first_run and runs[1] == (report.run_id, "error")


def test_nan_predictions_alert(trained: Any, batch: pd.DataFrame) -> None:
    modelbook.register(NanModel(), name="nanny", data=trained.X)
    report = modelbook.monitor("nanny", data=batch, trust=True, store="none")
    check = next(c for c in report.checks if c.check == "stability.predictions")
    assert (check.status, check.statistic) == ("alert", pytest.approx(0.25))
    assert check.message == "1,000 NaN/±inf predictions (25.00%)"


def test_pickle_round_trip_of_test_models() -> None:
    # The pickled models above are importable by module name in this process.
    assert isinstance(pickle.loads(pickle.dumps(NanModel())), NanModel)


def test_wrong_label_length_for_a_file(
    first_run: Any, trained: Any, batch: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "batch.parquet"
    batch.to_parquet(path)
    with pytest.raises(DataError) as info:
        modelbook.monitor("churn", data=path, target=np.zeros(3))
    assert str(info.value) == (
        "target has 3 labels but the batch has 4,000 rows: pass the labels that belong to this "
        "batch."
    )
    assert _runs(trained.home) == first_run
    stored = modelbook.monitor("churn", data=path, store="data")
    assert stored.batch_dataset == "churn-batches@1"
    assert modelbook.show("churn-batches@1").n_rows == len(batch)
