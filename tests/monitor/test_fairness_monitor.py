"""Fairness in real monitor runs: sensitive= through modelbook.monitor on registry files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression

import modelbook
from modelbook.errors import ConfigError, DataError

FEATURES = ["x1", "x2"]


def applicants(n: int, seed: int, *, shift: float = 0.0, null_rows: int = 0) -> pd.DataFrame:
    """Two features and a gender the model never sees; ``shift`` moves F's x1 (a gap appears)."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["F", "M"], n)
    x1 = rng.normal(0.0, 1.0, n) - shift * (gender == "F")
    x2 = rng.normal(0.0, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x1 + x2)))).astype(int)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "gender": gender, "y": y})
    frame["gender"] = frame["gender"].astype(object)
    frame.loc[frame.index[:null_rows], "gender"] = None
    return frame


def register_credit() -> None:
    train, held_out = applicants(4000, 0), applicants(2000, 1)
    model = LogisticRegression().fit(train[FEATURES], train["y"])
    modelbook.register(
        model,
        name="credit",
        data=train[[*FEATURES, "gender"]],
        target=train["y"],
        eval_data=held_out[[*FEATURES, "gender"]],
        eval_target=held_out["y"],
    )


def named(report: Any, name: str) -> Any:
    found = [c for c in report.checks if c.check == name]
    assert len(found) == 1, [str(c) for c in report.checks if c.check.startswith("fairness")]
    return found[0]


def baselines(home: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(home / "registry.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT kind, name, version, key, value FROM derived_statistics ORDER BY key"
        ).fetchall()
    finally:
        con.close()


def test_a_gap_alerts_against_the_threshold_and_the_evaluation_baseline(registry: Path) -> None:
    register_credit()
    batch = applicants(3000, 2, shift=1.2, null_rows=12)
    report = modelbook.monitor("credit", data=batch, target="y", sensitive=["gender"])
    dp = named(report, "fairness.gender.demographic_parity_ratio")
    assert dp.status == "alert"
    assert re.fullmatch(
        r"ratio 0\.\d\d < 0\.8 \(selection rate F 0\.\d{3} vs M 0\.\d{3}; 2 of 3 groups\)",
        dp.message,
    ), dp.message
    assert dp.threshold == 0.8 and dp.statistic is not None and dp.statistic < 0.8
    change = named(report, "fairness.gender.demographic_parity_ratio.change")
    assert change.status == "alert"
    assert re.fullmatch(
        r"ratio 0\.\d\d, (0\.9\d|1\.00) on credit-eval@1 \(×0\.\d\d < 0\.8\)", change.message
    ), change.message
    eo = named(report, "fairness.gender.equal_opportunity_difference")
    assert eo.status == "alert" and eo.message.startswith("difference 0.")
    for check in report.checks:
        assert "legal" not in check.message and "biased" not in check.message
    fairness = report.fairness
    assert fairness is not None
    assert (fairness["task"], fairness["labels"], fairness["positive"]) == ("binary", True, "1")
    (column,) = fairness["columns"]
    assert column["key"] == "gender" and column["by"] == ["gender"]
    assert column["baseline"] == {"source": "evaluation", "dataset": "credit-eval@1", "note": None}
    null = next(g for g in column["groups"] if g["value"] == "(null)")
    assert null["rows"] == 12 and null["status"] == "insufficient"
    assert null["reason"] == "12 rows < min_group 30"
    # The model's measured metrics per group: scikit-learn's on that group's rows.
    from sklearn.metrics import accuracy_score, recall_score

    female = next(g for g in column["groups"] if g["value"] == "F")
    rows = (batch["gender"] == "F").to_numpy()
    model = modelbook.load("credit")
    predicted = model.predict(batch.loc[rows, FEATURES])
    assert female["metrics"]["accuracy"] == pytest.approx(
        accuracy_score(batch.loc[rows, "y"], predicted), abs=1e-12
    )
    assert female["metrics"]["recall"] == pytest.approx(female["tpr"], abs=1e-12)
    assert recall_score(batch.loc[rows, "y"], predicted) == pytest.approx(female["tpr"], abs=1e-12)
    measure = next(m for m in column["measures"] if m["name"] == "demographic_parity_ratio")
    assert measure["groups_covered"] == 2 and measure["groups_total"] == 3
    assert measure["change"] == pytest.approx(measure["value"] - measure["baseline"])
    # The report round-trips through the stored JSON (the history and the views read that).
    stored = modelbook.history("credit")
    assert stored is not None
    # The baseline was computed once and kept; a second run reads it.
    kept = baselines(registry)
    assert [(k, n, v) for k, n, v, *_ in kept] == [("fairness_baseline", "credit", 1)]
    again = modelbook.monitor("credit", data=batch, target="y", sensitive=["gender"])
    assert baselines(registry) == kept
    assert named(again, "fairness.gender.demographic_parity_ratio.change").message == change.message


def test_no_gap_is_ok_and_rules_move_the_thresholds(registry: Path) -> None:
    register_credit()
    batch = applicants(3000, 3)
    report = modelbook.monitor("credit", data=batch, target="y", sensitive=["gender"], store="none")
    statuses = {c.check: c.status for c in report.checks if c.check.startswith("fairness")}
    assert statuses and set(statuses.values()) == {"ok"}, statuses
    strict = modelbook.monitor(
        "credit",
        data=batch,
        target="y",
        sensitive=["gender"],
        store="none",
        rules={"fairness": {"ratio": 0.999, "min_group": 2000}},
    )
    dp = named(strict, "fairness.gender.demographic_parity_ratio")
    assert dp.status == "info"  # each gender has ~1500 rows < 2000: insufficient, said so
    assert dp.message == (
        "insufficient: 0 of 2 groups have enough rows and estimated selection rate "
        "(needs 2; min_group 2000)"
    )
    assert strict.status != "error"
    with pytest.raises(ConfigError, match=r"unknown setting 'ratios' in monitor\.fairness"):
        modelbook.monitor(
            "credit", data=batch, sensitive=["gender"], rules={"fairness": {"ratios": 0.9}}
        )


def test_without_labels_only_the_selection_rate_is_measured(registry: Path) -> None:
    register_credit()
    batch = applicants(3000, 4, shift=1.2).drop(columns="y")
    report = modelbook.monitor("credit", data=batch, sensitive=["gender"], store="none")
    assert named(report, "fairness.gender.demographic_parity_ratio").status == "alert"
    eo = named(report, "fairness.gender.equalized_odds_difference")
    assert eo.status == "info"
    assert eo.message == "insufficient: no labels; TPR and FPR need the batch's labels (target=)"
    fairness = report.fairness
    assert fairness is not None and fairness["labels"] is False
    assert fairness["note"] == "no labels: selection rate only"
    assert all(g["tpr"] is None for g in fairness["columns"][0]["groups"])


def test_a_batch_only_column_has_no_baseline_and_says_so(registry: Path) -> None:
    register_credit()
    batch = applicants(3000, 5).assign(region=lambda f: np.where(f.index % 3 == 0, "n", "s"))
    report = modelbook.monitor("credit", data=batch, target="y", sensitive=["region"], store="none")
    note = named(report, "fairness.baseline")
    assert note.status == "info"
    assert note.message == (
        "no fairness baseline: credit-eval@1 has no column 'region'; "
        "credit-training@1 has no column 'region'"
    )
    assert not [c for c in report.checks if c.check.endswith(".change")]
    fairness = report.fairness
    assert fairness is not None
    assert fairness["columns"][0]["baseline"]["source"] is None


def test_breast_cancer_intersection(registry: Path) -> None:
    data = load_breast_cancer(as_frame=True)
    frame: pd.DataFrame = data.frame
    features = list(data.feature_names[:10])
    model = LogisticRegression(max_iter=5000).fit(frame[features], frame["target"])
    modelbook.register(model, name="tumour", data=frame[features], target=frame["target"])
    batch = frame[features].assign(
        size=pd.qcut(frame["mean radius"], 2, labels=["small", "large"]).astype(str),
        texture=pd.qcut(frame["mean texture"], 2, labels=["smooth", "rough"]).astype(str),
    )
    report = modelbook.monitor(
        "tumour",
        data=batch,
        target=frame["target"].to_numpy(),
        sensitive=[("size", "texture")],
        store="none",
    )
    fairness = report.fairness
    assert fairness is not None
    (column,) = fairness["columns"]
    assert column["key"] == "size*texture" and column["by"] == ["size", "texture"]
    assert {g["value"] for g in column["groups"]} == {
        "large*rough", "large*smooth", "small*rough", "small*smooth",
    }  # fmt: skip
    assert sum(g["rows"] for g in column["groups"]) == len(frame)
    # Large tumours are nearly all malignant (label 0): too few positives for a TPR, said.
    for group in column["groups"]:
        if group["tpr"] is None:
            assert "positives < min_positives 10: TPR not estimated" in group["reason"]
            assert "tpr" in group["insufficient_for"]
    named(report, "fairness.size*texture.demographic_parity_ratio")


def test_regression_error_ratio_on_diabetes(registry: Path) -> None:
    data = load_diabetes(as_frame=True, scaled=False)
    frame: pd.DataFrame = data.frame
    features = [c for c in data.feature_names if c != "sex"]
    model = LinearRegression().fit(frame[features], frame["target"])
    modelbook.register(model, name="progression", data=frame[features], target=frame["target"])
    batch = frame[features].assign(sex=frame["sex"])
    report = modelbook.monitor(
        "progression",
        data=batch,
        target=frame["target"].to_numpy(),
        sensitive=["sex"],
        store="none",
    )
    fairness = report.fairness
    assert fairness is not None and fairness["task"] == "regression"
    (column,) = fairness["columns"]
    groups = {g["value"]: g for g in column["groups"]}
    assert set(groups) == {"1.0", "2.0"}
    for g in groups.values():
        assert g["mae"] > 0 and g["rmse"] >= g["mae"] and g["selection_rate"] is None
    mae = named(report, "fairness.sex.mae_ratio")
    low, high = sorted(g["mae"] for g in groups.values())
    assert mae.statistic == pytest.approx(low / high)
    assert mae.status in ("ok", "alert") and mae.message.startswith(f"ratio {low / high:.2f} ")
    named(report, "fairness.sex.rmse_ratio")


def test_multiclass_is_one_vs_rest_per_class_on_wine(registry: Path) -> None:
    data = load_wine(as_frame=True)
    frame: pd.DataFrame = data.frame
    features = list(data.feature_names)
    model = LogisticRegression(max_iter=10_000).fit(frame[features], frame["target"])
    modelbook.register(model, name="cellar", data=frame[features], target=frame["target"])
    rng = np.random.default_rng(0)
    batch = frame[features].assign(site=rng.choice(["east", "west"], len(frame)))
    report = modelbook.monitor(
        "cellar", data=batch, target=frame["target"].to_numpy(), sensitive=["site"], store="none"
    )
    fairness = report.fairness
    assert fairness is not None and fairness["task"] == "multiclass"
    assert fairness["note"] == "multiclass: one-vs-rest per class"
    assert [c["class"] for c in fairness["columns"]] == [
        "0 (one-vs-rest)", "1 (one-vs-rest)", "2 (one-vs-rest)",
    ]  # fmt: skip
    for cls in (0, 1, 2):
        check = named(report, f"fairness.site.class={cls}.demographic_parity_ratio")
        assert check.message.startswith(f"{cls} (one-vs-rest): ratio ")
    json.dumps(report.to_dict())  # plain JSON all the way


def test_sensitive_bad_input_is_refused_before_anything_runs(registry: Path) -> None:
    register_credit()
    batch = applicants(500, 6)
    with pytest.raises(DataError, match="sensitive column 'race' is not in the batch"):
        modelbook.monitor("credit", data=batch, sensitive=["race"])
    many = applicants(1500, 7)
    ids = many.assign(customer=[f"c{i}" for i in range(len(many))])
    with pytest.raises(DataError) as raised:
        modelbook.monitor("credit", data=ids, sensitive=["customer"], store="none")
    assert str(raised.value) == (
        "sensitive 'customer' has 1,500 groups (> 1,000): fairness compares groups; bucket it "
        "(e.g. age bands) or pass a column with fewer values."
    )


def test_a_parquet_batch_through_the_cli_with_an_intersection(
    registry: Path, tmp_path: Path
) -> None:
    """The shell path: `modelbook monitor --sensitive gender gender*band` on a Parquet file."""
    import subprocess
    import sys

    register_credit()
    batch = applicants(3000, 8, shift=1.2)
    batch["band"] = np.where(batch["x2"] > 0, "high", "low")
    path = tmp_path / "batch.parquet"
    batch.to_parquet(path)
    done = subprocess.run(
        [sys.executable, "-m", "modelbook", "monitor", "credit", "--data", str(path),
         "--target", "y", "--sensitive", "gender", "gender*band", "--json"],
        capture_output=True, text=True, env={**os.environ, "MODELBOOK_HOME": str(registry)},
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr  # 1: the run alerted
    data = json.loads(done.stdout)
    keys = [c["key"] for c in data["fairness"]["columns"]]
    assert keys == ["gender", "gender*band"]
    groups = [g["value"] for g in data["fairness"]["columns"][1]["groups"]]
    assert groups == ["F*high", "F*low", "M*high", "M*low"]
    checks = {c["check"]: c for c in data["checks"]}
    dp = checks["fairness.gender*band.demographic_parity_ratio"]
    assert dp["status"] == "alert" and dp["message"].startswith("ratio 0.")
    assert dp["message"].endswith("; 4 of 4 groups)")


def test_the_magic_takes_sensitive_columns(ip: Any) -> None:
    register_credit()
    ip.user_ns["batch"] = applicants(3000, 9, shift=1.2)
    report = ip.run_line_magic(
        "monitor", "credit --data batch --target y --sensitive gender --store none"
    )
    assert named(report, "fairness.gender.demographic_parity_ratio").status == "alert"
    assert report.fairness is not None and report.fairness["columns"][0]["key"] == "gender"


def test_without_an_evaluation_set_the_training_data_is_the_baseline(registry: Path) -> None:
    train = applicants(4000, 0)
    model = LogisticRegression().fit(train[FEATURES], train["y"])
    modelbook.register(model, name="credit", data=train[[*FEATURES, "gender"]], target=train["y"])
    batch = applicants(3000, 10, shift=1.2)
    report = modelbook.monitor("credit", data=batch, target="y", sensitive=["gender"])
    fairness = report.fairness
    assert fairness is not None
    assert fairness["columns"][0]["baseline"] == {
        "source": "training", "dataset": "credit-training@1", "note": None,
    }  # fmt: skip
    change = named(report, "fairness.gender.equal_opportunity_difference.change")
    assert change.status == "alert"
    assert re.fullmatch(
        r"difference 0\.\d{3}, 0\.0\d\d on credit-training@1 \(\+0\.\d{3} > 0\.1\)", change.message
    ), change.message
    # Severities come from [tool.modelbook.monitor.checks]: reported, never alerting.
    quiet = modelbook.monitor(
        "credit", data=batch, target="y", sensitive=["gender"], store="none",
        rules={"checks": {"fairness.disparity": "info", "fairness.change": "off"}},
    )  # fmt: skip
    assert named(quiet, "fairness.gender.demographic_parity_ratio").status == "info"
    assert not [c for c in quiet.checks if c.check.endswith(".change")]


def test_the_fairness_table_of_pyproject_is_read(registry: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.modelbook.monitor.fairness]\n"
        'min_group = 40\nmin_positives = 5\nratio = 0.9\ndifference = 0.05\nreference_group = "M"\n'
    )
    register_credit()
    report = modelbook.monitor(
        "credit", data=applicants(3000, 11), target="y", sensitive=["gender"], store="none"
    )
    fairness = report.fairness
    assert fairness is not None
    assert fairness["settings"] == {
        "min_group": 40, "min_positives": 5, "ratio": 0.9, "difference": 0.05,
        "method": "between_groups", "reference_group": "M",
    }  # fmt: skip
    dp = named(report, "fairness.gender.demographic_parity_ratio")
    assert dp.test == "reference_group=M" and dp.threshold == 0.9
    (tmp_path / "pyproject.toml").write_text("[tool.modelbook.monitor.fairness]\nmin_grup = 40\n")
    with pytest.raises(ConfigError) as raised:
        modelbook.monitor("credit", data=applicants(300, 12), sensitive=["gender"])
    assert str(raised.value) == (
        "unknown setting 'min_grup' in monitor.fairness; allowed: min_group, min_positives, "
        "ratio, difference, method, reference_group."
    )


def test_served_scores_and_labels_of_the_wrong_type(registry: Path) -> None:
    """A model served elsewhere (scores=): its decisions are the batch's scores; labels of
    another type than the model's classes leave only the selection rate, saying why."""
    train = applicants(4000, 0).assign(y=lambda f: np.where(f["y"] == 1, "yes", "no"))
    model = LogisticRegression().fit(train[FEATURES], train["y"])
    modelbook.register(model, name="credit", data=train[[*FEATURES, "gender"]], target=train["y"])
    batch = applicants(3000, 13, shift=1.2)
    batch["p_yes"] = model.predict_proba(batch[FEATURES])[:, 1]
    labels = np.where(batch.pop("y") == 1, "yes", "no")
    served = modelbook.monitor(
        "credit", data=batch, target=labels, sensitive=["gender"], scores="p_yes", store="none"
    )
    assert served.fairness is not None and served.fairness["positive"] == "yes"
    assert named(served, "fairness.gender.equal_opportunity_difference").status == "alert"
    wrong = modelbook.monitor(
        "credit", data=batch.drop(columns="p_yes"), target=(labels == "yes").astype(int),
        sensitive=["gender"], store="none",
    )  # fmt: skip
    fairness = wrong.fairness
    assert fairness is not None and fairness["labels"] is False
    problem = (
        "labels are integers (0, 1) but the model predicts strings ('no', 'yes'): pass labels "
        "of the model's type"
    )
    assert fairness["note"] == f"selection rate only: {problem}"
    assert named(wrong, "fairness.gender.equalized_odds_ratio").message == (
        f"insufficient: {problem}"
    )
    assert named(wrong, "fairness.gender.demographic_parity_ratio").status == "alert"
