"""Rendering results: plain text, self-contained HTML, and our JupyterLab MIME type.

Every bundle carries all three, so a result reads the same in a terminal, in papermill's log,
in nbconvert HTML or on GitHub (no script, no CDN), and interactively in JupyterLab.
"""

from __future__ import annotations

import json
from typing import Any

from modelbook.results import Renderable

__all__ = ["MIME_TYPE", "mimebundle"]

MIME_TYPE = "application/vnd.modelbook.v1+json"

# Modules that register text/HTML renderers for their result classes (imported on first render).
_RENDERER_MODULES: tuple[str, ...] = (
    "modelbook.render.history",
    "modelbook.render.diff",
    "modelbook.render.monitor",
    "modelbook.render.check",
    "modelbook.render.timeline",
    "modelbook.render.feedback",
    "modelbook.render.policy",
    "modelbook.render.comparison",
    "modelbook.render.transfer",
)


def _load_renderers() -> None:
    import importlib

    for module in _RENDERER_MODULES:
        importlib.import_module(module)


def mimebundle(result: Renderable, *, live: bool = True) -> dict[str, Any]:
    """The static bundle; with ``live`` and a live widget frontend, the widget's bundle with the
    static HTML kept as fallback (see :mod:`modelbook.display`)."""
    from modelbook.render.html import to_html
    from modelbook.render.text import to_text

    _load_renderers()
    data = json.loads(json.dumps(result.to_dict(), default=str))
    bundle = {
        "text/plain": to_text(result),
        "text/html": to_html(result),
        MIME_TYPE: {"type": result.kind, "version": 1, "data": data},
    }
    if live:
        from modelbook.display import widget_bundle

        shown = widget_bundle(result, bundle)
        if shown is not None:
            return shown
    return bundle
