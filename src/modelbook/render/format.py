"""Small formatting helpers shared by the text and HTML renderers."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

__all__ = ["fmt_bytes", "fmt_num", "fmt_p", "fmt_value", "plural"]


def fmt_bytes(size: int | float | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def fmt_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.3g}"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def fmt_num(value: float | None, digits: int = 3) -> str:
    """A number in ``digits`` significant digits without thousands separators ("" for None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.{digits}g}"


def fmt_p(p: float | None) -> str:
    """A p-value as people write it: 0.31, 0.0042, 3e-09, "< 1e-300" at the float floor."""
    if p is None or math.isnan(p):
        return ""
    if p <= 0:
        return "< 1e-300"
    if p >= 0.001:
        return f"{p:.2g}" if p < 0.1 else f"{p:.2f}"
    return f"{p:.1e}".replace("e-0", "e-").replace(".0e", "e")


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 run``, ``2 runs``, ``1,000 runs`` (``words``: the plural when it is not word + s)."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
