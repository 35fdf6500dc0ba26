"""The widgets' front-end code: one shared prelude (DOM helper, theme following) + each view.

anywidget loads one ES module per widget from a string, so the shared functions are prepended
here rather than imported in the browser.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["CSS", "esm"]

_HERE = Path(__file__).parent
CSS = _HERE / "widgets.css"


@cache
def esm(view: str) -> str:
    """The ES module of one view (``"drift.js"``...), with the shared prelude before it."""
    return (_HERE / "common.js").read_text("utf-8") + "\n" + (_HERE / view).read_text("utf-8")
