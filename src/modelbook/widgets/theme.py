"""Vega-Lite config for the JupyterLab theme the widget is shown in.

The widgets render their charts in the kernel (vl-convert), which does not know the page's
colours; the front end reports the theme (``data-jp-theme-light`` on ``<body>``) in the widget's
``theme`` trait and the chart is drawn again. Both themes draw on a transparent background, so
the chart sits on the notebook's own colour; the dark theme uses light text, axes and rules.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["DARK_INK", "THEMES", "themed"]

THEMES = ("light", "dark")
#: Text and line colours on a dark page (JupyterLab Dark's --jp-ui-font-color1 is #e0e0e0).
DARK_INK = "#e0e0e0"
_DARK_MUTED = "#a0a0a0"
_DARK_GRID = "#4a4a4a"
#: Colours the specs use for rules and text that would vanish on a dark page.
_DARK_MARKS = {"#000", "#000000", "black", "#333", "#333333", "#222", "#222222"}

_DARK_CONFIG: dict[str, Any] = {
    "axis": {
        "labelColor": DARK_INK,
        "titleColor": DARK_INK,
        "domainColor": _DARK_MUTED,
        "tickColor": _DARK_MUTED,
        "gridColor": _DARK_GRID,
    },
    "legend": {"labelColor": DARK_INK, "titleColor": DARK_INK},
    "title": {"color": DARK_INK, "subtitleColor": _DARK_MUTED},
    "header": {"labelColor": DARK_INK, "titleColor": DARK_INK},
    "text": {"color": DARK_INK},
    "rule": {"color": _DARK_MUTED},
}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _lighten_marks(node: Any) -> None:
    """Dark mark colours set in a spec (e.g. a threshold rule) become the light ink."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("color", "stroke", "fill") and isinstance(value, str):
                if value.lower() in _DARK_MARKS:
                    node[key] = DARK_INK
            else:
                _lighten_marks(value)
    elif isinstance(node, list):
        for item in node:
            _lighten_marks(item)


def themed(spec: dict[str, Any], theme: str) -> dict[str, Any]:
    """A copy of ``spec`` for the ``"light"`` or ``"dark"`` page: transparent background, and in
    the dark theme light text, axes, legends and rules."""
    out = copy.deepcopy(spec)
    config = _merge(out.get("config") or {}, {"background": "transparent"})
    if theme == "dark":
        config = _merge(config, _DARK_CONFIG)
        _lighten_marks({k: v for k, v in out.items() if k != "config"})
    out["config"] = config
    return out
