"""A monitor run with an alert of each kind, on a real scikit-learn dataset (breast cancer).

The 569 rows are split in three: the model is trained on rows 0–299 and registered with rows
300–449 as its evaluation set (so every run also estimates performance without labels and the
report has its "Estimated" section); rows 450– are the monitored batch.

The same code runs in-process (unit tests) and as the cells of a notebook executed live in
JupyterLab (browser tests), so every face of the report is checked on the same run:

* schema: a column the model never saw (``ward``);
* invariants: values out of the training range (``mean area`` × 3), a category never seen in
  training (``clinic`` = 'Berlin' in a quarter of the rows), nulls (``mean compactness``);
* stability: NaN values (``mean smoothness``, kept as NaN in Arrow);
* drift: columns drifted, the prediction drifted, the label drifted;
* multivariate drift: the PCA reconstruction error far above its reference band;
* estimated performance: F1 estimated without labels below its band (the inputs moved);
* quality: accuracy far below the registered 0.95 (the batch's labels are flipped);
* segments and fairness by ``clinic`` (groups under 30 rows shown as insufficient).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Check kinds the scenario must raise (each face must show an alert of each).
ALERT_KINDS = (
    "schema.unexpected",
    "invariants.range",
    "invariants.categories",
    "invariants.nulls",
    "stability.nan",
    "drift.column",
    "drift.prediction",
    "drift.multivariate",
    "performance.estimated.f1",
    "quality.accuracy",
)

SETUP = """\
import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import modelbook

data = load_breast_cancer(as_frame=True)
X = data.data.iloc[:, :8].copy()
y = data.target.rename("benign")
X["clinic"] = np.random.default_rng(0).choice(["Paris", "Lyon", "Oslo"], len(X))
X_train, y_train = X.iloc[:300], y.iloc[:300]
X_val, y_val = X.iloc[300:450], y.iloc[300:450]
numeric = list(X.columns[:8])
model = make_pipeline(
    make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()), numeric),
        (OneHotEncoder(handle_unknown="ignore"), ["clinic"]),
    ),
    LogisticRegression(max_iter=2000),
).fit(X_train, y_train)
"""

BATCH = """\
batch = X.iloc[450:].reset_index(drop=True)
n = len(batch)
batch.loc[: n // 4, "clinic"] = "Berlin"
batch["mean area"] = batch["mean area"] * 3
batch["mean texture"] = batch["mean texture"] * 1.6 + 3
batch.loc[: n // 5, "mean compactness"] = np.nan
batch["ward"] = "A"
y_batch = 1 - y.iloc[450:].reset_index(drop=True)
smoothness = batch["mean smoothness"].to_numpy().copy()
smoothness[-n // 10 :] = np.nan
table = pa.Table.from_pandas(batch, preserve_index=False)
table = table.set_column(
    table.column_names.index("mean smoothness"),
    "mean smoothness",
    pa.array(smoothness, from_pandas=False),
)
"""

REGISTER = (
    "%register model --name tumours --data X_train --target y_train "
    "--eval X_val --eval-target y_val --metrics \"{'accuracy': 0.95}\""
)
MONITOR = "%monitor tumours --data table --target y_batch --segments clinic --sensitive clinic"
HISTORY = "%modelbook history tumours"


def cells() -> list[str]:
    """The notebook's code cells, in order."""
    return ["%load_ext modelbook\n" + SETUP, REGISTER, BATCH, MONITOR, HISTORY]


def write_notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells()])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def run(registry: Path) -> Any:
    """Run the scenario in this process; returns the monitor report."""
    import modelbook

    namespace: dict[str, Any] = {}
    exec(SETUP, namespace)  # the same code as the notebook's cells
    exec(BATCH, namespace)
    modelbook.register(
        namespace["model"],
        name="tumours",
        data=namespace["X_train"],
        target=namespace["y_train"],
        eval_data=namespace["X_val"],
        eval_target=namespace["y_val"],
        metrics={"accuracy": 0.95},
        registry=registry,
    )
    return modelbook.monitor(
        "tumours",
        data=namespace["table"],
        target=namespace["y_batch"],
        segments=["clinic"],
        sensitive=["clinic"],
        registry=registry,
    )


def alert_kinds(checks: list[dict[str, Any]]) -> set[str]:
    return {c["check"] for c in checks if c["status"] in ("alert", "error")}
