"""How this code is being run: interactively, in a scheduled (papermill) run, from the CLI.

Monitor runs record it (``source``, notebook path, papermill parameters), so history can tell
a person's exploratory run from the nightly job. IPython is never imported here.

``modelbook run`` tells the kernel it starts through environment variables, because the kernel
is another process and cannot see the command line:

- ``MODELBOOK_SOURCE``: ``scheduled`` (wins over any detection);
- ``MODELBOOK_NOTEBOOK``: the absolute path of the notebook being executed;
- ``MODELBOOK_PARAMETERS``: the papermill parameters as a JSON object;
- ``MODELBOOK_REPORT``: the HTML report it will write (``--html``), for alert payloads.

A plain ``papermill`` run is detected from the cell papermill injects (with parameters) or,
without parameters, because its execute requests carry no frontend metadata (JupyterLab,
Notebook 7 and other frontends send a cell id); so is ``jupyter nbconvert --execute``.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass, field
from typing import Any

from modelbook.capture.environment import ipython_shell, notebook_path

__all__ = [
    "ENV_NOTEBOOK",
    "ENV_PARAMETERS",
    "ENV_REPORT",
    "ENV_SOURCE",
    "SOURCES",
    "RunContext",
    "run_context",
]

ENV_SOURCE = "MODELBOOK_SOURCE"
ENV_NOTEBOOK = "MODELBOOK_NOTEBOOK"
ENV_PARAMETERS = "MODELBOOK_PARAMETERS"
ENV_REPORT = "MODELBOOK_REPORT"  # where `modelbook run --html` will write the HTML report
SOURCES = ("interactive", "scheduled", "cli", "api")

_PAPERMILL_HEADER = "# Parameters"


@dataclass(frozen=True)
class RunContext:
    source: str  # 'interactive' | 'scheduled' | 'cli' | 'api'
    notebook: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def headless(self) -> bool:
        """True when no person watches the output live (scheduled, CLI or plain API runs).

        Views use it to show static output instead of an interactive widget.
        """
        return self.source != "interactive"


def _papermill_parameters(shell: Any) -> dict[str, Any] | None:
    """Parameters from the cell papermill injects ('# Parameters' + assignments), if any ran."""
    for source in reversed(list(shell.user_ns.get("In") or [])):
        text = str(source)
        if not text.lstrip().startswith(_PAPERMILL_HEADER):
            continue
        params: dict[str, Any] = {}
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        params[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        params[target.id] = ast.unparse(node.value)
        return params
    return None


def _env_parameters() -> dict[str, Any] | None:
    """Parameters ``modelbook run`` passed down (a JSON object), or None when unset/unreadable."""
    text = os.environ.get(ENV_PARAMETERS)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def run_context() -> RunContext:
    """Detect the context: ``MODELBOOK_SOURCE`` wins (``modelbook run`` sets it), then papermill."""
    forced = os.environ.get(ENV_SOURCE)
    shell = ipython_shell()
    parameters = _env_parameters()
    if parameters is None and shell is not None:
        parameters = _papermill_parameters(shell)
    notebook = os.environ.get(ENV_NOTEBOOK) or notebook_path()
    if forced:
        return RunContext(forced, notebook, parameters or {})
    if parameters is not None:
        return RunContext("scheduled", notebook, parameters)
    if shell is not None:
        if _headless_kernel(shell):
            return RunContext("scheduled", notebook)
        return RunContext("interactive", notebook)
    return RunContext("api", notebook)


def _headless_kernel(shell: Any) -> bool:
    """A kernel running a cell that no notebook frontend sent (papermill, nbclient).

    Frontends send metadata (a cell id) with each ``execute_request``; headless executors send
    none (as :func:`modelbook.display.live_frontend` also relies on). Anything else (a terminal
    IPython without a kernel, a widget callback arriving as a comm message) is interactive.
    """
    kernel = getattr(shell, "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    if not callable(get_parent):
        return False
    try:
        parent = get_parent("shell")
    except TypeError:  # older ipykernel: get_parent() without a channel
        parent = get_parent()
    if not isinstance(parent, dict):
        return False
    header = parent.get("header") or {}
    return header.get("msg_type") == "execute_request" and not parent.get("metadata")
