"""Champion and challenger: one batch scored by two model versions, compared row by row.

``monitor("churn@production", data=batch, challenger="churn@candidate")`` profiles the batch
once, runs the data checks once (both versions are judged against one reference: the champion's
training data or ``reference=``), predicts with both versions, runs the model checks of each,
and stores **two runs** (``monitor_runs.role`` ``'champion'`` / ``'challenger'``, one shared
``batch_id``) and **one comparison** (``comparisons``), all in one transaction. It returns a
:class:`ChallengerComparison`: both :class:`MonitorReport` s and the :class:`Comparison`.

What is compared
----------------
* **disagreement**: the share of rows whose predicted labels differ (classifiers only; two
  regressors' values always differ, read the mean |Δ| instead);
* **|Δscore|**: the mean absolute difference of the scores, and the share of rows where it
  exceeds 0.1. The score is the monitor's: P(``classes_[1]``) for a binary classifier, the
  highest probability for a multiclass one, the value for a regressor (so for a regressor the
  0.1 is in the target's unit);
* both **prediction distributions**: score histograms on common bins (binary: 20 bins over
  [0, 1]; regression: 30 bins over both versions' range), or predicted class counts
  (multiclass);
* the **serving cost** of each version (one-row latency, throughput), as the monitor measures it;
* **quality on the labelled rows**, per version, with n (rows without a label are left out);
* an **exact McNemar test** on the paired errors: ``b`` rows the champion got right and the
  challenger wrong, ``c`` the reverse; p = ``binomtest(b, b + c, 0.5)`` (two-sided). For
  regressors "right" is "closer to the label" (ties dropped): the same exact test, a sign test.

Verdict: ``better`` (or ``worse``) when p < 0.05 *and* the challenger's quality differs in that
direction (accuracy, or MAE for regressors); otherwise ``inconclusive``, always with the
labelled n. Labels that arrive later (``mb.feedback``) update the comparison through
:func:`update_comparison`, from the two runs' prediction logs (``id=``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelbook.errors import AlertError, ConfigError, DataError, MonitorError
from modelbook.monitoring.report import CheckResult, MonitorReport
from modelbook.results import Renderable, to_jsonable

if TYPE_CHECKING:
    from modelbook.monitoring.context import ModelRun, RunContext
    from modelbook.monitoring.inputs import Stored
    from modelbook.registry import Registry

__all__ = [
    "ALPHA",
    "DELTA",
    "ChallengerComparison",
    "Comparison",
    "compare",
    "compare_runs",
    "mcnemar",
    "read_challenger",
    "update_comparison",
]

#: Significance level of the McNemar test behind a ``better`` / ``worse`` verdict.
ALPHA = 0.05
#: A row's scores differ "materially" above this absolute difference.
DELTA = 0.1
_BINARY_BINS = 20
_VALUE_BINS = 30
_LEAD = {"binary": "accuracy", "multiclass": "accuracy", "regression": "mae"}
_SHOWN_METRICS = {
    "binary": ("accuracy", "f1", "roc_auc"),
    "multiclass": ("accuracy", "f1_macro"),
    "regression": ("mae", "rmse"),
}


@dataclass(frozen=True)
class Comparison:
    """Champion against challenger on one batch (stored as ``comparisons.comparison``)."""

    champion: str  # name@version
    challenger: str
    task: str  # 'binary' | 'multiclass' | 'regression'
    n_rows: int
    disagreement: float | None  # share of rows with different predicted labels (classifiers)
    mean_abs_delta: float | None  # mean |Δscore|
    share_delta_above: float | None  # share of rows with |Δscore| > delta
    delta: float
    distribution: Mapping[str, Any]  # {"kind": "histogram", "edges", "champion", "challenger"}
    # or {"kind": "classes", "labels", "champion", "challenger"} (counts)
    latency: Mapping[str, Mapping[str, float]]  # "champion" / "challenger" → serving measures
    quality: tuple[Mapping[str, Any], ...]  # {"metric", "champion", "challenger", "n"}
    n_labelled: int
    mcnemar: Mapping[str, Any] | None  # {"b", "c", "n", "p_value", "test"}
    verdict: str  # 'better' | 'worse' | 'inconclusive'
    reason: str  # the verdict in words, with the labelled n
    classes: tuple[Any, ...] | None = None
    updated_at: datetime | None = None
    source: str = "monitor"  # 'monitor' | 'feedback' (recomputed from late labels)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_jsonable(self)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["quality"] = tuple(dict(q) for q in values.get("quality") or ())
        if values.get("classes") is not None:
            values["classes"] = tuple(values["classes"])
        if isinstance(values.get("updated_at"), str):
            values["updated_at"] = datetime.fromisoformat(values["updated_at"])
        return cls(**values)


@dataclass(frozen=True, repr=False)
class ChallengerComparison(Renderable):
    """What ``monitor(..., challenger=)`` returns: both runs and their comparison.

    ``status``, ``ok``, ``alerts``, :meth:`summary` and :meth:`raise_for_alerts` are the
    champion's (the version that serves); the challenger's findings are in ``challenger``.
    ``batch_id`` is None when nothing was stored (``store='none'``).
    """

    champion: MonitorReport
    challenger: MonitorReport
    comparison: Comparison
    batch_id: str | None = None
    kind = "challenger_comparison"

    @property
    def verdict(self) -> str:
        return self.comparison.verdict

    @property
    def status(self) -> str:
        return self.champion.status

    @property
    def ok(self) -> bool:
        return self.champion.ok

    @property
    def alerts(self) -> tuple[CheckResult, ...]:
        return self.champion.alerts

    @property
    def target(self) -> str:
        return self.champion.target

    def summary(self) -> str:
        return f"{self.champion.summary()}; challenger {self.comparison.challenger}: " + (
            self.comparison.reason
        )

    def raise_for_alerts(self) -> ChallengerComparison:
        if not self.ok:
            raise AlertError(self.summary() + ".")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "verdict": self.verdict,
            "comparison": self.comparison.to_dict(),
            "champion": self.champion.to_dict(),
            "challenger": self.challenger.to_dict(),
        }

    def __repr__(self) -> str:
        c = self.comparison
        return f"<ChallengerComparison {c.champion} vs {c.challenger}: {c.verdict}>"


# -- statistics ---------------------------------------------------------------------------------


def mcnemar(champion_wrong: Any, challenger_wrong: Any) -> dict[str, Any]:
    """Exact McNemar test on paired errors: b = champion right / challenger wrong, c = the
    reverse; p = ``scipy.stats.binomtest(b, b + c, 0.5).pvalue`` (1.0 with no discordant pair)."""
    import numpy as np
    from scipy.stats import binomtest

    a = np.asarray(champion_wrong, dtype=bool)
    z = np.asarray(challenger_wrong, dtype=bool)
    b = int(np.count_nonzero(~a & z))
    c = int(np.count_nonzero(a & ~z))
    p = float(binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0
    return {"b": b, "c": c, "n": len(a), "p_value": p, "test": "exact McNemar"}


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _distribution(
    task: str, a: Any, b: Any, labels_a: Any, labels_b: Any, classes: Any
) -> dict[str, Any]:
    import numpy as np

    if task == "multiclass" or (task == "binary" and (a is None or b is None)):
        names = (
            [str(c) for c in classes]
            if classes is not None
            else sorted({str(v) for v in np.concatenate([labels_a, labels_b]).tolist()})
        )
        index = {n: i for i, n in enumerate(names)}

        def counts(values: Any) -> list[int]:
            out = [0] * len(names)
            uniq, n = np.unique(np.asarray(values).astype(str), return_counts=True)
            for u, k in zip(uniq.tolist(), n.tolist(), strict=True):
                if u in index:
                    out[index[u]] += int(k)
            return out

        return {
            "kind": "classes",
            "labels": names,
            "champion": counts(labels_a),
            "challenger": counts(labels_b),
        }
    fa = np.asarray(a, dtype=np.float64)
    fb = np.asarray(b, dtype=np.float64)
    if task == "binary":
        edges = np.linspace(0.0, 1.0, _BINARY_BINS + 1)
    else:
        both = np.concatenate([fa[np.isfinite(fa)], fb[np.isfinite(fb)]])
        lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, _VALUE_BINS + 1)

    def hist(values: Any) -> list[int]:
        values = values[np.isfinite(values)]
        return [int(v) for v in np.histogram(np.clip(values, edges[0], edges[-1]), edges)[0]]

    return {
        "kind": "histogram",
        "edges": [float(e) for e in edges],
        "champion": hist(fa),
        "challenger": hist(fb),
    }


def _quality(
    task: str, y: Any, pred_a: Any, pred_b: Any, score_a: Any, score_b: Any, classes: Any
) -> dict[str, dict[str, float]]:
    """The shown metrics of each version on the labelled rows (scikit-learn's values)."""
    from modelbook.stats.metrics import quality_metrics

    out: dict[str, dict[str, float]] = {}
    kind = "regression" if task == "regression" else "classification"
    for role, pred, score in (("champion", pred_a, score_a), ("challenger", pred_b, score_b)):
        try:
            found = quality_metrics(
                y,
                pred,
                y_score=score if task == "binary" else None,
                task=kind,
                classes=classes if task != "regression" else None,
            )
        except (DataError, ValueError, TypeError):
            found = {}
        out[role] = {k: v for k, v in found.items() if k in _SHOWN_METRICS[task]}
    return out


def compare(
    *,
    champion: str,
    challenger: str,
    task: str,
    labels_a: Any,
    labels_b: Any,
    scores_a: Any,
    scores_b: Any,
    y_true: Any = None,
    classes: Any = None,
    latency: Mapping[str, Mapping[str, float]] | None = None,
    label_problem: str | None = None,
    source: str = "monitor",
) -> Comparison:
    """The comparison of two versions' answers on the same rows (see the module docstring).

    ``labels_*``: predicted labels (or values); ``scores_*``: the monitor's scores (None when a
    classifier gives no probabilities); ``y_true``: labels aligned with the rows, missing ones
    as None/NaN (None: no labels).
    """
    import numpy as np
    import pandas as pd

    from modelbook.registry.store import now

    la, lb = np.asarray(labels_a), np.asarray(labels_b)
    n = len(la)
    regression = task == "regression"
    sa = (
        np.asarray(la if regression else scores_a, dtype=np.float64)
        if (regression or scores_a is not None)
        else None
    )
    sb = (
        np.asarray(lb if regression else scores_b, dtype=np.float64)
        if (regression or scores_b is not None)
        else None
    )
    disagreement = None if regression or n == 0 else float(np.mean(la != lb))
    mean_delta = share_above = None
    if sa is not None and sb is not None and n:
        delta = np.abs(sa - sb)
        ok = np.isfinite(delta)
        if ok.any():
            mean_delta = float(delta[ok].mean())
            share_above = float(np.count_nonzero(delta[ok] > DELTA) / n)
    distribution = _distribution(task, sa, sb, la, lb, classes)

    known = np.zeros(n, dtype=bool)
    if y_true is not None and label_problem is None:
        y_arr = np.asarray(y_true)
        known = ~np.asarray(pd.isna(y_arr), dtype=bool)
        if regression:
            known &= np.isfinite(sa) & np.isfinite(sb)  # type: ignore[arg-type]
    n_labelled = int(known.sum())
    quality_rows: list[dict[str, Any]] = []
    test: dict[str, Any] | None = None
    if n_labelled:
        y = np.asarray(y_true)[known]
        if regression:
            y = y.astype(np.float64)
        elif la.dtype.kind in "iub" and y.dtype != la.dtype:
            y = y.astype(la.dtype)  # labels with gaps came as floats (or objects)
        ka, kb = la[known], lb[known]
        ska = sa[known] if sa is not None else None
        skb = sb[known] if sb is not None else None
        metrics = _quality(task, y, ka, kb, ska, skb, classes)
        for name in _SHOWN_METRICS[task]:
            a, b = metrics["champion"].get(name), metrics["challenger"].get(name)
            if a is None and b is None:
                continue
            quality_rows.append(
                {
                    "metric": name,
                    "champion": _finite(a) if a is not None else None,
                    "challenger": _finite(b) if b is not None else None,
                    "n": n_labelled,
                }
            )
        if regression:
            ea, eb = np.abs(ka.astype(np.float64) - y), np.abs(kb.astype(np.float64) - y)
            tie = ea == eb
            test = mcnemar((ea > eb)[~tie], (eb > ea)[~tie])
            test["test"] = "exact sign test on |error| (McNemar on closer/farther)"
            test["n"] = n_labelled
        else:
            test = mcnemar(ka != y, kb != y)
    verdict, reason = _verdict(task, test, quality_rows, n_labelled, label_problem)
    return Comparison(
        champion=champion,
        challenger=challenger,
        task=task,
        n_rows=n,
        disagreement=disagreement,
        mean_abs_delta=mean_delta,
        share_delta_above=share_above,
        delta=DELTA,
        distribution=distribution,
        latency={k: dict(v) for k, v in (latency or {}).items()},
        quality=tuple(quality_rows),
        n_labelled=n_labelled,
        mcnemar=test,
        verdict=verdict,
        reason=reason,
        classes=tuple(to_jsonable(list(classes))) if classes is not None else None,
        updated_at=now(),
        source=source,
    )


def _verdict(
    task: str,
    test: Mapping[str, Any] | None,
    quality: Sequence[Mapping[str, Any]],
    n_labelled: int,
    label_problem: str | None,
) -> tuple[str, str]:
    if label_problem is not None:
        return "inconclusive", f"inconclusive: labels not comparable ({label_problem})"
    if test is None or not n_labelled:
        return "inconclusive", (
            "inconclusive: no labelled rows (pass target=, or send labels later with "
            "mb.feedback and id=)"
        )
    lead = _LEAD[task]
    row = next((q for q in quality if q["metric"] == lead), None)
    a = row["champion"] if row else None
    b = row["challenger"] if row else None
    p, better_rows, worse_rows = test["p_value"], test["c"], test["b"]
    where = (
        f"McNemar p = {p:.3g} ({better_rows} rows only the challenger got right, {worse_rows} "
        f"only the champion), n = {n_labelled:,} labelled"
    )
    if a is not None and b is not None:
        where = f"{lead} {b:.3f} (challenger) vs {a:.3f} (champion), {where}"
    if p < ALPHA and a is not None and b is not None:
        higher = task != "regression"
        challenger_better = b > a if higher else b < a
        challenger_worse = b < a if higher else b > a
        if better_rows > worse_rows and challenger_better:
            return "better", f"better: {where}"
        if better_rows < worse_rows and challenger_worse:
            return "worse", f"worse: {where}"
    return "inconclusive", f"inconclusive: {where}"


# -- the run --------------------------------------------------------------------------------------


def read_challenger(reg: Registry, challenger: str, stored: Stored) -> Stored:
    """The challenger version (judged against the champion's reference), or a one-line error:
    a dataset, the champion's own version, or a champion that is a dataset."""
    from modelbook.monitoring.inputs import read_stored

    if stored.model_row is None:
        raise ConfigError(
            f"challenger= compares two model versions, and {stored.target} is a dataset: "
            "monitor a model version."
        )
    found = read_stored(reg, challenger, str(stored.reference))
    if found.model_row is None:
        raise ConfigError(
            f"challenger {challenger!r} is dataset {found.target}: name a model version, "
            "e.g. challenger='churn@candidate'."
        )
    if found.target == stored.target:
        raise ConfigError(
            f"challenger {challenger!r} is {found.target}, the champion itself: name another "
            "version, e.g. challenger='churn@candidate'."
        )
    return found


def _scores(model: ModelRun) -> Any:
    """The monitor's score per row: P(classes_[1]), the max probability, or the value."""
    import numpy as np

    p = model.predictions
    assert p is not None
    if model.task == "regression":
        return np.asarray(p.labels, dtype=np.float64)
    if p.scores is not None:
        return p.scores
    if p.proba is not None:
        return np.asarray(p.proba, dtype=np.float64).max(axis=1)
    return None


def _kind_problem(a: ModelRun, b: ModelRun, champion: str, challenger: str) -> str | None:
    import numpy as np

    ra, rb = a.task == "regression", b.task == "regression"
    if ra != rb:
        what = {True: "a regressor", False: "a classifier"}
        return (
            f"challenger {challenger} is {what[rb]} and champion {champion} is {what[ra]}: "
            "compare versions of the same kind."
        )
    if not ra:
        ca, cb = a.classes, b.classes
        if (
            ca is not None
            and cb is not None
            and (len(ca) != len(cb) or not np.array_equal(np.asarray(ca), np.asarray(cb)))
        ):
            return (
                f"challenger {challenger} predicts classes {np.asarray(cb).tolist()[:10]} and "
                f"champion {champion} {np.asarray(ca).tolist()[:10]}: compare versions with the "
                "same classes."
            )
    return None


def compare_runs(
    ctx: RunContext,
    data_checks: list[CheckResult],
    challenger: Stored,
    *,
    started: Any,
    mode: str,
    progress: Any = None,
) -> ChallengerComparison:
    """Predict with both versions, run each one's model checks, compare, and store both runs
    and the comparison in one transaction (called by :func:`modelbook.monitoring.run.monitor`
    after the data checks)."""
    import numpy as np

    from modelbook.monitoring import model_output, quality
    from modelbook.monitoring.context import Findings
    from modelbook.monitoring.run import MODEL_CHECKS

    data_findings = dataclasses.replace(ctx.findings)
    ch_ctx = dataclasses.replace(
        ctx,
        target=challenger.target,
        model_row=challenger.model_row,
        signature=json.loads(challenger.model_row["signature"])
        if challenger.model_row and challenger.model_row.get("signature")
        else None,
        findings=Findings(drift=data_findings.drift, multivariate=data_findings.multivariate),
    )
    champ_ctx = dataclasses.replace(ctx, model=model_output.run_model(ctx, proba=True))
    ch_ctx = dataclasses.replace(ch_ctx, model=model_output.run_model(ch_ctx, proba=True))
    if progress is not None:
        progress.step("predicted with both versions")
    a, b = champ_ctx.model, ch_ctx.model
    assert a is not None and b is not None
    problem = _kind_problem(a, b, str(ctx.target), str(challenger.target))
    if problem is not None:
        raise DataError(problem)
    found_a = list(data_checks)
    found_b = list(data_checks)
    for family in MODEL_CHECKS:
        found_a += family(champ_ctx)
        found_b += family(ch_ctx)
    if progress is not None:
        progress.step("checked both models")

    latency = {"champion": dict(champ_ctx.findings.serving)}
    latency["challenger"] = dict(ch_ctx.findings.serving)
    if a.predictions is None or b.predictions is None:
        failed = a if a.predictions is None else b
        comparison = _failed(str(ctx.target), str(challenger.target), a.task, failed, latency)
    else:
        y_true = ctx.y_true() if ctx.has_labels else None
        problem = None
        if y_true is not None and a.task != "regression":
            import pandas as pd

            known = ~np.asarray(pd.isna(y_true), dtype=bool)
            if known.any():
                problem = quality.label_problem(y_true[known], a.predictions.labels, a.classes)
        comparison = compare(
            champion=str(ctx.target),
            challenger=str(challenger.target),
            task=a.task,
            labels_a=a.predictions.labels,
            labels_b=b.predictions.labels,
            scores_a=_scores(a),
            scores_b=_scores(b),
            y_true=y_true,
            classes=a.classes,
            latency=latency,
            label_problem=problem,
        )
    return _store(champ_ctx, ch_ctx, found_a, found_b, comparison, started=started, mode=mode)


def _failed(
    champion: str, challenger: str, task: str, failed: ModelRun, latency: Mapping[str, Any]
) -> Comparison:
    why = failed.failure or "no predictions"
    return Comparison(
        champion=champion,
        challenger=challenger,
        task=task,
        n_rows=0,
        disagreement=None,
        mean_abs_delta=None,
        share_delta_above=None,
        delta=DELTA,
        distribution={},
        latency=dict(latency),
        quality=(),
        n_labelled=0,
        mcnemar=None,
        verdict="inconclusive",
        reason=f"inconclusive: a version could not predict ({why})",
    )


def _store(
    champ_ctx: RunContext,
    ch_ctx: RunContext,
    found_a: list[CheckResult],
    found_b: list[CheckResult],
    comparison: Comparison,
    *,
    started: Any,
    mode: str,
) -> ChallengerComparison:
    """Both reports; with ``mode != 'none'`` both runs, their logs and the comparison stored in
    one transaction, then the champion's alerts delivered."""
    from modelbook.capture.context import run_context
    from modelbook.capture.environment import current_user
    from modelbook.monitoring import predlog
    from modelbook.monitoring.run import _store_batch, build_report, run_rows

    context = run_context()
    store = mode != "none"
    logs = [predlog.log_of_run(c) if store else None for c in (champ_ctx, ch_ctx)]
    batch_dataset = None
    if mode == "data":
        batch_dataset = _store_batch(champ_ctx.registry, champ_ctx.target, champ_ctx.source)
    batch_id = str(uuid.uuid4()) if store else None
    reports = []
    for ctx, found, log in ((champ_ctx, found_a, logs[0]), (ch_ctx, found_b, logs[1])):
        extra: dict[str, Any] = {"prediction_log": log.summary()} if log is not None else {}
        reports.append(
            build_report(
                ctx,
                found,
                started,
                mode,
                run_id=str(uuid.uuid4()) if store else None,
                context=context,
                batch_dataset=batch_dataset,
                **extra,
            )
        )
    champion, challenger = reports
    result = ChallengerComparison(champion, challenger, comparison, batch_id)
    if not store:
        return result
    assert batch_id is not None and champion.run_id and challenger.run_id
    user = current_user()
    runs = []
    log_rows = []
    for role, report, ctx, log in (
        ("champion", champion, champ_ctx, logs[0]),
        ("challenger", challenger, ch_ctx, logs[1]),
    ):
        run, checks = run_rows(report, context.parameters, user)
        run["batch_id"] = batch_id
        run["role"] = role
        runs.append((run, checks))
        if log is not None:
            assert report.run_id is not None
            log_rows.append(
                log.row(report.run_id, ctx.target.name, ctx.target.version, report.finished_at)
            )
    champ_ctx.registry.add_compared_runs(
        runs,
        logs=log_rows,
        comparison={
            "batch_id": batch_id,
            "champion_run": champion.run_id,
            "challenger_run": challenger.run_id,
            "comparison": json.dumps(comparison.to_dict(), default=str),
            "verdict": comparison.verdict,
            "updated_at": comparison.updated_at,
        },
    )
    from modelbook.alerts import deliver

    deliver(champion, registry=champ_ctx.registry.location)  # the serving version's alerts
    from modelbook.monitoring.run import _evaluate_policies

    # Rollback/retraining policies judge the stored runs (they skip role 'challenger').
    _evaluate_policies(champ_ctx.registry, model=champ_ctx.target.name, trigger="monitor")
    return result


# -- late labels ----------------------------------------------------------------------------------


def _labels(reg: Registry, models: Sequence[str]) -> Any:
    """The latest label per id for these model names (a later label set wins), as Arrow
    ``(id, label)``; None when no label set was stored."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sets = reg.label_set_blobs(models)
    if not sets:
        return None
    tables = []
    for order, row in enumerate(sets):
        table = pq.read_table(reg.objects.verified_path(str(row["blob"])), columns=["id", "label"])
        tables.append(table.append_column("_order", pa.array([order] * table.num_rows)))
    labels = pa.concat_tables(tables, promote_options="default")
    # The later set wins: sort by order descending and keep each id's first row.
    frame = labels.to_pandas().sort_values("_order", kind="stable")
    frame = frame.drop_duplicates("id", keep="last")
    return pa.Table.from_pandas(frame[["id", "label"]], preserve_index=False)


def update_comparison(reg: Registry, batch_id: str) -> ChallengerComparison:
    """Recompute a stored comparison's per-version quality, McNemar test and verdict from the
    two runs' prediction logs and the labels stored since (``mb.feedback``); the runs are never
    rewritten, the ``comparisons`` row is updated. Raises :class:`NotFoundError` for an unknown
    batch, and :class:`MonitorError` when the runs kept no prediction log (no ``id=``): late
    labels cannot reach them, so there is nothing to update."""
    import numpy as np
    import pyarrow.parquet as pq

    row = reg.comparison_row(batch_id)
    stored = Comparison.from_dict(json.loads(row["comparison"]))
    champion_run, challenger_run = str(row["champion_run"]), str(row["challenger_run"])
    logs = {str(r["run_id"]): r for r in reg.prediction_log_rows([champion_run, challenger_run])}
    if champion_run not in logs or challenger_run not in logs:
        raise MonitorError(
            f"batch {batch_id} was monitored without id=, so its rows were not logged and late "
            "labels cannot reach it: nothing to update (monitor with id= to compare later)."
        )
    tables = [
        pq.read_table(reg.objects.verified_path(str(logs[run]["blob"]))).sort_by("row")
        for run in (champion_run, challenger_run)
    ]
    a, b = tables
    models = sorted({str(logs[champion_run]["model"]), str(logs[challenger_run]["model"])})
    labels = _labels(reg, models)
    y: Any = None
    if labels is not None:
        ids = a.column("id").to_pandas()
        mapping = labels.to_pandas().set_index("id")["label"]
        y = ids.map(mapping).to_numpy(dtype=object)
    classes = np.asarray(stored.classes, dtype=object) if stored.classes is not None else None
    la = a.column("predicted").to_numpy(zero_copy_only=False)
    lb = b.column("predicted").to_numpy(zero_copy_only=False)
    if classes is not None and la.dtype != object:
        classes = classes.astype(la.dtype)
    sa = a.column("score").to_numpy(zero_copy_only=False)
    sb = b.column("score").to_numpy(zero_copy_only=False)
    if y is not None and stored.task != "regression":
        known = np.array([v is not None and v == v for v in y])
        if known.any():
            y = _typed(y, known, la.dtype)
    comparison = compare(
        champion=stored.champion,
        challenger=stored.challenger,
        task=stored.task,
        labels_a=la,
        labels_b=lb,
        scores_a=None if a.column("score").null_count == a.num_rows else sa,
        scores_b=None if b.column("score").null_count == b.num_rows else sb,
        y_true=y,
        classes=classes,
        latency=stored.latency,
        source="feedback",
    )
    reg.update_comparison_row(
        batch_id, json.dumps(comparison.to_dict(), default=str), comparison.verdict
    )
    return ChallengerComparison(
        MonitorReport.from_json(reg.monitor_report_json(champion_run)),
        MonitorReport.from_json(reg.monitor_report_json(challenger_run)),
        comparison,
        batch_id,
    )


def _typed(y: Any, known: Any, dtype: Any) -> Any:
    """Labels as the predictions' type where known, NaN elsewhere (a float array for numbers)."""
    import numpy as np

    if dtype.kind in "iub":
        out = np.full(len(y), np.nan)
        out[known] = np.asarray(y[known], dtype=np.float64)
        return out
    return y


def comparison_of(reg: Registry, batch_id: str) -> ChallengerComparison:
    """A stored comparison with both runs' reports (for history and the lab sidebar)."""
    row = reg.comparison_row(batch_id)
    return ChallengerComparison(
        MonitorReport.from_json(reg.monitor_report_json(str(row["champion_run"]))),
        MonitorReport.from_json(reg.monitor_report_json(str(row["challenger_run"]))),
        Comparison.from_dict(json.loads(row["comparison"])),
        batch_id,
    )
