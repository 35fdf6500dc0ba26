"""Drift tables that explain themselves, in every face; and the small wording fixes.

Built from fixed results (no engine run): what is tested is how a result is said.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from views_helpers import (
    categorical_column,
    mixed_drift,
    near_constant_column,
    numeric_column,
    pixel_column,
    untested_column,
)

from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.render import mimebundle
from modelbook.render.drift import drift_html, drift_rows, drift_text, top_columns
from modelbook.render.monitor import serving_rows
from modelbook.render.verdicts import verdict
from modelbook.results import GcReport
from modelbook.run_history import HistoryReport, HistoryRun
from modelbook.stats.drift import ColumnDrift, DatasetDrift
from modelbook.version_diff import MetricDelta, ModelDiff

T0 = datetime(2026, 11, 1, 6, 0, 0)


def _report(**kw: object) -> MonitorReport:
    drift = mixed_drift()
    fields: dict[str, object] = {
        "target": "churn@1",
        "target_kind": "model",
        "reference": "churn-training@1",
        "status": "alert",
        "checks": (
            CheckResult("drift.dataset", "alert", "3 of 5 columns drifted", statistic=0.6),
            CheckResult("drift.column", "alert", "drifted: wasserstein", column="rating"),
        ),
        "n_rows": 171,
        "started_at": T0,
        "finished_at": T0 + timedelta(seconds=1),
        "drift": drift,
        "serving": {
            "rows_per_second": 52_000.0,
            "batch_us_per_row_p50": 19.2,
            "batch_us_per_row_p95": 19.2,
            "latency_ms_p50": 0.41,
            "latency_ms_p95": 0.63,
        },
    }
    fields.update(kw)
    return MonitorReport(**fields)  # type: ignore[arg-type]


def _not_significant(**kw: object) -> ColumnDrift:
    """Effect past its threshold, p-value not small enough: the clean-batch case."""
    base = numeric_column("age", drifted=False)
    counts = (0, 10, 15, 20, 25, 30, 25, 20, 12, 8, 6)
    fields = {"statistic": 0.19, "p_value": 0.31, "current_counts": counts, **kw}
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def test_verdict_says_why_when_the_engine_did_not() -> None:
    c = _not_significant()
    assert sum(c.current_counts) == 171
    assert verdict(c) == "effect 0.19 ≥ 0.05 but p = 0.31: not significant at 171 rows"
    assert verdict(numeric_column()) == "effect 0.31 ≥ 0.05 and p = 1e-9: drifted"
    assert verdict(numeric_column("x", drifted=False)) == "effect 0.01 < 0.05: no drift"
    assert verdict(untested_column()) == "Not tested: the current data has no finite values."
    ks = dataclasses.replace(numeric_column(), test="ks", threshold=0.05, p_value=0.003)
    assert verdict(ks) == "p = 0.003 < 0.05: drifted"


def test_verdict_and_significance_level_from_the_engine_are_shown() -> None:
    given = "effect 0.19 ≥ 0.05 but p = 0.31 (≥ 0.0017 after Holm over 30 columns): not significant"
    c = _not_significant(verdict=given, p_threshold=0.0017)
    assert verdict(c) == given
    drift = DatasetDrift(columns=(c,), drifted_share=0.0, share_threshold=0.5, drifted=False)
    html = drift_html(drift)
    assert given in html
    assert ">p needed below</th>" in html and ">0.0017</td>" in html


def test_every_face_has_the_p_value_and_the_verdict() -> None:
    report = _report()
    bundle = mimebundle(report, live=False)
    text, html = bundle["text/plain"], bundle["text/html"]
    header = "column         test         statistic  threshold  p-value  drift       why"
    assert header in text
    assert (
        "rating         wasserstein  0.59       0.05       5e-93    drifted     effect 0.59" in text
    )
    assert (
        "near_constant  wasserstein  0.885      0.05       0.20     ok          effect 0.89" in text
    )
    for face in (text, html):
        assert "effect 0.89 ≥ 0.05 but p = 0.20: not significant at 1,000 rows" in face
    # The clean-batch case in the text of a diff: the near misses, with their p-values.
    clean = DatasetDrift(
        columns=(_not_significant(), numeric_column("b", drifted=False)),
        drifted_share=0.0,
        share_threshold=0.5,
        drifted=False,
    )
    assert drift_text(clean).splitlines()[3].startswith("age     wasserstein  0.19       0.05")


def test_the_reason_for_a_test_is_said_once_per_test() -> None:
    report = _report()
    html = mimebundle(report, live=False)["text/html"]
    text = mimebundle(report, live=False)["text/plain"]
    reason = pixel_column().reason  # shared by the five tested columns
    assert html.count(reason) == 1 and text.count(reason) == 1
    assert "<b>wasserstein</b> (5 columns)" in html
    assert "why this test" not in html


def test_columns_are_listed_by_decision_in_every_view() -> None:
    expected = ["rating", "score", "temperature", "near_constant", "pixel_3_4", "notes"]
    assert [r[0] for r in drift_rows(mixed_drift())] == expected
    html = drift_html(mixed_drift())
    positions = [html.index(f">{name}</td>") for name in expected]
    assert positions == sorted(positions)
    assert [c.column for c in top_columns(mixed_drift())] == [
        "rating", "score", "temperature", "near_constant", "pixel_3_4"
    ]  # fmt: skip


def test_a_single_sample_is_said_once() -> None:
    rows = dict(serving_rows(_report().serving))
    assert rows["batch cost per row (µs)"] == "19.2 (one sample)"
    assert rows["one-row predict latency (ms), median"] == "0.41"
    assert rows["one-row predict latency (ms), p95"] == "0.63"
    counted = serving_rows({"batch_us_per_row_p50": 5.0, "batch_us_per_row_p95": 9.0,
                            "batch_chunks": 12})  # fmt: skip
    assert counted == [
        ("batch cost per row (µs), median of 12 samples", "5"),
        ("batch cost per row (µs), p95 of 12 samples", "9"),
    ]
    assert "one sample" in mimebundle(_report(), live=False)["text/html"]


def _diff(**kw: object) -> ModelDiff:
    fields: dict[str, object] = {
        "a": "churn@1",
        "b": "churn@2",
        "class_a": "sklearn.linear_model.LogisticRegression",
        "class_b": "sklearn.linear_model.LogisticRegression",
        "params_added": (),
        "params_removed": (),
        "params_changed": (("C", 1.0, 0.1),),
        "metrics": (MetricDelta("auc", 0.8, 0.82),),
        "packages": (("numpy", "2.0.0", "2.1.0"),),
        "train_a": "churn-training@1",
        "train_b": "churn-training@1",
        "notes": ("both versions were trained on churn-training@1",),
    }
    fields.update(kw)
    return ModelDiff(**fields)  # type: ignore[arg-type]


def test_model_diff_says_the_training_data_once() -> None:
    html = mimebundle(_diff(), live=False)["text/html"]
    assert html.count("churn-training@1") == 1
    assert "training data: churn-training@1 (both versions)" in html
    other = mimebundle(_diff(train_b="churn-training@2", notes=()), live=False)["text/html"]
    assert "training data: churn-training@1 → churn-training@2" in other


def test_plurals() -> None:
    html = mimebundle(_diff(), live=False)["text/html"]
    assert "Environment (1 package changed)" in html and "Parameters (1 changed)" in html
    one_alert = _report(
        checks=(CheckResult("drift.column", "alert", "drifted", column="rating"),),
        drift=DatasetDrift(
            columns=(pixel_column(),), drifted_share=0.0, share_threshold=0.5, drifted=False
        ),
    )
    text = mimebundle(one_alert, live=False)["text/plain"]
    assert "0 of 1 column drifted, 1 alert)" in text
    run = HistoryRun(run_id="r", version=1, status="ok", source="api", started_at=T0,
                     finished_at=T0, n_rows=10, drift_share=0.0, n_alerts=0)  # fmt: skip
    history = HistoryReport(name="churn", entry_kind="model", version=None, since=None,
                            limit=None, runs=(run,))  # fmt: skip
    assert str(history).endswith(": 1 run: 1 ok\n" + str(history).split("\n", 1)[1])
    assert "1 runs" not in mimebundle(history, live=False)["text/html"]
    assert str(GcReport(removed_files=1, freed_bytes=10)) == (
        "gc: removed 1 unreferenced file, freed 10 B"
    )


def test_categorical_and_near_constant_columns_render() -> None:
    drift = DatasetDrift(
        columns=(categorical_column(), near_constant_column()),
        drifted_share=0.5,
        share_threshold=0.5,
        drifted=True,
    )
    html = drift_html(drift, open_=True)
    assert html.count("<img ") == 3  # overview + both columns
    assert "<details>" not in html
