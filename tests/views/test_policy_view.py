"""The policy results' three faces: text, sanitizer-proof HTML, and the lab renderer's view
(labextension/src/views/policy.ts, drawn in Chromium from the saved MIME data alone)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

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
    from test_timeline_view import LIB, SRC, _serve

    built, source = LIB / "views" / "policy.js", SRC / "views" / "policy.ts"
    if not built.exists() or built.stat().st_mtime < source.stat().st_mtime:
        pytest.fail("labextension/lib is missing or stale: run `cd labextension && jlpm build`.")
    modules = sorted(p.relative_to(LIB).with_suffix("") for p in LIB.rglob("*.js"))
    imports = {f"/lib/{m}": f"/lib/{m}.js" for m in modules}
    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(LIB, site / "lib")
    (site / "status.json").write_text(json.dumps(mimebundle(_status(), live=False)[MIME_TYPE]))
    (site / "index.html").write_text(
        "<!doctype html><html><body><div id='out'></div>"
        f"<script type='importmap'>{json.dumps({'imports': imports})}</script>"
        "<script type='module'>"
        "import { renderBundle } from '/lib/views/index';"
        "const data = await (await fetch('/status.json')).json();"
        "document.getElementById('out').append(renderBundle(data));"
        "document.body.dataset.done = '1';"
        "</script></body></html>"
    )
    server, url = _serve(site)
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "index.html")
        page.wait_for_selector("body[data-done='1']", timeout=20_000)
        assert errors == []
        view = page.locator("[data-mb-kind='policy_status']")
        assert view.count() == 1
        text = view.inner_text()
        assert "2 policies" in text and "2 of 3" in text and "cooldown 2.0 h left" in text
        assert "command failed, exit 3" in text and "version 2" in text
    finally:
        context.close()
        server.shutdown()


def test_html_survives_the_sanitizer() -> None:
    from test_sanitized import read, sanitize

    html = mimebundle(_status(), live=False)["text/html"]
    assert "class=" not in html.split("</style>", 1)[-1].replace('class="mb"', "")
    page = read(sanitize(html))
    text = " ".join(page.text)
    assert "{" not in text and "2 of 3" in text and "cooldown 2.0 h left" in text
    assert page.cells and all("text-align:" in style for style, _ in page.cells)
