"""PCA reference statistics and the domain classifier, against scikit-learn on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelbook.errors import ConfigError
from modelbook.monitoring.rules import MonitorRules
from modelbook.stats import multivariate as mv


def _frame(n: int, seed: int, *, flip: bool = False, nulls: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = (-0.8 if flip else 0.8) * a + 0.6 * rng.normal(size=n)
    data = {"a": a, "b": b, "c": 2.0 * a + rng.normal(size=n)}
    for i in range(5):
        data[f"x{i}"] = rng.normal(i, 1 + i / 4, n)
    data["n"] = rng.poisson(4, n).astype(np.int64)
    frame = pd.DataFrame(data)
    if nulls:
        for column in ("x0", "x3"):
            frame.loc[rng.random(n) < nulls, column] = np.nan
    frame["plan"] = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    return frame


def _sklearn_errors(reference: pd.DataFrame, batch: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Per-row reconstruction errors by scikit-learn: impute (mean), scale, PCA(0.65).

    The categorical column is frequency-encoded by hand, as the reference says.
    """
    shares = reference["plan"].value_counts(normalize=True)

    def matrix(frame: pd.DataFrame) -> np.ndarray:
        out = frame.drop(columns="plan").astype(float)
        out["plan"] = frame["plan"].map(shares).fillna(0.0)
        return out.to_numpy()

    pipe = make_pipeline(SimpleImputer(), StandardScaler(), PCA(n_components=0.65))
    pipe.fit(matrix(reference))
    z = pipe[:-1].transform(matrix(batch))
    pca = pipe[-1]
    residual = z - pca.inverse_transform(pca.transform(z))
    return residual, int(pca.n_components_)


def test_equals_scikit_learn_reconstruction() -> None:
    reference, batch = _frame(8_000, 1, nulls=0.1), _frame(3_000, 2, flip=True, nulls=0.2)
    fitted = mv.fit_pca(pa.Table.from_pandas(reference, preserve_index=False))
    assert fitted is not None
    drift = mv.pca_drift(fitted, [pa.Table.from_pandas(batch, preserve_index=False)])
    residual, k = _sklearn_errors(reference, batch)
    assert drift.components == k
    errors = np.sqrt((residual**2).sum(axis=1))
    assert abs(drift.error - errors.mean()) < 1e-9
    names = [*reference.columns.drop("plan"), "plan"]
    by_column = dict(zip(names, (residual**2).mean(axis=0), strict=True))
    for column, _share, batch_msr, _ref in drift.contributions:
        assert abs(batch_msr - by_column[column]) < 1e-9


def test_equals_scikit_learn_on_real_data() -> None:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True).frame.drop(columns="target")
    train, test = data.iloc[::2], data.iloc[1::2]
    fitted = mv.fit_pca(pa.Table.from_pandas(train, preserve_index=False))
    assert fitted is not None
    drift = mv.pca_drift(fitted, [pa.Table.from_pandas(test, preserve_index=False)])
    pipe = make_pipeline(StandardScaler(), PCA(n_components=0.65)).fit(train.to_numpy())
    z = pipe[0].transform(test.to_numpy())
    residual = z - pipe[1].inverse_transform(pipe[1].transform(z))
    assert drift.components == pipe[1].n_components_
    assert abs(drift.error - np.sqrt((residual**2).sum(axis=1)).mean()) < 1e-9
    assert not drift.drifted, drift  # a held-out half of the same data


def test_statistics_round_trip_json_and_stream_in_chunks() -> None:
    reference = pa.Table.from_pandas(_frame(6_000, 3), preserve_index=False)
    batch = pa.Table.from_pandas(_frame(5_000, 4, flip=True), preserve_index=False)
    fitted = mv.fit_pca(reference)
    assert fitted is not None
    again = mv.PcaReference.from_json(fitted.to_json())
    assert again == fitted
    whole = mv.pca_drift(fitted, [batch])
    chunked = mv.pca_drift(again, batch.to_batches(max_chunksize=777))
    assert abs(whole.error - chunked.error) < 1e-12
    assert whole.drifted and [c[0] for c in whole.contributions[:2]] in (["a", "b"], ["b", "a"])


def test_columns_taken_and_left_out() -> None:
    n = 5_000
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "id": np.arange(n),  # an integer ID: new values in every batch
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "flag": rng.random(n) < 0.3,  # a boolean, as 0/1
            "const": np.ones(n),
            "city": [f"c{i}" for i in rng.integers(0, 500, n)],  # too many categories
            "plan": rng.choice(["a", "b"], n),
            "label": rng.integers(0, 2, n),
            "when": pa.array(np.arange(n), pa.timestamp("s")),
        }
    )
    fitted = mv.fit_pca(table, exclude=["label"])
    assert fitted is not None
    assert fitted.names == ("x", "y", "flag", "plan")
    assert [f.kind for f in fitted.features] == ["numeric", "numeric", "numeric", "categorical"]
    assert mv.fit_pca(table.select(["x", "const"])) is None  # one usable column
    assert mv.fit_pca(table.slice(0, 30)) is None  # too few rows


def test_band_narrows_up_to_one_chunk_then_stops() -> None:
    table = pa.Table.from_pandas(_frame(200_000, 5), preserve_index=False)
    fitted = mv.fit_pca(mv.sample_table(table, mv.FIT_ROWS), rows=table.num_rows)
    assert fitted is not None
    assert fitted.rows == 200_000 and fitted.fit_rows == mv.FIT_ROWS
    assert fitted.chunk_rows == mv.FIT_ROWS // 20 and len(fitted.chunk_errors) == 20
    small = fitted.band(500, 3.0)
    chunk = fitted.band(mv.CHUNK_ROWS, 3.0)
    huge = fitted.band(5_000_000, 3.0)
    assert small[1] - small[0] > chunk[1] - chunk[0]
    assert chunk == huge
    # × √(5000 / 500) in the batch's part; the reference mean's own uncertainty stays.
    assert 0.9 * mv.CHUNK_ROWS / 500 < (small[2] / chunk[2]) ** 2 < mv.CHUNK_ROWS / 500


def test_parquet_sample_is_the_in_memory_sample(tmp_path: Path) -> None:
    table = pa.Table.from_pandas(_frame(230_017, 6), preserve_index=False)
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=50_000)
    names = ["a", "b", "plan"]
    from_file = mv.sample_file(path, names, mv.FIT_ROWS)
    in_memory = mv.sample_table(table, mv.FIT_ROWS, names)
    assert from_file.num_rows == in_memory.num_rows == mv.FIT_ROWS
    assert from_file.to_pydict() == in_memory.to_pydict()
    assert mv.reference_json(path) == mv.reference_json(table)  # deterministic either way
    small = mv.sample_file(path, names, 10_000)
    assert small.num_rows == 10_000 and small.column("a")[0].as_py() == table.column("a")[0].as_py()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"method": "lda"}, "monitor.multivariate.method must be one of pca, classifier, both; got 'lda'."),
        ({"variance": 1.5}, "monitor.multivariate.variance must be a number between 0 and 1 (exclusive), e.g. 0.65; got 1.5."),
        ({"sigma": 0}, "monitor.multivariate.sigma must be a number > 0, e.g. 3; got 0."),
        ({"auc": 0.4}, "monitor.multivariate.auc must be a number between 0.5 and 1 (exclusive), e.g. 0.55; got 0.4."),
        ({"sample_rows": 10}, "monitor.multivariate.sample_rows must be a whole number ≥ 100, e.g. 50000; got 10."),
        ({"enabled": "yes"}, "monitor.multivariate.enabled must be true or false; got 'yes'."),
        ({"chunk": 5}, "unknown setting 'chunk' in monitor.multivariate; allowed: enabled, method, variance, sigma, auc, sample_rows."),
    ],
)  # fmt: skip
def test_bad_settings_are_one_line_config_errors(setting: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        MonitorRules.from_mapping({"multivariate": setting})
    assert str(info.value) == message


def test_settings() -> None:
    rules = MonitorRules.from_mapping(
        {"multivariate": {"method": "both", "variance": 0.8, "sigma": 4, "auc": 0.6}}
    ).multivariate
    assert rules.pca and rules.classifier and rules.variance == 0.8 and rules.sigma == 4.0
    assert not MonitorRules.from_mapping({"multivariate": {"enabled": False}}).multivariate.pca


def test_auc_threshold_reaches_above_chance_at_small_samples() -> None:
    assert mv.auc_threshold(0.55, 50_000, 50_000) == 0.55
    assert 0.59 < mv.auc_threshold(0.55, 569, 200) < 0.61


def test_domain_classifier_finds_a_flipped_correlation() -> None:
    reference = pa.Table.from_pandas(_frame(10_000, 7), preserve_index=False)
    same = pa.Table.from_pandas(_frame(10_000, 8), preserve_index=False)
    flipped = pa.Table.from_pandas(_frame(10_000, 9, flip=True), preserve_index=False)
    features = mv.features_of(reference, reference.column_names)
    quiet = mv.domain_classifier(reference, same, features)
    loud = mv.domain_classifier(reference, flipped, features)
    assert abs(quiet.auc - 0.5) < 0.03 and not quiet.drifted
    assert loud.auc > 0.75 and loud.drifted
    assert {c for c, _ in loud.importances[:2]} == {"a", "b"}
