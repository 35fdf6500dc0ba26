"""What the REST endpoints answer, as plain JSON-ready dicts (no tornado here, so it tests alone).

Reads only: every function goes through the registry's read-only connections or the read
functions of :mod:`modelbook.api`; nothing here can create or change a registry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelbook import api
from modelbook.registry import Location, Registry, find_location, validate_name
from modelbook.registry.paths import DIRNAME
from modelbook.results import Renderable, to_jsonable

__all__ = [
    "bundle",
    "entries",
    "latest_status",
    "registry_home",
    "run_report",
    "runs",
    "version_details",
    "versions",
]


#: A local registry folder, or a team registry's Location (its str never holds a password).
Home = Path | Location


def _where(location: Location) -> Home:
    return location if location.is_team else location.home()


def registry_home(configured: str | None, root_dir: str | os.PathLike[str]) -> Home:
    """The registry the server shows: the configured path or team URL, else
    ``MODELBOOK_HOME``, else the nearest ``.modelbook/`` walking up from the server's root
    folder (as a kernel started there would find it), else ``<root>/.modelbook``. A team
    registry is only read here, like a local one (the server never writes)."""
    if configured:
        return _where(find_location(configured))
    if os.environ.get("MODELBOOK_HOME"):
        return _where(find_location())
    root = Path(root_dir).expanduser().absolute()
    for folder in (root, *root.parents):
        if (folder / DIRNAME).is_dir():
            return folder / DIRNAME
    return root / DIRNAME


def bundle(result: Renderable) -> dict[str, Any]:
    """The same payload as the notebook output's ``application/vnd.modelbook.v1+json``."""
    return {"type": result.kind, "version": 1, "data": _json(result.to_dict())}


def _json(value: Any) -> dict[str, Any]:
    """A mapping as plain JSON values (datetimes as ISO text), as the browser will receive it."""
    result: dict[str, Any] = json.loads(json.dumps(to_jsonable(value), default=str))
    return result


def entries(home: Home) -> dict[str, Any]:
    """Every model and dataset with version count, aliases and its latest monitor status."""
    reg = Registry(home)
    rows = reg.entries()
    aliases: dict[str, dict[str, int]] = {}
    for a in reg.aliases():
        aliases.setdefault(str(a["name"]), {})[str(a["alias"])] = int(a["version"])
    status = {r["target"]: r for r in latest_status(home)["runs"]} if rows else {}
    out = []
    for r in rows:
        name = str(r["name"])
        run = status.get(name)
        out.append(
            {
                "name": name,
                "kind": r["kind"],
                "versions": int(r["versions"] or 0),
                "latest": r["latest"],
                "aliases": aliases.get(name, {}),
                "updated_at": r["updated_at"],
                "size_bytes": r["size_bytes"],
                "status": run["status"] if run else None,
                "last_run": run["started_at"] if run else None,
            }
        )
    return _json({"registry": str(home), "exists": reg.exists(), "entries": out})


def versions(home: Home, name: str) -> dict[str, Any]:
    """The versions of ``name``, oldest first, each with its aliases and a one-line summary."""
    validate_name(name)
    reg = Registry(home)
    rows = reg.versions(name)
    kind = rows[0]["kind"] if rows else reg.kind_of(name)
    return _json(
        {
            "name": name,
            "kind": kind,
            "versions": [
                {
                    "version": int(r["version"]),
                    "aliases": [a for a in str(r["aliases"] or "").split(", ") if a],
                    "created_at": r["created_at"],
                    "created_by": r["created_by"],
                    "summary": _summary(r),
                }
                for r in rows
            ],
        }
    )


def _summary(row: Mapping[str, Any]) -> str:
    if row["kind"] == "model":
        metrics = json.loads(row["metrics"] or "{}")
        shown = ", ".join(f"{k}={v:.4g}" for k, v in list(metrics.items())[:3])
        short = str(row["class_name"]).rpartition(".")[2]
        return f"{short} {shown}".strip()
    return f"{int(row['n_rows']):,} rows × {int(row['n_columns'])} columns"


def version_details(home: Home, name: str, version: int) -> dict[str, Any]:
    """The stored version as the bundle ``%modelbook show name@version`` would display."""
    validate_name(name)
    return bundle(api.show(f"{name}@{int(version)}", registry=home))


def latest_status(home: Home) -> dict[str, Any]:
    """The newest monitor run of every monitored model or dataset."""
    return _json({"runs": Registry(home).latest_monitor_runs()})


def runs(
    home: Home, *, target: str | None = None, version: int | None = None, limit: int = 100
) -> dict[str, Any]:
    """Monitor runs (newest first) without their reports; ``limit`` is capped at 1000."""
    if target is not None:
        validate_name(target)
    rows = Registry(home).monitor_runs(target, version=version, limit=max(1, min(limit, 1000)))
    for r in rows:
        r["metrics"] = json.loads(r["metrics"] or "{}")
        r["parameters"] = json.loads(r["parameters"]) if r.get("parameters") else None
    return _json({"runs": rows})


def run_report(home: Home, run_id: str) -> dict[str, Any]:
    """One run's stored monitor report, as the bundle its notebook output carried."""
    data = json.loads(Registry(home).monitor_report_json(run_id))
    return {"type": "monitor_report", "version": 1, "data": data}
