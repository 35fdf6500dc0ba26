"""Result objects: plain frozen dataclasses, rendered by :mod:`modelbook.render`.

Rendering is a function of a result, never the reverse; every result shows as text, as
self-contained HTML and as ``application/vnd.modelbook.v1+json`` for the JupyterLab renderer.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "AliasChange",
    "CheckProblem",
    "CheckReport",
    "CopiedVersion",
    "DatasetVersion",
    "GcReport",
    "Listing",
    "ModelVersion",
    "Renderable",
    "TransferReport",
    "json_objects",
    "to_jsonable",
]


def json_objects(texts: list[Any]) -> list[dict[str, Any]]:
    """Parse many small JSON objects with one parser call (history and listings build thousands)."""
    try:  # the common case: every row holds a JSON text
        values = json.loads(f"[{','.join(texts)}]")
    except (TypeError, ValueError):
        values = None
    if values is None or len(values) != len(texts):  # NULLs, empty or bad rows: one by one
        values = []
        for text in texts:
            try:
                values.append(json.loads(text) if text else {})
            except (TypeError, ValueError):
                values.append({})
    return [v if isinstance(v, dict) else {} for v in values]


def to_jsonable(value: Any) -> Any:
    """Dataclasses, tuples, datetimes and numpy scalars as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return to_jsonable(value.item())
    return value


class Renderable:
    """Mixin: every result renders through :func:`modelbook.render.mimebundle`."""

    kind: str = "result"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_jsonable(self)
        return data

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from modelbook.render import mimebundle

        return mimebundle(self)

    def __str__(self) -> str:
        from modelbook.render.text import to_text

        return to_text(self)


@dataclass(frozen=True, repr=False)
class DatasetVersion(Renderable):
    """A stored dataset version, as returned by ``register`` and ``show``."""

    name: str
    version: int
    fingerprint: str
    n_rows: int
    n_columns: int
    size_bytes: int
    source: str | None
    target: str | None
    created_at: datetime
    created_by: str
    tags: Mapping[str, str] = field(default_factory=dict)
    notes: str | None = None
    aliases: tuple[str, ...] = ()
    columns: tuple[Mapping[str, Any], ...] = ()  # column profiles as dicts
    reused: bool = False  # True: identical data was already stored, nothing new written
    changes: tuple[str, ...] = ()  # what changed since the previous version
    kind = "dataset_version"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def __repr__(self) -> str:
        return f"<DatasetVersion {self.ref}: {self.n_rows:,} rows × {self.n_columns} columns>"


@dataclass(frozen=True, repr=False)
class ModelVersion(Renderable):
    """A stored model version, as returned by ``register`` and ``show``."""

    name: str
    version: int
    flavor: str
    class_name: str
    size_bytes: int
    trusted: bool
    params: Mapping[str, Any]
    metrics: Mapping[str, float]
    signature: Mapping[str, Any] | None
    train_dataset: str | None  # name@version
    environment: Mapping[str, Any]
    code: str | None
    notebook: str | None
    git_commit: str | None
    git_dirty: bool | None
    created_at: datetime
    created_by: str
    tags: Mapping[str, str] = field(default_factory=dict)
    notes: str | None = None
    aliases: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    reused: bool = False  # True: an identical model (state and training data) was stored already
    evaluation: str | None = None  # the evaluation set, "<name>-eval@<v>" (role: evaluation)
    measured_metrics: Mapping[str, float] = field(default_factory=dict)  # on the evaluation set
    kind = "model_version"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def __repr__(self) -> str:
        return f"<ModelVersion {self.ref}: {self.class_name.rpartition('.')[2]} ({self.flavor})>"


@dataclass(frozen=True, repr=False)
class Listing(Renderable):
    """A table of registry rows (``ls``, versions of a name, alias history)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    kind = "listing"

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(self.columns))

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"<Listing {self.title!r}: {len(self.rows)} rows>"


@dataclass(frozen=True, repr=False)
class AliasChange(Renderable):
    name: str
    alias: str
    version: int | None
    previous: int | None
    kind = "alias_change"

    def __repr__(self) -> str:
        return f"<AliasChange {self.name}@{self.alias}: {self.previous} → {self.version}>"


@dataclass(frozen=True, repr=False)
class GcReport(Renderable):
    removed_files: int
    freed_bytes: int
    kind = "gc_report"

    def __repr__(self) -> str:
        return f"<GcReport removed {self.removed_files} files>"


@dataclass(frozen=True)
class CheckProblem:
    """One thing ``check`` found broken: which check, what it affects, what to do."""

    check: str  # e.g. 'blob.missing', 'ref.alias', 'metadata'
    subject: str  # e.g. 'model churn@2', 'alias churn@production'
    message: str
    fix: str


@dataclass(frozen=True, repr=False)
class CheckReport(Renderable):
    """What ``modelbook check`` verified and found: ``ok`` when nothing is broken."""

    registry: str
    metadata: str  # 'ok' | 'damaged' | 'missing'
    files_checked: int  # artifact files hashed
    bytes_checked: int
    problems: tuple[CheckProblem, ...] = ()
    notes: tuple[str, ...] = ()  # not broken: unreferenced files, stale temporary files
    counts: Mapping[str, int] = field(default_factory=dict)  # rows read per table
    tables: Mapping[str, str] = field(default_factory=dict)  # 'ok' or why a table is unreadable
    recovery: str | None = None  # how to recover, when the metadata is damaged or missing
    files: tuple[Mapping[str, Any], ...] = ()  # every artifact file, when the metadata is not ok
    kind = "check_report"

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **super().to_dict()}

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"{len(self.problems)} problems"
        return f"<CheckReport {self.registry}: {state}>"


# -- push / pull (modelbook.registry.transfer) ---------------------------------------------------


@dataclass(frozen=True)
class CopiedVersion:
    """One version a transfer copied, or found already there."""

    kind: str  # 'model' | 'dataset'
    name: str
    source_version: int
    version: int  # its number on the destination
    copied: bool  # False: the destination had it (same identity / fingerprint)
    role: str = "target"  # 'target' | 'training' | 'evaluation'


@dataclass(frozen=True, repr=False)
class TransferReport(Renderable):
    """What ``push`` / ``pull`` did: the versions copied (or found), files and bytes sent."""

    action: str  # 'push' | 'pull'
    entry: str  # 'model' | 'dataset'
    name: str
    source: str  # where from, as shown (no credentials)
    destination: str
    source_version: int
    version: int  # the version on the destination
    copied: bool  # False: it was there already; nothing was written (except ``alias``)
    versions: tuple[CopiedVersion, ...] = ()
    files: int = 0  # blobs uploaded to the destination's store
    bytes: int = 0
    rows: int = 0  # metadata rows inserted
    alias: str | None = None
    alias_moved: bool = False
    tables: Mapping[str, int] = field(default_factory=dict)  # rows inserted, by table
    kind = "transfer"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def source_ref(self) -> str:
        return f"{self.name}@{self.source_version}"

    def summary(self) -> str:
        """One line: what was copied where, or that nothing needed copying."""
        if not self.copied:
            moved = f"; alias {self.alias} → {self.version}" if self.alias_moved else ""
            return (
                f"{self.entry} {self.source_ref} is already at {self.destination} as {self.ref}: "
                f"nothing copied{moved}"
            )
        verb = "pushed" if self.action == "push" else "pulled"
        parts = [
            f"{v.name}@{v.source_version} → @{v.version}" + ("" if v.copied else " (there already)")
            for v in self.versions
            if v.role != "target"
        ]
        also = f" with {', '.join(parts)}" if parts else ""
        alias = f"; alias {self.alias} → {self.version}" if self.alias else ""
        return (
            f"{verb} {self.entry} {self.source_ref} from {self.source} to {self.destination} as "
            f"{self.ref}{also}: {self.files} {'file' if self.files == 1 else 'files'} "
            f"({_size(self.bytes)}), {self.rows} rows{alias}"
        )

    def __repr__(self) -> str:
        return f"<TransferReport {self.summary()}>"


def _size(n: int) -> str:
    from modelbook.render.format import fmt_bytes

    return fmt_bytes(n)
