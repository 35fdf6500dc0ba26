"""The policy results' three faces: text, sanitizer-proof HTML, and the lab renderer's view
(labextension/src/views/policy.ts, drawn in Chromium from the saved MIME data alone)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from modelbook.policies import PolicyAction, PolicyState, PolicyStatus
from modelbook.render import MIME_TYPE, mimebundle


def _status() -> PolicyStatus:
    watching = PolicyState(
        name="guard", alias="churn@production", holder=2, action="rollback", on=("quality",),
        consecutive=3, streak=2, streak_runs=("a", "b"), dry_run=False, cooldown="24.0 h",
        cooldown_remaining=0.0, last_action=None,
    )  # fmt: skip
    cooling = PolicyState(
        name="retrain", alias="churn@production", holder=2, action="command", on=("drift",),
        consecutive=1, streak=0, streak_runs=(), dry_run=True, cooldown="24.0 h",
        cooldown_remaining=7200.0,
        last_action={"at": datetime(2026, 12, 1, 6, 0), "action": "command", "status": "failed",
                     "exit_code": 3, "output": "/r/policy_runs/x.log", "trigger_runs": ["c"]},
    )  # fmt: skip
    return PolicyStatus(policies=(watching, cooling), registry="/srv/modelbook")


def test_text_and_html_say_the_same() -> None:
    bundle = mimebundle(_status(), live=False)
    text, html = bundle["text/plain"], bundle["text/html"]
    for words in ("2 policies for /srv/modelbook", "2 of 3", "watching", "cooldown 2.0 h left",
                  "command failed, exit 3 at 2026-12-01 06:00", "command (dry run)"):  # fmt: skip
        assert words in text and words in html
    assert "<svg" not in html and "<script" not in html
    action = PolicyAction(
        "guard", "churn@production", "rollback", "done", "3 consecutive runs alerted",
        ("a", "b", "c"), "monitor", from_version=2, to_version=1, message="moved it back",
    )  # fmt: skip
    assert str(action) == (
        "policy guard on churn@production: rollback done: moved it back "
        "(3 consecutive runs alerted)"
    )
    assert "rollback done: moved it back" in mimebundle(action, live=False)["text/html"]


def test_lab_renderer_draws_the_policies(browser: Any, tmp_path: Path) -> None:
    from views_helpers import lab_views_page

    bundles = {"status": mimebundle(_status(), live=False)[MIME_TYPE]}
    with lab_views_page(browser, tmp_path / "site", bundles, view="policy") as page:
        view = page.locator("[data-mb-kind='policy_status']")
        assert view.count() == 1
        text = view.inner_text()
        assert "2 policies" in text and "2 of 3" in text and "cooldown 2.0 h left" in text
        assert "command failed, exit 3" in text and "version 2" in text


def test_html_survives_the_sanitizer() -> None:
    from test_sanitized import read, sanitize

    html = mimebundle(_status(), live=False)["text/html"]
    assert "class=" not in html.split("</style>", 1)[-1].replace('class="mb"', "")
    page = read(sanitize(html))
    text = " ".join(page.text)
    assert "{" not in text and "2 of 3" in text and "cooldown 2.0 h left" in text
    assert page.cells and all("text-align:" in style for style, _ in page.cells)
