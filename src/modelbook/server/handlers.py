"""Tornado handlers for ``/modelbook/api/...``: GET only, authenticated and authorized like every
Jupyter server endpoint, each answering from :mod:`modelbook.server.queries` on a worker thread
(DuckDB reads block, and the server's event loop must not)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from traitlets import Unicode
from traitlets.config import Configurable

from modelbook.errors import InvalidNameError, ModelbookError, NotFoundError, RegistryBusyError
from modelbook.server import queries

__all__ = ["ModelbookServer", "setup_handlers"]

#: The resource name for jupyter_server's Authorizer (``read`` is the only action used).
AUTH_RESOURCE = "modelbook"


class ModelbookServer(Configurable):  # type: ignore[misc]
    """Settings of the server extension (``c.ModelbookServer.registry = '/path'``)."""

    registry = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Registry folder the sidebar shows (default: MODELBOOK_HOME, else the nearest "
        ".modelbook/ walking up from the server's root folder).",
    )


class _Handler(APIHandler):  # type: ignore[misc]
    auth_resource = AUTH_RESOURCE

    @property
    def home(self) -> queries.Home:
        config: ModelbookServer = self.settings["modelbook_config"]
        return queries.registry_home(config.registry, self.settings["server_root_dir"])

    async def answer(self, query: Callable[..., dict[str, Any]], *args: Any, **kw: Any) -> None:
        try:
            body = await asyncio.to_thread(query, self.home, *args, **kw)
        except NotFoundError as exc:
            raise web.HTTPError(404, str(exc)) from exc
        except InvalidNameError as exc:
            raise web.HTTPError(400, str(exc)) from exc
        except RegistryBusyError as exc:
            raise web.HTTPError(503, str(exc)) from exc
        except ModelbookError as exc:
            raise web.HTTPError(500, str(exc)) from exc
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def int_argument(self, name: str) -> int | None:
        value = self.get_argument(name, None)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError as exc:
            raise web.HTTPError(400, f"{name}={value!r} is not a whole number.") from exc


class EntriesHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.answer(queries.entries)


class VersionsHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        await self.answer(queries.versions, name)


class VersionHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, name: str, version: str) -> None:
        await self.answer(queries.version_details, name, int(version))


class StatusHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.answer(queries.latest_status)


class RunsHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        limit = self.int_argument("limit")
        await self.answer(
            queries.runs,
            target=self.get_argument("target", None) or None,
            version=self.int_argument("version"),
            limit=100 if limit is None else limit,
        )


class RunHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        await self.answer(queries.run_report, run_id)


def setup_handlers(serverapp: Any) -> None:
    """Register the read-only endpoints under ``<base_url>/modelbook/api/``."""
    web_app = serverapp.web_app
    web_app.settings["modelbook_config"] = ModelbookServer(parent=serverapp)
    base = url_path_join(web_app.settings["base_url"], "modelbook", "api")
    name = r"([^/]+)"
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "entries"), EntriesHandler),
            (url_path_join(base, "entries", name, "versions"), VersionsHandler),
            (url_path_join(base, "entries", name, "versions", r"(\d+)"), VersionHandler),
            (url_path_join(base, "status"), StatusHandler),
            (url_path_join(base, "runs"), RunsHandler),
            (url_path_join(base, "runs", r"([0-9A-Za-z_-]+)"), RunHandler),
        ],
    )
    serverapp.log.info("modelbook: registry API at %s", base)
