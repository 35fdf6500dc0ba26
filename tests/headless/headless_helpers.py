"""Helpers for the headless tests: the churn registry template and seeded monitor runs."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

#: The ``cli`` fixture: run ``python -m modelbook ARGS`` in a subprocess.
CliRunner = Callable[..., subprocess.CompletedProcess[str]]
NOTEBOOKS = REPO / "notebooks"


@dataclass(frozen=True)
class Churn:
    """A registry holding model ``churn@1`` (trained on ``churn-training@1``) and two batches."""

    home: Path
    ok: Path  # the training data itself, labels in column 'churned': every check passes
    drift: Path  # age +15, income ×2: drift alerts


def build_template(folder: Path) -> Churn:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import modelbook

    rng = np.random.default_rng(0)
    n = 2000
    X = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 0.5, n),
            "tenure": rng.integers(0, 120, n).astype(float),
        }
    )
    y = pd.Series((X["age"] + rng.normal(0, 5, n) > 40).astype(int), name="churned")
    model = LogisticRegression(max_iter=500).fit(X, y)
    home = folder / ".modelbook"
    modelbook.register(model, name="churn", data=X, target=y, registry=home)
    ok = X.copy()
    ok["churned"] = y.to_numpy()
    ok.to_parquet(folder / "ok.parquet")
    drift = ok.copy()
    drift["age"] += 15
    drift["income"] *= 2
    drift.to_parquet(folder / "drift.parquet")
    return Churn(home, folder / "ok.parquet", folder / "drift.parquet")


def seed_runs(home: Path, specs: list[Mapping[str, Any]]) -> list[str]:
    """Store monitor rows as the engine does, in one transaction (fast); returns their ids."""
    from modelbook.registry import Registry

    rows = []
    for spec in specs:
        started: datetime = spec["started_at"]
        rows.append(
            {
                "id": spec.get("id", str(uuid.uuid4())),
                "target": spec.get("target", "churn"),
                "target_version": spec.get("version", 1),
                "reference": "churn-training@1",
                "status": spec.get("status", "ok"),
                "source": spec.get("source", "scheduled"),
                "n_rows": spec.get("n_rows", 100),
                "drift_share": spec.get("drift_share", 0.0),
                "n_alerts": spec.get("n_alerts", 0),
                "metrics": json.dumps(spec.get("metrics", {})),
                "batch_dataset": None,
                "notebook": spec.get("notebook"),
                "parameters": json.dumps(spec.get("parameters", {})),
                "report": "{}",
                "started_at": started,
                "finished_at": started + timedelta(seconds=2),
                "created_by": "test",
            }
        )
    columns = list(rows[0])
    with Registry(home).write() as con:
        con.executemany(
            f"INSERT INTO monitor_runs ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            [[row[c] for c in columns] for row in rows],
        )
    return [str(row["id"]) for row in rows]
