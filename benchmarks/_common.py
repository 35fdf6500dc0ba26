"""Shared helpers for the benchmark scripts: generated frames, timers, peak-memory sampling."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


def make_frame(rows: int, *, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    """The issues' benchmark shape: 20 float, 5 int and 5 categorical string columns."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i in range(20):
        columns[f"f{i}"] = rng.normal(i + shift, 1 + i / 10, rows)
    for i in range(5):
        columns[f"i{i}"] = rng.integers(0, 100 * (i + 1), rows)
    categories = np.array([f"cat_{k}" for k in range(20)])
    for i in range(5):
        columns[f"c{i}"] = pd.Series(categories[rng.integers(0, 20, rows)], dtype="str")
    return pd.DataFrame(columns)


def with_object_strings(frame: pd.DataFrame, *, per_cell: bool = False) -> pd.DataFrame:
    """The frame with its string columns as pandas object dtype (Python ``str`` objects).

    By default one object per distinct value, as ``pandas.read_csv`` and pyarrow's
    ``to_pandas`` produce them; ``per_cell`` gives every cell its own object (the worst case,
    e.g. strings built row by row in Python).
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype.kind != "O" and not pd.api.types.is_string_dtype(out[column]):
            continue
        if per_cell:
            out[column] = out[column].astype(object)
        else:
            codes, uniques = pd.factorize(out[column])
            out[column] = pd.Series(np.asarray(uniques, dtype=object)[codes], dtype=object)
    return out


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measurement:
    seconds: float
    peak_bytes: int  # peak RSS above the RSS at the start


@contextmanager
def peak_rss(interval: float = 0.002) -> Iterator[list[int]]:
    """Samples RSS on a thread; yields a list whose single element becomes the peak increase."""
    gc.collect()
    start = rss_bytes()
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    result = [0]
    try:
        yield result
    finally:
        done.set()
        thread.join()
        peak[0] = max(peak[0], rss_bytes())
        result[0] = peak[0] - start


def measure(func: Callable[[], Any]) -> tuple[Measurement, Any]:
    with peak_rss() as peak:
        t0 = time.perf_counter()
        value = func()
        elapsed = time.perf_counter() - t0
    return Measurement(elapsed, peak[0]), value


def mb(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.0f} MB"
