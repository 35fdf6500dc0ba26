"""Plain-text summaries: what papermill logs and terminals show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelbook.render.format import fmt_bytes, fmt_value, plural
from modelbook.results import (
    AliasChange,
    DatasetVersion,
    GcReport,
    Listing,
    ModelVersion,
    Renderable,
)

__all__ = ["register_text", "table_text", "to_text"]

_RENDERERS: dict[type, Callable[[Any], str]] = {}


def register_text(cls: type) -> Callable[[Callable[[Any], str]], Callable[[Any], str]]:
    """Decorator: the text renderer for results of ``cls``."""

    def wrap(func: Callable[[Any], str]) -> Callable[[Any], str]:
        _RENDERERS[cls] = func
        return func

    return wrap


def to_text(result: Renderable) -> str:
    from modelbook.render import _load_renderers

    _load_renderers()
    for cls in type(result).__mro__:
        if cls in _RENDERERS:
            return _RENDERERS[cls](result)
    return repr(result)


def table_text(columns: list[str] | tuple[str, ...], rows: list[list[str]]) -> str:
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
    return "\n".join(lines)


@register_text(DatasetVersion)
def _dataset(result: DatasetVersion) -> str:
    verb = "already stored (identical data)" if result.reused else "stored"
    head = (
        f"dataset {result.ref} {verb}: {plural(result.n_rows, 'row')} × "
        f"{plural(result.n_columns, 'column')}, "
        f"{fmt_bytes(result.size_bytes)} Parquet"
    )
    lines = [head]
    if result.aliases:
        lines.append(f"aliases: {', '.join(result.aliases)}")
    lines.extend(f"  {change}" for change in result.changes)
    return "\n".join(lines)


@register_text(ModelVersion)
def _model(result: ModelVersion) -> str:
    short = result.class_name.rpartition(".")[2]
    trust = "" if result.trusted else " (pickle: loading needs trust=True)"
    verb = "already stored (identical model)" if result.reused else "stored"
    lines = [
        f"model {result.ref} {verb}: {short}, {result.flavor}, {fmt_bytes(result.size_bytes)}"
        f"{trust}"
    ]
    if result.train_dataset:
        lines.append(f"trained on {result.train_dataset}")
    if result.metrics:
        lines.append(
            "metrics: " + ", ".join(f"{k}={fmt_value(v)}" for k, v in result.metrics.items())
        )
    if result.evaluation:
        measured = ", ".join(f"{k}={fmt_value(v)}" for k, v in result.measured_metrics.items())
        lines.append(f"measured on {result.evaluation}: {measured or 'no metric'}")
    if result.aliases:
        lines.append(f"aliases: {', '.join(result.aliases)}")
    lines.extend(f"  {change}" for change in result.changes)
    return "\n".join(lines)


@register_text(Listing)
def _listing(result: Listing) -> str:
    if not result.rows:
        return f"{result.title}: nothing yet"
    rows = [[fmt_value(v) for v in row] for row in result.rows]
    return f"{result.title}\n{table_text(result.columns, rows)}"


@register_text(AliasChange)
def _alias(result: AliasChange) -> str:
    if result.version is None:
        return f"{result.name}@{result.alias} removed (was version {result.previous})"
    was = f" (was {result.previous})" if result.previous is not None else " (new alias)"
    return f"{result.name}@{result.alias} → version {result.version}{was}"


@register_text(GcReport)
def _gc(result: GcReport) -> str:
    files = plural(result.removed_files, "unreferenced file")
    return f"gc: removed {files}, freed {fmt_bytes(result.freed_bytes)}"
