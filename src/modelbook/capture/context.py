"""How this code is being run: interactively, in a scheduled (papermill) run, from the CLI.

Monitor runs record it (``source``, notebook path, papermill parameters), so history can tell
a person's exploratory run from the nightly job. IPython is never imported here.

``modelbook run`` tells the kernel it starts through environment variables, because the kernel
is another process and cannot see the command line:

- ``MODELBOOK_SOURCE``: ``scheduled`` (wins over any detection);
- ``MODELBOOK_NOTEBOOK``: the absolute path of the notebook being executed;
- ``MODELBOOK_PARAMETERS``: the papermill parameters as a JSON object.

A plain ``papermill`` run with parameters is detected from the cell papermill injects; without
parameters a papermill kernel looks like any other, so set ``MODELBOOK_SOURCE=scheduled`` or use
``modelbook run``.
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
    "ENV_SOURCE",
    "SOURCES",
    "RunContext",
    "run_context",
]

ENV_SOURCE = "MODELBOOK_SOURCE"
ENV_NOTEBOOK = "MODELBOOK_NOTEBOOK"
ENV_PARAMETERS = "MODELBOOK_PARAMETERS"
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
        return RunContext("interactive", notebook)
    return RunContext("api", notebook)
