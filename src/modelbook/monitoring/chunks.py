"""Cutting a batch into chunks: by calendar period of a time column, or by row count.

``chunk=`` reads as people say it: ``"month"``, ``"week"``, ``"day"``, ``"hour"``,
``"quarter"``, ``"year"``, a count of them (``"2w"``, ``"7d"``, ``"6h"``, ``"3 months"``), or a
number of rows (``5000``, ``"5000"``, ``"5000 rows"``). ``m`` alone is refused: minutes and
months are both "m".

Every row gets an integer chunk key, computed the same way in numpy (in-memory batches) and in
DuckDB SQL (Parquet/CSV files), so both paths cut at the same instants:

* hours, days: ``floor(t / width)`` on microseconds since 1970-01-01 (bins of ``2d`` start on
  even days since the epoch);
* weeks start on Monday (ISO weeks): ``floor((t - 4 days) / 7 days)``, 1970-01-05 being a Monday;
* months, quarters, years: ``floor(months since 1970-01 / (1, 3 or 12) × count)``.

Zoned timestamps are cut on their UTC clock (Parquet does not keep the zone's name, so a file
and the same frame in memory cut alike); convert to local wall time first
(``ts.dt.tz_convert("Europe/Berlin").dt.tz_localize(None)``) to cut at local midnight.

A calendar chunk's period is ``[start, end)``: start included, end excluded (March is
2026-03-01 – 2026-04-01). A row chunk's period is its first and last time (both included), or
none without a time column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from modelbook.errors import DataError

__all__ = [
    "CALENDAR_UNITS",
    "Chunking",
    "calendar_keys",
    "key_sql",
    "micros_sql",
    "parse_chunk",
    "period_of",
    "time_microseconds",
]

CALENDAR_UNITS = ("hour", "day", "week", "month", "quarter", "year")
_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
_FIXED_US = {"hour": _HOUR_US, "day": _DAY_US, "week": 7 * _DAY_US}
_WEEK_OFFSET_US = 4 * _DAY_US  # 1970-01-05, the first Monday after the epoch
_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_EPOCH = datetime(1970, 1, 1)
_UNIT_WORDS = {
    "h": "hour", "hr": "hour", "hour": "hour", "hours": "hour", "hourly": "hour",
    "d": "day", "day": "day", "days": "day", "daily": "day",
    "w": "week", "wk": "week", "week": "week", "weeks": "week", "weekly": "week",
    "month": "month", "months": "month", "monthly": "month", "mo": "month",
    "q": "quarter", "quarter": "quarter", "quarters": "quarter", "quarterly": "quarter",
    "y": "year", "yr": "year", "year": "year", "years": "year", "yearly": "year",
    "rows": "rows", "row": "rows",
}  # fmt: skip
_SPEC = re.compile(r"\s*(\d+)?\s*([a-z]*)\s*", re.IGNORECASE)
_EXAMPLES = "e.g. 'month', 'week', '1d', '6h', 'quarter' or a number of rows like 5000"

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Chunking:
    """How a batch is cut: ``unit`` is ``'rows'`` or a calendar unit, ``size`` how many."""

    unit: str
    size: int

    @property
    def by_time(self) -> bool:
        """Whether the chunks are calendar periods (they need a time column)."""
        return self.unit != "rows"

    def __str__(self) -> str:
        if self.unit == "rows":
            return f"{self.size:,} rows"
        return self.unit if self.size == 1 else f"{self.size} {self.unit}s"


def parse_chunk(chunk: object) -> Chunking:
    """``chunk=`` as a :class:`Chunking`; a one-line :class:`DataError` when it does not parse."""
    if isinstance(chunk, Chunking):
        return chunk
    if isinstance(chunk, bool) or not isinstance(chunk, (int, str)):
        raise DataError(
            f"chunk={chunk!r} is not a chunk size: pass a period or a number of rows, {_EXAMPLES}."
        )
    if isinstance(chunk, int):
        count, word = chunk, "rows"
    else:
        match = _SPEC.fullmatch(chunk)
        if match is None or not (match.group(1) or match.group(2)):
            raise DataError(
                f"chunk={chunk!r} does not read as a period or a row count: {_EXAMPLES}."
            )
        count = int(match.group(1)) if match.group(1) else 1
        word = match.group(2).lower()
        if not word:
            word = "rows"
        if word in ("m", "min", "mins", "minute", "minutes"):
            raise DataError(
                f"chunk={chunk!r} is ambiguous or too fine: write 'month' for months; chunks "
                "are at least an hour long."
            )
        if word not in _UNIT_WORDS:
            raise DataError(f"chunk={chunk!r} has an unknown unit {word!r}: {_EXAMPLES}.")
        word = _UNIT_WORDS[word]
        if word == "rows" and not match.group(1):
            raise DataError(f"chunk={chunk!r} needs a number of rows, e.g. chunk=5000.")
    if count < 1:
        raise DataError(f"chunk={chunk!r} must be at least 1 {word.rstrip('s')}.")
    return Chunking(word, count)


# --------------------------------------------------------------------------- keys in numpy


def time_microseconds(column: Any) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """A timestamp or date Arrow column as int64 microseconds since the epoch (UTC clock for
    zoned timestamps) and a mask of the rows that have a time (False for null / NaT)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = column.type
    valid = np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_timestamp(t):
        raw = pc.fill_null(column.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
        ints = np.asarray(raw, dtype=np.int64)
        scale = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}[t.unit]
        us = np.floor_divide(ints, 1_000) if scale is None else ints * scale
    elif pa.types.is_date32(t):
        raw = pc.fill_null(column.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
        us = np.asarray(raw, dtype=np.int64) * _DAY_US
    elif pa.types.is_date64(t):
        raw = pc.fill_null(column.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
        us = np.asarray(raw, dtype=np.int64) * 1_000
    else:  # pragma: no cover - the caller checked the type
        raise DataError(f"a {t} column is not a time")
    return np.ascontiguousarray(us, dtype=np.int64), valid


def calendar_keys(us: IntArray, chunking: Chunking) -> IntArray:
    """The chunk key of each time (microseconds since the epoch); see the module docstring."""
    unit, size = chunking.unit, chunking.size
    if unit in _FIXED_US:
        offset = _WEEK_OFFSET_US if unit == "week" else 0
        return np.floor_divide(us - offset, _FIXED_US[unit] * size)
    months = us.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    return np.floor_divide(months, _MONTHS[unit] * size)


def period_of(key: int, chunking: Chunking) -> tuple[datetime, datetime]:
    """The ``[start, end)`` of a calendar chunk key."""
    unit, size = chunking.unit, chunking.size
    if unit in _FIXED_US:
        width = _FIXED_US[unit] * size
        offset = _WEEK_OFFSET_US if unit == "week" else 0
        start = _EPOCH + timedelta(microseconds=key * width + offset)
        return start, start + timedelta(microseconds=width)
    step = _MONTHS[unit] * size
    first, last = key * step, (key + 1) * step
    return _month(first), _month(last)


def _month(months: int) -> datetime:
    return datetime(1970 + months // 12, months % 12 + 1, 1)


# --------------------------------------------------------------------------- keys in DuckDB


def _floor_div(expr: str, by: int) -> str:
    """Integer floor division in SQL (DuckDB's ``//`` truncates towards zero)."""
    return f"((({expr}) - ((({expr}) % {by}) + {by}) % {by}) // {by})"


def key_sql(time_column: str, chunking: Chunking) -> str:
    """The DuckDB expression of a row's calendar chunk key (NULL without a time); the session
    must use ``TimeZone = 'UTC'`` so zoned timestamps are read on the UTC clock."""
    quoted = '"' + time_column.replace('"', '""') + '"'
    unit, size = chunking.unit, chunking.size
    if unit in _FIXED_US:
        offset = _WEEK_OFFSET_US if unit == "week" else 0
        return _floor_div(f"{micros_sql(time_column)} - {offset}", _FIXED_US[unit] * size)
    months = f"((year({quoted}) - 1970) * 12 + month({quoted}) - 1)"
    return _floor_div(months, _MONTHS[unit] * size)


def micros_sql(time_column: str) -> str:
    """Microseconds since the epoch, floored as numpy floors nanoseconds (dates, zoned or
    nanosecond timestamps alike)."""
    quoted = '"' + time_column.replace('"', '""') + '"'
    return _floor_div(f"epoch_ns({quoted})", 1000)
