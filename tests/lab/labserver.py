"""A real JupyterLab (or Notebook 7) server as a subprocess, for the browser tests.

The server runs headless on 127.0.0.1 on a free port, as root if need be, with its own config,
settings, workspace and runtime folders in tmp so the machine's Jupyter state never leaks in.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ARTIFACTS = HERE.parents[1] / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Lab:
    """A running JupyterLab server."""

    url: str  # http://127.0.0.1:PORT/
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, *, token: str | None = None) -> tuple[int, Any]:
        """GET ``path`` (relative to the server) → (status, parsed JSON body or None)."""
        request = urllib.request.Request(self.url + path)
        if token:
            request.add_header("Authorization", f"token {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            body = exc.read()
            with contextlib.suppress(ValueError):
                return exc.code, json.loads(body or b"null")
            return exc.code, None


#: Lab settings for tests: attach every cell (no windowing) and no news or update toasts.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def start_lab(
    root: Path,
    state: Path,
    *,
    token: str,
    kernels: bool = True,
    extra: tuple[str, ...] = (),
    app: str = "jupyterlab",
    env: dict[str, str] | None = None,
) -> Lab:
    """Start ``jupyter lab`` (or ``app="notebook"``: Notebook 7) in ``root``; returns once its
    REST API answers.

    ``kernels=False`` offers no kernel spec, so nothing can start a kernel: what a reviewer
    has who opens a saved notebook without the project's environment. ``env`` adds or replaces
    environment variables of the server. Each server has its own ``JUPYTER_DATA_DIR`` (notebook
    secret and signatures), so a notebook saved by one is untrusted in another, as on another
    machine.
    """
    port = free_port()
    for folder in ("config", "data", "runtime", "settings", "workspaces"):
        (state / folder).mkdir(parents=True, exist_ok=True)
    for plugin, values in SETTINGS.items():
        path = state / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(state / "config"),
        # Its own notebook secret and signatures: trust never comes from another server's.
        "JUPYTER_DATA_DIR": str(state / "data"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        **(env or {}),
    }
    env.pop("MODELBOOK_HOME", None)  # the server must find the registry from its root folder
    env.pop("MODELBOOK_DISPLAY", None)  # live cells decide widget or static by themselves
    log = state / f"lab-{port}.log"
    command = [
        sys.executable,
        "-m",
        app,
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=False",
        f"--ServerApp.root_dir={root}",
    ]
    if app == "jupyterlab":
        command += [
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
        ]
    if app == "notebook":
        command.append("--JupyterNotebookApp.expose_app_in_browser=True")
    if not kernels:
        command.append("--KernelSpecManager.allowed_kernelspecs=modelbook-no-kernel")
    command.extend(extra)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}/", token, root, process, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError):
            status, _ = lab.get("api/status", token=token or None)
            if status == 200:
                return lab
        time.sleep(0.25)
    stop_lab(lab)
    raise RuntimeError(f"jupyter lab did not answer within 90 s:\n{log.read_text()}")


def stop_lab(lab: Lab) -> None:
    lab.process.terminate()
    try:
        lab.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        lab.process.kill()
        lab.process.wait(timeout=15)


#: Page functions for a notebook panel (JupyterLab and Notebook 7 expose the app the same way).
CURRENT = "window.jupyterapp.shell.currentWidget"


@dataclass
class Author:
    """A JupyterLab with a kernel where the scenario notebook ran live and was saved."""

    lab: Lab
    page: Any
    notebook: Path  # the saved file, as JupyterLab wrote it


def wait_for_kernel(page: Any, timeout: float = 120_000) -> None:
    page.wait_for_function(
        f"() => window.jupyterapp && {CURRENT} && {CURRENT}.sessionContext && {CURRENT}.sessionContext.session"
        f" && {CURRENT}.sessionContext.session.kernel"
        f" && {CURRENT}.sessionContext.session.kernel.status === 'idle'",
        timeout=timeout,
    )
