"""Registering and loading through the API, on a real registry on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import modelbook as mb
from modelbook.registry.objects import temp_host
from modelbook.results import DatasetVersion, ModelVersion
from team_server import registry_connection


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, 500),
            "visits": rng.integers(0, 20, 500),
            "plan": rng.choice(["free", "pro", "team"], 500),
        }
    )


@pytest.fixture
def labels(frame: pd.DataFrame) -> pd.Series:
    return pd.Series((frame["age"] > 40).astype(int), name="churned")


def _fit(frame: pd.DataFrame, labels: pd.Series, **params: object) -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=5, random_state=0, **params).fit(
        frame[["age", "visits"]], labels
    )


def test_register_dataset_roundtrip_and_dedup(registry: Path, frame: pd.DataFrame) -> None:
    first = mb.register(frame, name="customers")
    assert isinstance(first, DatasetVersion)
    assert (first.ref, first.n_rows, first.n_columns, first.reused) == (
        "customers@1",
        500,
        3,
        False,
    )
    again = mb.register(frame.copy(), name="customers")
    assert (again.version, again.reused) == (1, True)
    assert "already stored (identical data)" in str(again)
    changed = frame.copy()
    changed.loc[0, "plan"] = "enterprise"
    second = mb.register(changed, name="customers")
    assert second.version == 2
    assert second.changes == ("same shape as v1; values differ",)
    pd.testing.assert_frame_equal(mb.load("customers@1"), frame)
    pd.testing.assert_frame_equal(mb.load("customers"), changed)
    # one Parquet blob per distinct dataset version
    blobs = list((registry / "objects").glob("??/*"))
    assert len(blobs) == 2
    assert pq.ParquetFile(blobs[0]).metadata.row_group(0).column(0).compression == "ZSTD"


def test_profile_is_stored_in_duckdb(registry: Path, frame: pd.DataFrame) -> None:
    mb.register(frame, name="customers")
    con = registry_connection()
    rows = con.execute(
        "SELECT name, kind, count, nulls, min, max, mean, top_values FROM column_profiles "
        "WHERE dataset = 'customers' ORDER BY position"
    ).fetchall()
    con.close()
    assert [r[0] for r in rows] == ["age", "visits", "plan"]
    age = rows[0]
    assert age[1] == "numeric" and age[2] == 500 and age[3] == 0
    assert age[4] == pytest.approx(frame["age"].min())
    assert age[5] == pytest.approx(frame["age"].max())
    assert age[6] == pytest.approx(frame["age"].mean())
    assert sorted(rows[2][7]) == ["free", "pro", "team"]


@pytest.mark.parametrize("kind", ["arrow", "polars", "numpy", "parquet", "csv"])
def test_register_other_table_types(
    registry: Path, tmp_path: Path, frame: pd.DataFrame, kind: str
) -> None:
    import polars as pl

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if kind == "arrow":
        obj: object = table
    elif kind == "polars":
        obj = pl.from_pandas(frame)
    elif kind == "numpy":
        obj = frame[["age", "visits"]].to_numpy()
    elif kind == "parquet":
        obj = tmp_path / "data.parquet"
        pq.write_table(table, obj)
    else:
        obj = tmp_path / "data.csv"
        frame.to_csv(obj, index=False)
    version = mb.register(obj, name="data")
    assert isinstance(version, DatasetVersion)
    assert version.n_rows == 500
    loaded = mb.load("data")
    assert len(loaded) == 500
    if kind == "numpy":
        assert list(loaded.columns) == ["x0", "x1"]
        np.testing.assert_allclose(loaded.to_numpy(), frame[["age", "visits"]].to_numpy())
    else:
        np.testing.assert_allclose(loaded["age"].to_numpy(), frame["age"].to_numpy())
        assert list(loaded["plan"]) == list(frame["plan"])


def test_register_file_name_defaults_to_stem(
    registry: Path, tmp_path: Path, frame: pd.DataFrame
) -> None:
    path = tmp_path / "scoring_batch.csv"
    frame.to_csv(path, index=False)
    assert mb.register(path).ref == "scoring_batch@1"
    assert mb.register(str(path)).reused


def test_register_model_with_lineage_signature_and_environment(
    registry: Path, frame: pd.DataFrame, labels: pd.Series
) -> None:
    model = _fit(frame, labels)
    version = mb.register(
        model,
        name="churn",
        data=frame,
        target=labels,
        metrics={"auc": 0.91},
        tag={"team": "risk"},
        notes="first try",
        alias="production",
    )
    assert isinstance(version, ModelVersion)
    assert version.ref == "churn@1"
    assert version.flavor == "sklearn" and version.trusted
    assert version.train_dataset == "churn-training@1"
    assert version.metrics == {"auc": 0.91}
    assert version.params["n_estimators"] == 5
    assert version.aliases == ("production",)
    assert version.tags == {"team": "risk"}
    assert version.environment["packages"]["scikit-learn"]
    signature = version.signature
    assert signature is not None and signature["target"] == "churned"
    columns = {c["name"]: c for c in signature["columns"]}
    assert set(columns) == {"age", "visits", "plan"}
    assert columns["plan"]["categories"] == sorted(columns["plan"]["categories"]) or set(
        columns["plan"]["categories"]
    ) == {"free", "pro", "team"}
    assert columns["age"]["min"] == pytest.approx(frame["age"].min())
    training = mb.load("churn-training")
    assert list(training.columns) == ["age", "visits", "plan", "churned"]
    loaded = mb.load("churn@production")
    np.testing.assert_array_equal(
        loaded.predict(frame[["age", "visits"]]), model.predict(frame[["age", "visits"]])
    )


def test_model_versions_report_changes(
    registry: Path, frame: pd.DataFrame, labels: pd.Series
) -> None:
    mb.register(_fit(frame, labels), name="churn", metrics={"auc": 0.9})
    second = mb.register(_fit(frame, labels, max_depth=3), name="churn", metrics={"auc": 0.92})
    assert second.version == 2
    assert second.changes == ("parameters: max_depth: None → 3", "auc: 0.9 → 0.92 (+0.02)")


def test_pipeline_and_untrusted_pickle(
    registry: Path, frame: pd.DataFrame, labels: pd.Series
) -> None:
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        frame[["age", "visits"]], labels
    )
    assert mb.register(pipeline, name="pipe").flavor == "sklearn"
    assert type(mb.load("pipe")).__name__ == "Pipeline"

    version = mb.register(_PickledModel(), name="custom")
    assert (version.flavor, version.trusted) == ("pickle", False)
    with pytest.raises(mb.UntrustedArtifactError) as info:
        mb.load("custom")
    assert str(info.value) == (
        "model custom@1 was stored with pickle, and unpickling can run arbitrary code: load it "
        "with trust=True (--trust) only if you trust whoever registered it."
    )
    assert mb.load("custom", trust=True).predict([1]) == [42]


class _PickledModel:
    def predict(self, rows: list[int]) -> list[int]:
        return [42 for _ in rows]


def test_native_boosters(registry: Path, frame: pd.DataFrame, labels: pd.Series) -> None:
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    X = frame[["age", "visits"]]
    booster = xgb.XGBClassifier(n_estimators=5).fit(X, labels)
    assert mb.register(booster, name="xgb").flavor == "xgboost"
    np.testing.assert_array_equal(mb.load("xgb").predict_proba(X), booster.predict_proba(X))
    light = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, labels)
    assert mb.register(light, name="lgb").flavor == "lightgbm"
    np.testing.assert_array_equal(mb.load("lgb").predict_proba(X), light.predict_proba(X))


def test_aliases_move_and_keep_a_trail(
    registry: Path, frame: pd.DataFrame, labels: pd.Series
) -> None:
    for depth in (2, 3, 4):  # three different models: three versions
        mb.register(_fit(frame, labels, max_depth=depth), name="churn")
    assert mb.alias("churn@1", "production").previous is None
    change = mb.alias("churn@3", "production")
    assert (change.version, change.previous) == (3, 1)
    assert mb.show("churn@production").version == 3
    rollback = mb.alias("churn@1", "production")
    assert str(rollback) == "churn@production → version 1 (was 3)"
    trail = mb.alias_history("churn").to_frame()
    assert list(trail["from"].fillna(0).astype(int)) == [0, 1, 3]
    assert list(trail["to"]) == [1, 3, 1]
    removed = mb.unalias("churn@production")
    assert removed.previous == 1
    with pytest.raises(mb.NotFoundError) as info:
        mb.show("churn@production")
    assert str(info.value) == (
        "churn has no alias 'production'; churn has no aliases; set one with "
        "`%modelbook alias churn@N production`."
    )


def test_listing_and_requirements(registry: Path, frame: pd.DataFrame, labels: pd.Series) -> None:
    mb.register(_fit(frame, labels), name="churn", data=frame, target=labels)
    listing = mb.ls()
    assert [(r[0], r[1], r[2]) for r in listing.rows] == [
        ("churn", "model", 1),
        ("churn-training", "dataset", 1),
    ]
    versions = mb.ls("churn").to_frame()
    assert list(versions["trained on"]) == ["churn-training@1"]
    text = mb.requirements("churn")
    assert "scikit-learn==" in text and text.startswith("# environment of churn@1\n# python ")


def test_mimebundle_has_all_three_views(registry: Path, frame: pd.DataFrame) -> None:
    bundle = mb.register(frame, name="customers")._repr_mimebundle_()
    assert bundle["text/plain"].startswith("dataset customers@1 stored: 500 rows × 3 columns")
    assert "<script" not in bundle["text/html"] and "customers@1" in bundle["text/html"]
    payload = bundle["application/vnd.modelbook.v1+json"]
    assert payload["type"] == "dataset_version" and payload["data"]["n_rows"] == 500
    json.dumps(payload)


def test_gc_removes_orphans_only(registry: Path, frame: pd.DataFrame) -> None:
    mb.register(frame, name="customers")
    orphan = registry / "objects" / "ff" / ("0" * 62)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a crash")
    # A temporary file of a process that has exited (a crash mid-registration).
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale_tmp = (
        registry / "objects" / "tmp" / f"{temp_host()}_{done.stdout.strip()}_{'a' * 16}.parquet"
    )
    stale_tmp.write_bytes(b"partial")
    assert mb.gc(grace_seconds=3600).removed_files == 0  # too young
    report = mb.gc(grace_seconds=0)
    assert report.removed_files == 2
    assert not orphan.exists() and not stale_tmp.exists()
    pd.testing.assert_frame_equal(mb.load("customers"), frame)


# -- issue 10, item 2: a registration is all or nothing -------------------------------------------


class _Unpicklable:
    """A model (it has predict) that cannot be serialised: it holds a lambda."""

    def __init__(self) -> None:
        self.scale = lambda x: x

    def predict(self, rows: object) -> object:
        return rows


def _table_counts(registry: Path) -> dict[str, int]:
    con = registry_connection()
    try:
        return {
            table: int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
            for table in ("entries", "dataset_versions", "column_profiles", "model_versions")
        }
    finally:
        con.close()


def test_unserialisable_model_leaves_no_training_dataset(
    registry: Path, frame: pd.DataFrame, labels: pd.Series
) -> None:
    mb.register(frame, name="customers")  # something already stored, which must stay as it is
    before = _table_counts(registry)
    with pytest.raises(mb.UnsupportedObjectError) as info:
        mb.register(_Unpicklable(), name="odd", data=frame, target=labels)
    assert str(info.value).startswith(
        "cannot store test_register._Unpicklable: it cannot be pickled ("
    )
    assert _table_counts(registry) == before
    with pytest.raises(mb.NotFoundError):
        mb.show("odd-training")
    assert len(list(registry.glob("objects/??/*"))) == 1  # only customers@1
    assert list(registry.glob("objects/tmp/*")) == []
    model = _fit(frame, labels)
    assert mb.register(model, name="odd", data=frame, target=labels).train_dataset == (
        "odd-training@1"
    )


def test_a_refused_model_rolls_back_its_training_data(
    registry: Path, frame: pd.DataFrame, labels: pd.Series, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure inside the transaction (here: the name turns out to be a dataset, as when
    another process claims it meanwhile) leaves neither the model nor its training data."""
    from modelbook.registry.store import Registry

    mb.register(frame, name="churn")
    before = _table_counts(registry)
    monkeypatch.setattr(Registry, "kind_of", lambda self, name: None)  # skip the early check
    with pytest.raises(mb.InvalidNameError) as info:
        mb.register(_fit(frame, labels), name="churn", data=frame, target=labels)
    assert str(info.value) == (
        "'churn' is already a dataset; register the model under another name."
    )
    assert _table_counts(registry) == before
    assert list(registry.glob("objects/tmp/*")) == []


# -- issue 10, item 6: an identical model returns the stored version ----------------------------


def test_identical_model_returns_the_stored_version(
    registry: Path, frame: pd.DataFrame, labels: pd.Series
) -> None:
    first = mb.register(_fit(frame, labels), name="churn", data=frame, target=labels)
    again = mb.register(_fit(frame, labels), name="churn", data=frame, target=labels)
    assert (first.version, first.reused) == (1, False)
    assert (again.version, again.reused, again.train_dataset) == (1, True, "churn-training@1")
    assert len(list(registry.glob("objects/??/*"))) == 2
    # another seed, other data, other labels, another class: a new version each
    assert (
        mb.register(
            _fit(frame, labels, max_depth=4), name="churn", data=frame, target=labels
        ).version
        == 2
    )
    shifted = frame.assign(age=frame["age"] + 1)
    assert mb.register(_fit(frame, labels), name="churn", data=shifted, target=labels).version == 3
    assert (
        mb.register(
            _fit(frame, labels), name="churn", data=frame, target=labels.rename("other")
        ).version
        == 4
    )
    assert mb.register(_fit(frame, labels), name="churn").version == 5  # no training data
    assert mb.register(_fit(frame, labels), name="churn").reused
    con = registry_connection()
    identities = [r[0] for r in con.execute("SELECT identity FROM model_versions").fetchall()]
    con.close()
    assert len(set(identities)) == 5 and all(i.startswith("xxh3:") for i in identities)


def test_alias_moves_only_when_the_version_differs(
    registry: Path, frame: pd.DataFrame, labels: pd.Series
) -> None:
    def register(depth: int | None) -> ModelVersion:
        version = mb.register(
            _fit(frame, labels, max_depth=depth), name="churn", alias="production"
        )
        assert isinstance(version, ModelVersion)
        return version

    assert register(None).version == 1
    assert register(None).reused  # same version: the trail records nothing
    assert register(3).version == 2  # moves to 2
    assert register(3).reused
    assert register(None).version == 1  # an identical model of v1, with the alias: back to 1
    trail = mb.alias_history("churn").to_frame()
    assert list(trail["from"].fillna(0).astype(int)) == [0, 1, 2]
    assert list(trail["to"]) == [1, 2, 1]


REGISTER_IN_A_NEW_PROCESS = """
import json, sys
import numpy as np, pandas as pd
from sklearn.ensemble import RandomForestClassifier
import modelbook as mb
rng = np.random.default_rng(7)
X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400),
                  "c": rng.choice(["x", "y"], 400)})
y = ((X.a + X.b) > 0).astype(int)
model = RandomForestClassifier(n_estimators=25, random_state=0).fit(X[["a", "b"]], y)
v = mb.register(model, name="forest", data=X, target=y, alias="production")
print(json.dumps({"version": v.version, "reused": v.reused}))
"""


def _register_in_a_new_process() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", REGISTER_IN_A_NEW_PROCESS], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_rerunning_a_notebook_in_new_processes_stores_nothing_new(registry: Path) -> None:
    """The identity is stable across processes (hash seeds, skops' zip timestamps)."""
    runs = [_register_in_a_new_process() for _ in range(2)]
    assert runs == [{"version": 1, "reused": False}, {"version": 1, "reused": True}]
    assert len(list(registry.glob("objects/??/*"))) == 2
    assert len(mb.alias_history("forest")) == 1
    assert [r[0] for r in mb.ls().rows] == ["forest", "forest-training"]


def test_identity_is_none_for_objects_that_cannot_be_walked() -> None:
    from modelbook.capture.models import model_identity

    class Opaque:
        def __reduce_ex__(self, protocol: object) -> object:
            raise TypeError("no")

    assert model_identity(Opaque()) is None
    assert model_identity({"b": 1, "a": {2, 1}}) == model_identity({"a": {1, 2}, "b": 1})
