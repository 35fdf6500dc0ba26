"""What was running when something was registered: Python, packages, code, notebook, git.

Captured without ceremony so a version can be rebuilt where it was made
(:func:`requirements_text`) and so a monitor run can say what changed since (a newer
scikit-learn is a finding, not a silent risk). IPython is never imported here: when the user
runs inside IPython its module is already loaded, and we only read from it.
"""

from __future__ import annotations

import functools
import getpass
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "capture_code",
    "capture_environment",
    "capture_git",
    "current_user",
    "ipython_shell",
    "notebook_path",
    "package_changes",
    "requirements_text",
]


@functools.lru_cache(maxsize=1)
def _packages() -> dict[str, str]:
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            found[name.lower().replace("_", "-")] = dist.version
    return dict(sorted(found.items()))


def capture_environment() -> dict[str, Any]:
    """Python version, platform and every installed distribution (cached per process)."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": dict(_packages()),
    }


def requirements_text(environment: Mapping[str, Any], *, header: str = "") -> str:
    """A pip requirements file pinning what was installed."""
    lines = [f"# {header}"] if header else []
    lines.append(f"# python {environment.get('python', '?')} on {environment.get('platform', '?')}")
    packages: Mapping[str, str] = environment.get("packages", {})
    lines.extend(f"{name}=={version}" for name, version in sorted(packages.items()))
    return "\n".join(lines) + "\n"


def package_changes(
    recorded: Mapping[str, Any], current: Mapping[str, Any], *, only: set[str] | None = None
) -> list[tuple[str, str | None, str | None]]:
    """(package, recorded version, current version) for every difference, Python included."""
    changes: list[tuple[str, str | None, str | None]] = []
    if recorded.get("python") != current.get("python"):
        changes.append(("python", recorded.get("python"), current.get("python")))
    old: Mapping[str, str] = recorded.get("packages", {})
    new: Mapping[str, str] = current.get("packages", {})
    for name in sorted(set(old) | set(new)):
        if only is not None and name not in only:
            continue
        if old.get(name) != new.get(name):
            changes.append((name, old.get(name), new.get(name)))
    return changes


def capture_git(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the repository around ``cwd``; (None, None) outside one."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return None, None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=5,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit.stdout.strip(), bool(status.stdout.strip())


def ipython_shell() -> Any:
    """The running IPython shell, if this code runs inside one (never imports IPython)."""
    module = sys.modules.get("IPython")
    get_ipython = getattr(module, "get_ipython", None) if module else None
    return get_ipython() if callable(get_ipython) else None


def capture_code() -> str | None:
    """The source of the cell being run, when inside IPython."""
    shell = ipython_shell()
    if shell is None:
        return None
    history = shell.user_ns.get("In") or []
    return str(history[-1]) if history else None


def notebook_path() -> str | None:
    """The notebook's path when the frontend tells the kernel (JupyterLab, VS Code, papermill)."""
    shell = ipython_shell()
    if shell is not None:
        for key in ("__vsc_ipynb_file__", "__session__"):
            value = shell.user_ns.get(key)
            if isinstance(value, str) and value.endswith(".ipynb"):
                return value
    for key in ("MODELBOOK_NOTEBOOK", "JPY_SESSION_NAME"):
        value = os.environ.get(key)
        if value and value.endswith(".ipynb"):
            return value
    return None


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")
