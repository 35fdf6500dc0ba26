"""Fixtures for the views tests (helpers live in views_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from views_helpers import ARTIFACTS, customer_tables


@pytest.fixture
def customers() -> tuple[pd.DataFrame, pd.DataFrame]:
    return customer_tables()


@pytest.fixture
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    yield ARTIFACTS
