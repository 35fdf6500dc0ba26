"""Regenerate ``tests/lab/fixtures/report.ipynb``: a saved notebook whose outputs are real
modelbook results (built from a throw-away registry), for the no-kernel browser test.

    .venv/bin/python tests/lab/make_fixture.py

Outputs are the results' own ``_repr_mimebundle_()``, exactly what IPython stores, so the
notebook opens in JupyterLab (no kernel) as a reviewer would see a shared one.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "report.ipynb"


def build_registry(home: Path) -> dict[str, Any]:
    """A small real registry: two model versions (the second with an evaluation set, so its
    monitor runs estimate performance without labels), training data, one drifted monitor run,
    one clean run, and a timeline of four monthly chunks whose last two drift."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import modelbook as mb

    rng = np.random.default_rng(7)
    n = 600
    train = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round(1),
            "income": rng.lognormal(10, 0.5, n).round(2),
            "tenure": rng.integers(0, 120, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    y = pd.Series((train["age"] + rng.normal(0, 5, n) > 42).astype(int), name="churned")
    features = train[["age", "income", "tenure"]]
    v1 = LogisticRegression(max_iter=500).fit(features, y)
    out: dict[str, Any] = {}
    out["model1"] = mb.register(
        v1, name="churn", data=features, target=y, metrics={"auc": 0.81}, registry=home
    )
    v2 = LogisticRegression(C=0.5, max_iter=800).fit(features, y)
    # Held-out rows from the same process (their own generator: the rows above stay as they were).
    eval_features, eval_y = _customers(np.random.default_rng(8), 300)
    out["model2"] = mb.register(
        v2,
        name="churn",
        data=features,
        target=y,
        eval_data=eval_features,
        eval_target=eval_y,
        metrics={"auc": 0.83},
        alias="production",
        registry=home,
    )
    out["dataset"] = mb.register(train, name="customers", registry=home)
    shifted = train.copy()
    shifted["age"] = shifted["age"] + 8
    shifted["plan"] = rng.choice(["basic", "plus", "pro"], n, p=[0.3, 0.3, 0.4])
    out["dataset2"] = mb.register(shifted, name="customers", registry=home)
    scored = _months(np.random.default_rng(9))
    batch = features.copy()
    batch["age"] = batch["age"] + 8
    out["monitor"] = mb.monitor("churn", data=batch, registry=home)
    out["monitor_ok"] = mb.monitor("churn", data=features, registry=home)
    out["timeline"] = mb.monitor(
        "churn", data=scored, target="churned", time="ts", chunk="month", registry=home
    )
    out["diff"] = mb.diff("churn@1", "churn@2", registry=home)
    out["dataset_diff"] = mb.diff("customers@1", "customers@2", registry=home)
    out["history"] = mb.history("churn", registry=home)
    out["ls"] = mb.ls(registry=home)
    out["alias"] = mb.alias("churn@1", "staging", registry=home)
    out["gc"] = mb.gc(registry=home)
    return out


def close_the_loop(home: Path) -> dict[str, Any]:
    """Champion/challenger, late labels and a policy (issue 12) on the registry of
    :func:`build_registry`, after its outputs so they stay as they were (the fixture only: the
    lab tests' served registry keeps its two versions). A third, different version (a depth-2
    tree) challenges ``churn@production`` on a labelled batch with ids, so the comparison has
    quality and McNemar; a later unlabelled run with ids gets its labels by ``feedback``; a
    dry-run rollback policy on quality guards the alias (``policy.toml``)."""
    import numpy as np
    from sklearn.tree import DecisionTreeClassifier

    import modelbook as mb

    features, y = _customers(np.random.default_rng(10), 600)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(features, y)
    out: dict[str, Any] = {}
    out["model3"] = mb.register(
        tree, name="churn", data=features, target=y, metrics={"auc": 0.79}, registry=home
    )
    (home / "policy.toml").write_text(
        "[policy.guard-production]\n"
        'alias = "churn@production"\n'
        'on = ["quality"]\n'
        "consecutive = 2\n"
        'action = "rollback"\n'
        'cooldown = "24h"\n'
        "dry_run = true\n"
    )
    batch, labels = _customers(np.random.default_rng(11), 400)
    batch.insert(0, "customer_id", [f"c{i:04d}" for i in range(len(batch))])
    out["challenger"] = mb.monitor(
        "churn@production",
        data=batch,
        target=labels.to_numpy(),
        id="customer_id",
        challenger="churn@3",
        registry=home,
    )
    later, later_y = _customers(np.random.default_rng(12), 300)
    later.insert(0, "customer_id", [f"d{i:04d}" for i in range(len(later))])
    mb.monitor("churn@production", data=later, id="customer_id", registry=home)
    # Labels for 250 of the 300 customers, plus 5 ids never predicted.
    late = later[["customer_id"]].iloc[:250].assign(churned=later_y.to_numpy()[:250])
    unknown = late.iloc[:5].assign(customer_id=[f"x{i}" for i in range(5)])
    out["feedback"] = mb.feedback(
        "churn",
        labels=_concat(late, unknown),
        id="customer_id",
        target="churned",
        registry=home,
    )
    out["policy"] = mb.policy_status(registry=home)
    return out


def segments_and_fairness(home: Path) -> dict[str, Any]:
    """Issue 13 on the registry of :func:`build_registry`, after its outputs (the fixture only):
    a credit model (a pipeline that reads three numeric columns; region and gender pass through
    unused) monitored with ``--segments region --sensitive gender`` on a labelled batch where
    prices rose in the north only, and where men, who call support more, are flagged more often
    (a demographic parity ratio below 0.8); twelve rows have no gender: an insufficient group."""
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    import modelbook as mb

    train = _credit(np.random.default_rng(20), 1_500)
    x, y = train.drop(columns="churned"), train["churned"]
    numeric = ColumnTransformer([("numeric", "passthrough", ["tenure", "charges", "calls"])])
    model = make_pipeline(numeric, LogisticRegression(max_iter=1_000)).fit(x, y)
    mb.register(model, name="credit", data=x, target=y, registry=home)
    batch = _credit(np.random.default_rng(21), 1_200, north_price_rise=30.0)
    batch.loc[batch.index[:12], "gender"] = None
    report = mb.monitor(
        "credit",
        data=batch,
        target="churned",
        segments=["region"],
        sensitive=["gender"],
        registry=home,
    )
    return {"segments": report}


def _credit(rng: Any, n: int, *, north_price_rise: float = 0.0) -> Any:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", "west"], n, p=[0.2, 0.4, 0.25, 0.15]),
            "gender": rng.choice(["F", "M"], n),
            "tenure": rng.gamma(2.0, 12.0, n).round(1),
        }
    )
    rise = np.where(frame["region"] == "north", north_price_rise, 0.0)
    frame["charges"] = (rng.normal(75, 12, n) + rise).round(2)
    frame["calls"] = rng.poisson(np.where(frame["gender"] == "M", 4.0, 2.0)).astype(float)
    logit = (
        -0.08 * (frame["tenure"] - 24)
        + 0.05 * (frame["charges"] - 80)
        + 0.45 * (frame["calls"] - 3)
        - 0.5
    )
    frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def _concat(*frames: Any) -> Any:
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def _customers(rng: Any, n: int) -> tuple[Any, Any]:
    """Features and churn labels drawn as the training rows are."""
    import pandas as pd

    features = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round(1),
            "income": rng.lognormal(10, 0.5, n).round(2),
            "tenure": rng.integers(0, 120, n),
        }
    )
    y = pd.Series((features["age"] + rng.normal(0, 5, n) > 42).astype(int), name="churned")
    return features, y


def _months(rng: Any, *, rows: int = 150) -> Any:
    """Four months of scored customers with their labels (``ts``, ``churned``); from March on
    the customers are 8 years older, so the last two chunks drift."""
    import pandas as pd

    parts = []
    for month in range(1, 5):
        features, y = _customers(rng, rows)
        if month >= 3:
            features["age"] = features["age"] + 8
            y = (features["age"] + rng.normal(0, 5, rows) > 42).astype(int).rename("churned")
        start = pd.Timestamp(2026, month, 1)
        features["ts"] = start + pd.to_timedelta(rng.uniform(0, 27, rows), unit="D")
        features["churned"] = y.to_numpy()
        parts.append(features)
    return pd.concat(parts, ignore_index=True)


class FutureResult:
    """A result kind this renderer does not know (as a newer modelbook might write)."""

    def _repr_mimebundle_(self) -> dict[str, Any]:
        from modelbook.render import MIME_TYPE

        data = {"target": "churn@2", "scores": [0.5, 0.75], "nested": {"ok": True}}
        return {
            "text/plain": "<FutureResult churn@2>",
            MIME_TYPE: {"type": "future_result", "version": 2, "data": data},
        }


def notebook(results: dict[str, Any]) -> Any:
    import nbformat

    cells = [nbformat.v4.new_markdown_cell("# modelbook outputs (fixture for the lab tests)")]
    sources = {
        "monitor": "%monitor churn --data batch",
        "monitor_ok": "%monitor churn --data features",
        "timeline": "%monitor churn --data scored --target churned --time ts --chunk month",
        "model2": "%modelbook show churn@2",
        "dataset": "%modelbook show customers@1",
        "diff": "%modelbook diff churn@1 churn@2",
        "dataset_diff": "%modelbook diff customers@1 customers@2",
        "history": "%modelbook history churn",
        "ls": "%modelbook ls",
        "alias": "%modelbook alias churn@1 staging",
        "gc": "%modelbook gc",
        "challenger": "%monitor churn@production --data batch --target labels --id customer_id "
        "--challenger churn@3",
        "feedback": "%modelbook feedback churn --labels late --id customer_id --target churned",
        "policy": "%modelbook policy check",
        "segments": "%monitor credit --data batch --target churned --segments region "
        "--sensitive gender",
        "future": "%modelbook future churn@2  # written by a newer modelbook: an unknown kind",
    }
    results = {**results, "future": FutureResult()}
    for count, (key, source) in enumerate(sources.items(), start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=count)
        cell.outputs = [
            nbformat.v4.new_output(
                "execute_result", data=results[key]._repr_mimebundle_(), execution_count=count
            )
        ]
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def main() -> int:
    import nbformat

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / ".modelbook"
        results = {**build_registry(home), **close_the_loop(home)}
        results.update(segments_and_fairness(home))
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook(results), FIXTURE)
    print(f"wrote {FIXTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
