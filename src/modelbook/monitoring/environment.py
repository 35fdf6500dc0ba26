"""Environment: Python and package versions now against those recorded with the model version."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelbook.monitoring.checks import status_of
from modelbook.monitoring.report import CheckResult
from modelbook.monitoring.rules import MonitorRules

if TYPE_CHECKING:
    from modelbook.monitoring.context import RunContext

__all__ = ["checks", "environment_checks", "library_of"]

_LIBRARIES = {"sklearn": "scikit-learn", "xgboost": "xgboost", "lightgbm": "lightgbm"}


def checks(ctx: RunContext) -> list[CheckResult]:
    """environment.model_library, environment.packages; records the changes (models only)."""
    from modelbook.capture.environment import capture_environment

    if ctx.model_row is None:
        return []
    found, changes = environment_checks(
        json.loads(ctx.model_row["environment"]),
        capture_environment(),
        model_library=library_of(ctx.model_row),
        rules=ctx.settings,
    )
    ctx.findings.environment_changes = list(changes)
    return found


def library_of(row: Mapping[str, Any]) -> str | None:
    """The package the model comes from, as its distribution is named (e.g. scikit-learn)."""
    flavor = str(row["flavor"])
    if flavor in _LIBRARIES:
        return _LIBRARIES[flavor]
    top = str(row["class_name"]).split(".")[0]
    return top.lower().replace("_", "-") if top and top != "builtins" else None


def environment_checks(
    recorded: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    model_library: str | None,
    rules: MonitorRules,
) -> tuple[list[CheckResult], list[tuple[str, str | None, str | None]]]:
    """Python and package versions that differ from those recorded with the model version."""
    from modelbook.capture.environment import package_changes

    watched = set(rules.packages)
    if model_library:
        watched.add(model_library)
    changes = package_changes(recorded, current, only=watched)
    out: list[CheckResult] = []
    for package, old, new in changes:
        check = "environment.model_library" if package == model_library else "environment.packages"
        rule = rules.rule(check)
        if rule.severity == "off":
            continue
        out.append(
            CheckResult(
                check,
                status_of(rule, True),
                f"{package} {old or 'absent'} at registration, {new or 'absent'} now",
                column=package,
            )
        )
    if not out:
        out.append(
            CheckResult(
                "environment",
                "ok",
                "python and " + ", ".join(sorted(watched)) + " unchanged since registration",
            )
        )
    return out, changes
