"""jupyter_server extension: a read-only REST API over the registry, for the JupyterLab sidebar.

Enabled by ``jupyter-config/jupyter_server_config.d/modelbook.json`` (installed with the wheel);
the handlers live in :mod:`modelbook.server.handlers` and are imported only when a server loads
the extension, so ``import modelbook`` never pulls in tornado.
"""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points", "_load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "modelbook.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from modelbook.server.handlers import setup_handlers

    setup_handlers(serverapp)
