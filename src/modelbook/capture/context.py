"""How this code is being run: interactively, in a scheduled (papermill) run, from the CLI.

Monitor runs record it (``source``, notebook path, papermill parameters), so history can tell
a person's exploratory run from the nightly job. IPython is never imported here.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Any

from modelbook.capture.environment import ipython_shell, notebook_path

__all__ = ["RunContext", "run_context"]

_PAPERMILL_HEADER = "# Parameters"


@dataclass(frozen=True)
class RunContext:
    source: str  # 'interactive' | 'scheduled' | 'cli' | 'api'
    notebook: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


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


def run_context() -> RunContext:
    """Detect the context: ``MODELBOOK_SOURCE`` wins (``modelbook run`` sets it), then papermill."""
    forced = os.environ.get("MODELBOOK_SOURCE")
    shell = ipython_shell()
    parameters = _papermill_parameters(shell) if shell is not None else None
    notebook = os.environ.get("MODELBOOK_NOTEBOOK") or notebook_path()
    if forced:
        return RunContext(forced, notebook, parameters or {})
    if parameters is not None:
        return RunContext("scheduled", notebook, parameters)
    if shell is not None:
        return RunContext("interactive", notebook)
    return RunContext("api", notebook)
