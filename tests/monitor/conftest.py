"""Fixtures for monitor tests: a registered scikit-learn pipeline and batches drawn like its data."""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from monitor_data import N, labels_for, make_frame


@dataclass
class Trained:
    model: Any
    X: pd.DataFrame
    y: pd.Series
    home: Path


@pytest.fixture(scope="session")
def _trained_template(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """Train and register once per session; each test gets a copy of the registry folder."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import modelbook

    home = tmp_path_factory.mktemp("template") / ".modelbook"
    X = make_frame(N, seed=1)
    y = labels_for(X, seed=2)
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["plan"]),
            (StandardScaler(), ["tenure", "charges", "calls"]),
        ),
        LogisticRegression(),
    ).fit(X, y)
    accuracy = float((model.predict(X) == y).mean())
    modelbook.register(
        model, name="churn", data=X, target=y, metrics={"accuracy": accuracy}, registry=home
    )
    return Trained(model, X, y, home)


@pytest.fixture
def trained(registry: Path, _trained_template: Trained) -> Trained:
    """``churn@1``: a pipeline trained on ``churn-training@1``, with its accuracy registered."""
    shutil.copytree(_trained_template.home, registry)
    return dataclasses.replace(_trained_template, home=registry)


@pytest.fixture
def batch() -> pd.DataFrame:
    """A batch from the training distribution (other seed)."""
    return make_frame(N, seed=11)


@pytest.fixture
def drifted() -> pd.DataFrame:
    """A batch whose ``tenure`` moved by 0.5 sd; everything else as in training."""
    return make_frame(N, seed=11, shift=0.5)
