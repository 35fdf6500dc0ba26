"""modelbook.stats.fairness against fairlearn (a test dependency only), to 1e-9."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, mean_absolute_error, root_mean_squared_error

from modelbook.errors import ConfigError
from modelbook.stats.fairness import (
    ColumnFairness,
    FairnessRules,
    classification_fairness,
    encode_groups,
    group_metrics,
    regression_fairness,
)

TOL = 1e-9


def seeded(n: int = 6000, seed: int = 7) -> pd.DataFrame:
    """Binary labels and decisions with a built-in gap between groups, and a second column."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["F", "M", "X"], n, p=[0.45, 0.45, 0.10])
    band = rng.choice(["18-30", "31-60", "60+"], n, p=[0.3, 0.5, 0.2])
    base = np.select([gender == "F", gender == "M"], [0.30, 0.45], 0.38)
    y = rng.random(n) < base
    hit = np.where(y, np.where(gender == "F", 0.65, 0.85), np.where(band == "60+", 0.25, 0.10))
    pred = rng.random(n) < hit
    return pd.DataFrame({"gender": gender, "band": band, "y": y.astype(int), "p": pred.astype(int)})


def measure(
    frame: pd.DataFrame, by: list[str], rules: FairnessRules | None = None, **kw: Any
) -> ColumnFairness:
    codes, values = encode_groups(
        [(frame[c].to_numpy(dtype=object), frame[c].isna().to_numpy()) for c in by]
    )
    return classification_fairness(
        codes,
        values,
        frame["p"].to_numpy() == 1,
        truth=frame["y"].to_numpy() == 1,
        rules=rules or FairnessRules(),
        key="*".join(by),
        by=by,
        **kw,
    )


def value(result: ColumnFairness, name: str) -> float:
    found = result.measure(name)
    assert found is not None and found.value is not None, found
    return found.value


def features(frame: pd.DataFrame, by: list[str]) -> Any:
    return frame[by[0]] if len(by) == 1 else frame[by]


@pytest.mark.parametrize("by", [["gender"], ["gender", "band"]], ids=["column", "intersection"])
@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
def test_every_number_equals_fairlearn(by: list[str], method: str) -> None:
    frame = seeded()
    result = measure(frame, by, FairnessRules(method=method))
    y, p, sf = frame["y"], frame["p"], features(frame, by)
    kw: dict[str, Any] = {"sensitive_features": sf, "method": method}
    expected = {
        "demographic_parity_ratio": demographic_parity_ratio(y, p, **kw),
        "demographic_parity_difference": demographic_parity_difference(y, p, **kw),
        "equalized_odds_ratio": equalized_odds_ratio(y, p, **kw),
        "equalized_odds_difference": equalized_odds_difference(y, p, **kw),
        "equal_opportunity_difference": equal_opportunity_difference(y, p, **kw),
    }
    for name, want in expected.items():
        assert abs(value(result, name) - want) < TOL, name
        got = result.measure(name)
        assert got is not None and got.groups_covered == got.groups_total == len(result.groups)
    frame_metrics = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "accuracy": accuracy_score,
            "count": lambda yt, yp: len(yt),
        },
        y_true=y,
        y_pred=p,
        sensitive_features=sf,
    )
    table = frame_metrics.by_group
    assert len(table) == len(result.groups) == (3 if len(by) == 1 else 9)
    for group in result.groups:
        index: Any = tuple(group.value.split("*")) if len(by) > 1 else group.value
        row = table.loc[index]
        assert group.rows == row["count"]
        for rate in ("selection_rate", "tpr", "fpr", "accuracy"):
            assert abs(float(group.rate(rate) or -1) - row[rate]) < TOL, (group.value, rate)
    for rate in ("selection_rate", "tpr", "fpr", "accuracy"):
        assert abs(float(result.overall[rate] or -1) - frame_metrics.overall[rate]) < TOL


def test_the_gap_is_an_alert_with_its_groups_and_coverage() -> None:
    result = measure(seeded(), ["gender"])
    eo = result.measure("equal_opportunity_difference")
    assert eo is not None and eo.status == "alert"
    # F's TPR ≈ 0.65, M's ≈ 0.85: the message names the two groups and the coverage.
    assert eo.message.startswith(f"difference {eo.value:.3f} > 0.1 (TPR F ")
    assert " vs M " in eo.message and eo.message.endswith("; 3 of 3 groups)")
    dp = result.measure("demographic_parity_ratio")
    assert dp is not None and dp.message.startswith(f"ratio {dp.value:.2f} ")
    for text in (m.message for m in result.measures):
        assert "legal" not in text and "bias" not in text


def test_reference_group_compares_every_group_with_the_base() -> None:
    """Arize-style base group: the largest |group − base| and the smallest ratio forced < 1."""
    frame = seeded()
    result = measure(frame, ["gender"], FairnessRules(reference_group="M"))
    table = MetricFrame(
        metrics={"sr": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
        y_true=frame["y"],
        y_pred=frame["p"],
        sensitive_features=frame["gender"],
    ).by_group
    others = table.drop(index="M")

    def diff(col: str) -> float:
        return float((others[col] - table.loc["M", col]).abs().max())

    def ratio(col: str) -> float:
        r = others[col] / table.loc["M", col]
        return float(np.minimum(r, 1 / r).min())

    assert abs(value(result, "demographic_parity_difference") - diff("sr")) < TOL
    assert abs(value(result, "demographic_parity_ratio") - ratio("sr")) < TOL
    assert abs(value(result, "equal_opportunity_difference") - diff("tpr")) < TOL
    assert abs(value(result, "equalized_odds_difference") - max(diff("tpr"), diff("fpr"))) < TOL
    assert abs(value(result, "equalized_odds_ratio") - min(ratio("tpr"), ratio("fpr"))) < TOL
    # A base group the column does not have: said, not guessed.
    missing = measure(frame, ["gender"], FairnessRules(reference_group={"gender": "Z"}))
    dp = missing.measure("demographic_parity_ratio")
    assert dp is not None and dp.status == "insufficient" and dp.value is None
    assert dp.message == "insufficient: reference group 'Z' is not in gender"


def test_small_and_null_groups_are_insufficient_and_absent_from_aggregates() -> None:
    frame = seeded()
    small = frame.iloc[:12].assign(gender="tiny")
    nulls = frame.iloc[12:52].assign(gender=None)  # 40 rows: enough, but null is its own group
    nulls.loc[nulls.index[:30], "gender"] = None
    data = pd.concat([small, nulls.iloc[:20], frame.iloc[52:]], ignore_index=True)
    result = measure(data, ["gender"])
    groups = {g.value: g for g in result.groups}
    assert list(groups) == ["F", "M", "X", "tiny", "(null)"]
    assert groups["tiny"].status == "insufficient"
    assert groups["tiny"].reason == "12 rows < min_group 30"
    assert groups["(null)"].status == "insufficient" and groups["(null)"].rows == 20
    assert groups["(null)"].reason == "20 rows < min_group 30"
    # Their counts are still reported (never dropped) ...
    assert groups["tiny"].rows == 12 and groups["tiny"].selection_rate is not None
    # ... and every aggregate equals fairlearn's over the three sufficient groups only.
    kept = data[data["gender"].isin(["F", "M", "X"])]
    y, p, sf = kept["y"], kept["p"], kept["gender"]
    assert abs(value(result, "demographic_parity_ratio") - demographic_parity_ratio(
        y, p, sensitive_features=sf)) < TOL  # fmt: skip
    assert abs(value(result, "equalized_odds_difference") - equalized_odds_difference(
        y, p, sensitive_features=sf)) < TOL  # fmt: skip
    for m in result.measures:
        assert (m.groups_covered, m.groups_total) == (3, 5), m
        assert m.message.endswith("(3 of 5 groups)") or "; 3 of 5 groups)" in m.message


def test_an_unestimable_tpr_is_never_zero_and_never_enters_equalized_odds() -> None:
    """A group with no positive label: fairlearn gives TPR 0 (so EOD looks huge or hides); here it
    is None, its FPR-only row leaves equalized odds, and the aggregate says so."""
    frame = seeded()
    frame.loc[frame["gender"] == "X", "y"] = 0  # X has negatives only
    result = measure(frame, ["gender"])
    x = next(g for g in result.groups if g.value == "X")
    assert x.tpr is None and x.fpr is not None and x.positives == 0
    assert x.status == "ok" and x.insufficient_for == ("tpr",)
    assert x.reason == "0 positives < min_positives 10: TPR not estimated"
    lenient = MetricFrame(
        metrics=true_positive_rate,
        y_true=frame["y"],
        y_pred=frame["p"],
        sensitive_features=frame["gender"],
    ).by_group
    assert lenient["X"] == 0.0  # the failure mode this module avoids
    kept = frame[frame["gender"] != "X"]
    kw: dict[str, Any] = {"sensitive_features": kept["gender"]}
    eod = equalized_odds_difference(kept["y"], kept["p"], **kw)
    assert abs(value(result, "equalized_odds_difference") - eod) < TOL
    eo = result.measure("equalized_odds_difference")
    assert eo is not None and (eo.groups_covered, eo.groups_total) == (2, 3)
    dp = result.measure("demographic_parity_difference")  # selection rate needs no label
    assert dp is not None and dp.groups_covered == 3


def test_too_few_positives_for_tpr_leaves_the_group_out_with_the_count() -> None:
    frame = seeded()
    x_pos = frame.index[(frame["gender"] == "X") & (frame["y"] == 1)]
    frame.loc[x_pos[7:], "y"] = 0  # X keeps 7 positive labels
    x = next(g for g in measure(frame, ["gender"]).groups if g.value == "X")
    assert x.positives == 7 and x.tpr is None
    assert x.reason == "7 positives < min_positives 10: TPR not estimated"
    assert next(
        g
        for g in measure(frame, ["gender"], FairnessRules(min_positives=5)).groups
        if g.value == "X"
    ).tpr == pytest.approx(float(frame[(frame.gender == "X") & (frame.y == 1)]["p"].mean()))


def test_all_groups_insufficient_is_a_result_not_an_error() -> None:
    frame = seeded(n=80)
    result = measure(frame, ["gender"], FairnessRules(min_group=100))
    assert {g.status for g in result.groups} == {"insufficient"}
    for m in result.measures:
        assert m.status == "insufficient" and m.value is None and m.groups_covered == 0
    dp = result.measure("demographic_parity_ratio")
    assert dp is not None and dp.message == (
        "insufficient: 0 of 3 groups have enough rows and estimated selection rate "
        "(needs 2; min_group 100)"
    )


def test_without_labels_only_selection_rate_measures() -> None:
    frame = seeded()
    codes, values = encode_groups([(frame["gender"].to_numpy(), np.zeros(len(frame), bool))])
    result = classification_fairness(
        codes, values, frame["p"].to_numpy() == 1, truth=None, rules=FairnessRules(),
        key="gender", by=["gender"],
    )  # fmt: skip
    kw: dict[str, Any] = {"sensitive_features": frame["gender"]}
    assert (
        abs(
            value(result, "demographic_parity_ratio")
            - demographic_parity_ratio(frame["y"], frame["p"], **kw)
        )
        < TOL
    )
    for name in ("equalized_odds_ratio", "equalized_odds_difference"):
        got = result.measure(name)
        assert got is not None and got.status == "insufficient" and got.value is None
        assert got.message == (
            "insufficient: no labels; TPR and FPR need the batch's labels (target=)"
        )
    assert all(g.tpr is None and g.positives is None for g in result.groups)
    assert all(g.insufficient_for == () for g in result.groups)


def test_multiclass_one_vs_rest_equals_fairlearn_per_class() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    group = rng.choice(["a", "b"], n)
    y = rng.choice(["x", "y", "z"], n)
    right = rng.random(n) < np.where(group == "a", 0.8, 0.6)
    pred = np.where(right, y, rng.choice(["x", "y", "z"], n))
    codes, values = encode_groups([(group, np.zeros(n, bool))])
    for cls in ("x", "y", "z"):
        result = classification_fairness(
            codes, values, pred == cls, truth=y == cls, rules=FairnessRules(),
            key="group", by=["group"], class_label=f"{cls} (one-vs-rest)",
        )  # fmt: skip
        yt, yp = (y == cls).astype(int), (pred == cls).astype(int)
        assert (
            abs(
                value(result, "equalized_odds_difference")
                - equalized_odds_difference(yt, yp, sensitive_features=group)
            )
            < TOL
        )
        assert result.class_label == f"{cls} (one-vs-rest)"


def test_regression_error_per_group_and_its_ratio() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    group = rng.choice(["north", "south", "east"], n)
    truth = rng.normal(100, 20, n)
    noise = np.select([group == "north", group == "south"], [5.0, 9.0], 6.0)
    pred = truth + rng.normal(0, noise)
    codes, values = encode_groups([(group, np.zeros(n, bool))])
    for method in ("between_groups", "to_overall"):
        result = regression_fairness(
            codes, values, pred, truth=truth, rules=FairnessRules(method=method),
            key="region", by=["region"],
        )  # fmt: skip
        frame = MetricFrame(
            metrics={"mae": mean_absolute_error, "rmse": root_mean_squared_error},
            y_true=truth,
            y_pred=pred,
            sensitive_features=group,
        )
        for g in result.groups:
            assert abs(float(g.mae or -1) - frame.by_group.loc[g.value, "mae"]) < TOL
            assert abs(float(g.rmse or -1) - frame.by_group.loc[g.value, "rmse"]) < TOL
        ratios = frame.ratio(method=method)
        assert abs(value(result, "mae_ratio") - ratios["mae"]) < TOL
        assert abs(value(result, "rmse_ratio") - ratios["rmse"]) < TOL
    mae = result.measure("mae_ratio")
    assert mae is not None and mae.status == "alert"  # north's error is ~0.55 of south's


def test_groups_of_nulls_and_intersections_are_named() -> None:
    a = np.array(["F", "M", None, "F"], dtype=object)
    b = np.array(["x", "y", "y", "y"], dtype=object)
    nulls = np.array([v is None for v in a])
    codes, values = encode_groups([(a, nulls)])
    assert values == ["F", "M", "(null)"] and codes.tolist() == [0, 1, 2, 0]
    codes, values = encode_groups([(a, nulls), (b, np.zeros(4, bool))])
    assert values == ["F*x", "F*y", "M*y", "(null)*y"] and codes.tolist() == [0, 2, 3, 1]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"ratios": 0.9},
            "unknown setting 'ratios' in fairness; allowed: min_group, min_positives, ratio, "
            "difference, method, reference_group.",
        ),
        (
            {"method": "pairwise"},
            "fairness.method must be one of between_groups, to_overall; got 'pairwise'.",
        ),
        ({"min_group": 0}, "fairness.min_group must be a whole number ≥ 1; got 0."),
        ({"ratio": 1.5}, "fairness.ratio must be a number > 0 between 0 and 1, e.g. 0.8; got 1.5."),
        (
            {"method": "to_overall", "reference_group": "M"},
            "fairness: method = 'to_overall' and reference_group compare with different bases "
            "(the whole batch, one group): set one of them.",
        ),
    ],
)
def test_rules_errors_name_what_is_allowed(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        FairnessRules.from_mapping(config)
    assert str(raised.value) == message


def test_rules_defaults_and_json() -> None:
    rules = FairnessRules.from_mapping({"reference_group": {"gender": "M"}, "ratio": 0.9})
    assert rules.to_json() == {
        "min_group": 30,
        "min_positives": 10,
        "ratio": 0.9,
        "difference": 0.1,
        "method": "between_groups",
        "reference_group": {"gender": "M"},
    }
    assert rules.reference_for("gender") == "M" and rules.reference_for("band") is None


def test_group_metrics_equal_scikit_learn_per_group() -> None:
    from sklearn.metrics import balanced_accuracy_score, f1_score, precision_score, r2_score

    frame = seeded()
    codes, values = encode_groups([(frame["gender"].to_numpy(), np.zeros(len(frame), bool))])
    names = ["accuracy", "precision", "recall", "f1", "balanced_accuracy"]
    got = group_metrics(
        codes, len(values), names, selected=frame["p"].to_numpy() == 1,
        truth=frame["y"].to_numpy() == 1,
    )  # fmt: skip
    scorers = {
        "accuracy": accuracy_score,
        "precision": precision_score,
        "recall": lambda a, b: float(np.mean(b[a == 1])),
        "f1": f1_score,
        "balanced_accuracy": balanced_accuracy_score,
    }
    for i, group in enumerate(values):
        rows = frame[frame["gender"] == group]
        for name, scorer in scorers.items():
            want = scorer(rows["y"].to_numpy(), rows["p"].to_numpy())
            assert abs(got[i][name] - want) < TOL, (group, name)
    rng = np.random.default_rng(2)
    truth, region = rng.normal(5, 2, 900), rng.choice(["a", "b"], 900)
    pred = truth + rng.normal(0, 1, 900)
    codes, values = encode_groups([(region, np.zeros(900, bool))])
    got = group_metrics(codes, 2, ["mae", "rmse", "r2"], predicted=pred, truth=truth)
    for i, group in enumerate(values):
        rows = region == group
        assert abs(got[i]["r2"] - r2_score(truth[rows], pred[rows])) < TOL
        assert abs(got[i]["mae"] - mean_absolute_error(truth[rows], pred[rows])) < TOL
        assert abs(got[i]["rmse"] - root_mean_squared_error(truth[rows], pred[rows])) < TOL
