"""Live widget or static HTML: which one a result shows as in a notebook.

``modelbook.options.display`` (or the environment variable ``MODELBOOK_DISPLAY``) is one of:

* ``"auto"`` (default): the interactive widget when a live notebook frontend runs this cell,
  else the static report;
* ``"widget"``: always the widget (where anywidget is installed);
* ``"static"``: always the static report (text, self-contained HTML, our MIME type).

How ``auto`` detects a live frontend: the result must be shown inside an ipykernel, and the
``execute_request`` that runs the current cell must carry frontend metadata. JupyterLab and
Notebook 7 send ``cellId``, ``deletedCells`` and ``recordTiming`` (other notebook frontends send
at least a cell id); headless executors (papermill, nbclient, ``jupyter nbconvert --execute``,
plain jupyter_client) send an empty metadata dict. Both sides are tested with real clients
(``tests/views``). This is decided per cell, needs no round trip to the browser, and is right
in both directions: a headless run writes static HTML into the saved notebook (nbclient would
otherwise store widget state that nbconvert can only show by loading scripts from a CDN).

Even when the widget is shown, its output bundle keeps everything the static bundle has next to
the widget view: ``text/plain``, the self-contained ``text/html`` and our
``application/vnd.modelbook.v1+json``. JupyterLab does not save widget state by default, so a
notebook saved from a live session keeps only this bundle; reopened without the widget's model
(new kernel, no kernel, another reader) it must still show the report:

* JupyterLab / Notebook 7 with our extension: our renderer's rank (-20) is below the widget
  manager's (-10), so it is chosen for the bundle. It shows the report from the saved data and
  hands over to the live widget view only while the kernel still holds that widget's comm
  (``labextension/src/mime.ts``), so nobody sees "Error displaying widget: model not found";
* an untrusted notebook without our extension: the widget renderer is unsafe and skipped, the
  sanitized ``text/html`` shows;
* nbconvert, GitHub: ``text/html``.
"""

from __future__ import annotations

import os
from typing import Any

from modelbook.errors import ConfigError

__all__ = ["MODES", "Options", "display_mode", "live_frontend", "options", "widget_bundle"]

MODES = ("auto", "widget", "static")
WIDGET_KINDS = (
    "monitor_report",
    "model_diff",
    "dataset_diff",
    "history",
    "monitor_timeline",
    "challenger_comparison",
)


class Options:
    """Session-wide display options (``modelbook.options``)."""

    def __init__(self) -> None:
        self._display: str | None = None

    @property
    def display(self) -> str:
        """``"auto"``, ``"widget"`` or ``"static"`` (default: ``$MODELBOOK_DISPLAY`` or auto)."""
        if self._display is not None:
            return self._display
        value = os.environ.get("MODELBOOK_DISPLAY", "auto").strip().lower() or "auto"
        if value not in MODES:
            raise ConfigError(
                f"MODELBOOK_DISPLAY={value!r} is not one of {', '.join(MODES)}; fix the variable."
            )
        return value

    @display.setter
    def display(self, value: str | None) -> None:
        if value is not None and value not in MODES:
            raise ConfigError(f"options.display must be one of {', '.join(MODES)}, not {value!r}.")
        self._display = value

    def __repr__(self) -> str:
        return f"<modelbook options: display={self.display!r}>"


options = Options()


def live_frontend() -> bool:
    """True when the current cell was sent by an interactive notebook frontend (see module doc)."""
    from modelbook.capture.environment import ipython_shell

    shell = ipython_shell()
    kernel = getattr(shell, "kernel", None) if shell is not None else None
    if kernel is None:
        return False
    get_parent = getattr(kernel, "get_parent", None)
    try:
        parent = (
            get_parent("shell") if callable(get_parent) else getattr(kernel, "_parent_header", {})
        )
    except TypeError:  # older ipykernel: get_parent() without a channel
        parent = get_parent() if callable(get_parent) else {}
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    return bool(metadata)


def display_mode() -> str:
    """``"widget"`` or ``"static"`` for results shown now."""
    mode = options.display
    if mode == "static":
        return "static"
    if mode == "widget":
        return "widget"
    return "widget" if live_frontend() else "static"


def widget_bundle(result: Any, static: dict[str, Any]) -> dict[str, Any] | None:
    """The widget's output bundle (with the whole static bundle kept), or None for static."""
    if getattr(result, "kind", None) not in WIDGET_KINDS or display_mode() != "widget":
        return None
    try:
        from modelbook.widgets import widget_for
    except ImportError:  # anywidget missing: static output is always correct
        return None
    widget = widget_for(result)
    if widget is None:
        return None
    bundle: dict[str, Any] = widget._repr_mimebundle_()
    if not isinstance(bundle, dict):  # ipywidgets may return (data, metadata)
        bundle = dict(bundle[0])
    # Everything the static bundle carries, so the saved output outlives the widget's model.
    bundle.update(static)
    return bundle
