"""One report, three faces: helpers to read a saved monitor output and check that a face (the
live widget, the static HTML, the lab renderer) shows every alert, in the static order."""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path
from typing import Any

from modelbook.render import MIME_TYPE

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Sections every face shows, in the static report's order (keys as in widgets/monitor.py).
STATIC_HEADINGS = {
    "Estimated": "estimated",
    "Findings": "findings",
    "Data drift": "drift",
    "Multivariate drift": "multivariate",
    "Prediction drift": "prediction_drift",
    "Quality": "quality",
    "Segments": "segments",
    "Fairness": "fairness",
    "Serving cost": "serving",
    "Changed since registration": "environment",
}


def saved_outputs(path: Path) -> dict[str, dict[str, Any]]:
    """Output data of the saved notebook by result kind (monitor_report, history): the first
    output of each kind."""
    nb = json.loads(path.read_text())
    out = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME_TYPE in data:
                out.setdefault(data[MIME_TYPE]["type"], data)
    return out


def joined(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def checks(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks of a saved monitor report output (its bundle)."""
    return list(bundle[MIME_TYPE]["data"]["checks"])


def alerts(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in checks(bundle) if c["status"] in ("alert", "error")]


def static_section_order(html: str) -> list[str]:
    """The static report's sections, from its <h4> headings, as keys."""
    keys = ["summary"]
    for heading in re.findall(r"<h4[^>]*>(.*?)</h4>", html, flags=re.S):
        text = htmllib.unescape(re.sub(r"<[^>]+>", "", heading)).strip()
        key = next((k for t, k in STATIC_HEADINGS.items() if text.startswith(t)), None)
        if key:
            keys.append(key)
    return keys


def normalise(text: str) -> str:
    return " ".join(text.split())


def findings_alerts(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """Alerts the findings table lists: a segment's own checks are in the segments section."""
    return [c for c in alerts(bundle) if not c["check"].startswith("segment.")]


def alert_words(check: dict[str, Any]) -> str:
    """What a face shows for an alert, normalised and in lower case (badges are upper case): its
    message; a segment's drifted column is a row of that segment's drift table instead."""
    if check["check"].startswith("segment.") and check["check"].endswith(".drift.column"):
        return normalise(f"drifted {check['column']} {check['test']}").lower()
    return normalise(check["message"]).lower()


def shows_alert(text: str, check: dict[str, Any]) -> bool:
    return alert_words(check) in normalise(text).lower()


def assert_each_alert(face: str, text: str, report: dict[str, Any]) -> None:
    missing = [f"{c['check']}: {c['message']}" for c in alerts(report) if not shows_alert(text, c)]
    assert not missing, f"the {face} misses alerts: {missing}"
