"""Alert rules: defaults, validation, and precedence args > monitor.toml > pyproject > defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import modelbook
from modelbook.config import load_config
from modelbook.errors import ConfigError
from modelbook.monitoring.rules import DEFAULT_CHECKS, MonitorRules, Rule


def _unexpected(report: Any) -> list[str]:
    return [c.status for c in report.checks if c.check == "schema.unexpected"]


def test_defaults() -> None:
    rules = MonitorRules.from_mapping({})
    assert rules.store == "profile" and rules.progress == "auto"
    assert rules.rule("invariants.range") == Rule("alert", 0.01)
    assert rules.rule("environment.packages") == Rule("info")
    assert rules.drift.drift_share == 0.5
    assert set(DEFAULT_CHECKS) >= {"schema.missing", "drift.column", "quality.drop"}


def test_rule_forms_and_column_overrides() -> None:
    rules = MonitorRules.from_mapping(
        {
            "checks": {
                "schema": {"unexpected": "info"},  # TOML nesting of schema.unexpected
                "invariants.range": 0.2,  # a dotted key in Python
                "serving.latency_p95_ms": {"threshold": 20, "severity": "alert"},
            },
            "columns": {"id": {"drift.column": "off", "invariants": {"range": 0.5}}},
            "drift": {"drift_share": 0.3},
        }
    )
    assert rules.rule("schema.unexpected") == Rule("info")
    assert rules.rule("invariants.range") == Rule("alert", 0.2)
    assert rules.rule("invariants.range", "id") == Rule("alert", 0.5)
    assert rules.rule("drift.column", "id") == Rule("off")
    assert rules.rule("drift.column", "other") == Rule("alert")
    assert rules.rule("serving.latency_p95_ms") == Rule("alert", 20.0)
    assert rules.drift.drift_share == 0.3


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"stores": "none"},
            "unknown setting 'stores' in monitor; allowed: store, progress, packages, drift, "
            "multivariate, fairness, checks, columns, id_column, prediction_log_days, "
            "segments, max_segments, min_group.",
        ),
        ({"store": "all"}, "monitor.store must be one of none, profile, data; got 'all'."),
        (
            {"checks": {"schema.missin": "info"}},
            "unknown check 'schema.missin' in monitor.checks; known checks: "
            + ", ".join(DEFAULT_CHECKS)
            + ".",
        ),
        (
            {"checks": {"invariants.range": "loud"}},
            "monitor.checks.invariants.range must be one of alert, info, off; got 'loud'.",
        ),
        (
            {"checks": {"invariants.range": -1}},
            "monitor.checks.invariants.range must be a number ≥ 0, got -1.",
        ),
        (
            {"columns": {"age": {"quality.drop": 0.1}}},
            "unknown check 'quality.drop' in monitor.columns.age; known checks: schema.type, "
            "schema.all_null, invariants.range, invariants.categories, invariants.nulls, "
            "stability.nan, stability.inf, drift.column.",
        ),
        (
            {"drift": {"p_valu": 0.1}},
            "in monitor.drift: Unknown drift setting 'p_valu'; allowed: numeric_test, "
            "categorical_test, thresholds, p_value, correction, drift_share, columns.",
        ),
    ],
)
def test_invalid_rules(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        MonitorRules.from_mapping(config)
    assert str(info.value) == message


def test_precedence(trained: Any, batch: pd.DataFrame, registry: Path, tmp_path: Path) -> None:
    extra = batch.assign(zip="x")
    assert _unexpected(modelbook.monitor("churn", data=extra, store="none")) == ["alert"]
    # pyproject.toml (found walking up from the working directory, tmp_path here)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.modelbook.monitor.checks]\nschema.unexpected = "info"\n'
        "invariants.range = 0.3\n"
    )
    assert _unexpected(modelbook.monitor("churn", data=extra, store="none")) == ["info"]
    # monitor.toml in the registry wins over pyproject, key by key
    (registry / "monitor.toml").write_text('[monitor.checks]\nschema.unexpected = "off"\n')
    report = modelbook.monitor("churn", data=extra, store="none")
    assert _unexpected(report) == []
    config = load_config(registry)
    assert config["monitor"]["checks"] == {
        "schema": {"unexpected": "off"},
        "invariants": {"range": 0.3},
    }
    # arguments win over both
    rules = {"checks": {"schema.unexpected": "alert"}}
    assert _unexpected(modelbook.monitor("churn", data=extra, store="none", rules=rules)) == [
        "alert"
    ]
    # store: the argument over the configured default
    (registry / "monitor.toml").write_text('[monitor]\nstore = "none"\n')
    assert modelbook.monitor("churn", data=batch).run_id is None
    assert modelbook.monitor("churn", data=batch, store="profile").run_id is not None


def test_config_errors_name_the_file(registry: Path, tmp_path: Path) -> None:
    registry.mkdir(parents=True, exist_ok=True)
    (registry / "monitor.toml").write_text("[monitr]\nstore = 'none'\n")
    with pytest.raises(ConfigError) as info:
        load_config(registry)
    assert str(info.value) == (
        f"unknown setting 'monitr' in {registry / 'monitor.toml'}; allowed tables: monitor, alerts, feedback, policy, registry."
    )
    (registry / "monitor.toml").write_text("[monitor\n")
    with pytest.raises(ConfigError, match=r"monitor\.toml is not valid TOML"):
        load_config(registry)


def test_alerts_table_passes_through(registry: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.modelbook.alerts]\nwebhook = "http://127.0.0.1:9/hook"\nretries = 3\n'
    )
    assert load_config(registry) == {"alerts": {"webhook": "http://127.0.0.1:9/hook", "retries": 3}}


def test_monitor_is_callable_in_any_import_order() -> None:
    code = (
        "import modelbook.monitoring.report, modelbook, inspect\n"
        "assert callable(modelbook.monitor)\n"
        "print(sorted(inspect.signature(modelbook.monitor).parameters))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(
        sorted(
            [
                "ref", "data", "target", "reference", "columns", "store", "fail_on_alert",
                "rules", "trust", "scores", "predicted", "multivariate", "registry",
                "time", "chunk", "id", "challenger", "segments", "sensitive",
            ]
        )
    )  # fmt: skip
