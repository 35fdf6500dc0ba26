"""Real models registered with an evaluation set, for the estimation and served-scores tests.

* ``cancer``: scikit-learn's breast_cancer (binary, classes 0/1), a scaled logistic regression
  trained on 30 % of the rows, evaluated on 38 %, and a held-out batch of the other 32 %.
* ``wine``: scikit-learn's wine with its classes named (strings), a logistic regression.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

WINE_NAMES = {0: "barolo", 1: "grignolino", 2: "barbera"}


@dataclass
class Registered:
    model: Any
    home: Path
    X_train: pd.DataFrame
    y_train: pd.Series
    X_eval: pd.DataFrame
    y_eval: pd.Series
    X_batch: pd.DataFrame
    y_batch: pd.Series

    def copy_to(self, home: Path) -> Registered:
        shutil.copytree(self.home, home)
        return dataclasses.replace(self, home=home)


def cancer(home: Path) -> Registered:
    """``cancer@1`` registered with its evaluation set (``cancer-eval@1``)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import modelbook

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=0.3, random_state=0, stratify=y
    )
    X_eval, X_batch, y_eval, y_batch = train_test_split(
        X_rest, y_rest, train_size=0.55, random_state=0, stratify=y_rest
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))
    model.fit(X_train, y_train)
    modelbook.register(
        model,
        name="cancer",
        data=X_train,
        target=y_train,
        metrics={"roc_auc": 0.99},
        eval_data=X_eval,
        eval_target=y_eval,
        registry=home,
    )
    return Registered(model, home, X_train, y_train, X_eval, y_eval, X_batch, y_batch)


def wine(home: Path) -> Registered:
    """``wine@1`` with string classes, registered with its evaluation set."""
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import modelbook

    X, codes = load_wine(return_X_y=True, as_frame=True)
    y = codes.map(WINE_NAMES).astype(object).rename("cultivar")
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=50, random_state=1, stratify=y
    )
    X_eval, X_batch, y_eval, y_batch = train_test_split(
        X_rest, y_rest, train_size=100, random_state=1, stratify=y_rest
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))
    model.fit(X_train, y_train)
    modelbook.register(
        model,
        name="wine",
        data=X_train,
        target=y_train,
        eval_data=X_eval,
        eval_target=y_eval,
        registry=home,
    )
    # The batch: the 28 held-out rows and the training rows (enough rows to estimate from).
    X_batch = pd.concat([X_batch, X_train])
    y_batch = pd.concat([y_batch, y_train])
    return Registered(model, home, X_train, y_train, X_eval, y_eval, X_batch, y_batch)


def with_outputs(model: Any, frame: pd.DataFrame, *, names: list[str]) -> pd.DataFrame:
    """The batch as a serving system logs it: inputs, the model's probabilities and class."""
    proba = model.predict_proba(frame)
    out = frame.copy()
    for i, name in enumerate(names):
        out[name] = proba[:, i if len(names) > 1 else 1]
    out["predicted"] = model.predict(frame)
    return out


def hard_rows(model: Any, frame: pd.DataFrame, *, margin: float = 0.3) -> pd.DataFrame:
    """Rows the binary model is unsure of (P within ``margin`` of 0.5): a harder population."""
    p = model.predict_proba(frame)[:, 1]
    return frame[np.abs(p - 0.5) < margin]
