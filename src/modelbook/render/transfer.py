"""Text and HTML for push / pull (:class:`~modelbook.registry.transfer.TransferReport`).

The summary sentence says everything (what, from where, to where, as which version, or that
nothing needed copying); the table lists each version taken along. Words carry the meaning, so
the HTML reads the same after a notebook sanitizer strips styles.
"""

from __future__ import annotations

from modelbook.render.html import esc, register_html, table_html
from modelbook.render.text import register_text, table_text
from modelbook.results import CopiedVersion, TransferReport

__all__: list[str] = []

_COLUMNS = ("what", "source", "destination", "copied")


def _row(v: CopiedVersion) -> list[str]:
    what = f"{v.kind} ({v.role})" if v.role != "target" else v.kind
    return [
        what,
        f"{v.name}@{v.source_version}",
        f"{v.name}@{v.version}",
        "copied" if v.copied else "there already",
    ]


@register_text(TransferReport)
def _text(result: TransferReport) -> str:
    if not result.versions:
        return result.summary()
    rows = [_row(v) for v in result.versions]
    return f"{result.summary()}\n{table_text(_COLUMNS, rows)}"


@register_html(TransferReport)
def _html(result: TransferReport) -> str:
    head = f"<p>{esc(result.summary())}</p>"
    if not result.versions:
        return head
    return head + table_html(_COLUMNS, [_row(v) for v in result.versions])
