"""Late labels: ``feedback(model, labels=..., id=..., target=...)`` joins labels that arrive after
the predictions to every stored prediction of that model name, and appends realized quality.

Why this shape (see ``../shared/notes/peers-feedback.md``):

* A label belongs to the entity, not to one version: it is joined by id to every prediction log
  of the model name, across versions and runs (as Arize joins delayed actuals).
* Never an inner join that drops unlabelled predictions (NannyML's pitfall): each run reports its
  predictions, how many are labelled and the coverage; metrics use the labelled rows only.
* The original run is never rewritten: realized quality is a new ``feedback_results`` row.
* Idempotent: a label set is keyed by (model, fingerprint of its content), and a run gets a new
  result only when the fingerprint of the label sets that label it (``labels_state``) changed.
  Sending the same file twice changes nothing.
* Conflicts: the same id with two values *within one file* is a :class:`DataError` (a file that
  contradicts itself says nothing; nothing is stored). *Across files* the later file wins and
  every changed id is listed (the newest label is the truth, as a correction would be).
* Labels for ids never predicted are counted as unmatched, a few listed, and kept nowhere: the
  stored label set holds the matched labels only.
* A verdict needs ``min_labels`` labelled rows (default 100, ``[tool.modelbook.feedback]``):
  below that every compared quality check is ``insufficient`` with its count, never ``ok``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelbook.errors import ConfigError, DataError, ModelbookError
from modelbook.monitoring.report import CheckResult
from modelbook.results import Renderable

if TYPE_CHECKING:
    import pyarrow as pa

    from modelbook.monitoring.rules import MonitorRules
    from modelbook.registry import Registry

__all__ = ["DEFAULT_MIN_LABELS", "FeedbackReport", "FeedbackRun", "current_labels", "feedback"]

PathLike = str | os.PathLike[str]

DEFAULT_MIN_LABELS = 100
SHOWN_IDS = 5  # unmatched ids listed in a report
SHOWN_CONFLICTS = 20  # conflicting labels listed in a report


@dataclass(frozen=True)
class FeedbackRun:
    """One monitor run with a prediction log, after the labels were joined to it."""

    run_id: str
    version: int
    started_at: datetime | None
    predictions: int
    labelled: int  # predictions with a label (every label set so far, the later wins)
    matched: int  # predictions labelled by this label file
    status: str  # 'ok' | 'alert' | 'insufficient' | 'error' | 'unchanged' | 'unlabelled'
    stored: bool  # a new feedback result was appended for this run
    metrics: Mapping[str, float] = field(default_factory=dict)  # realized, on labelled rows
    checks: tuple[CheckResult, ...] = ()
    batch_id: str | None = None

    @property
    def coverage(self) -> float:
        return self.labelled / self.predictions if self.predictions else 0.0


@dataclass(frozen=True, repr=False)
class FeedbackReport(Renderable):
    """What a label file did: matched, unmatched, duplicates, conflicts, and each run's realized
    quality (``runs``); ``applied`` is False when the same labels were applied before."""

    model: str
    target: str
    id_column: str
    fingerprint: str
    applied: bool  # False: this label set was stored before: nothing new from it
    labels: int  # rows of the label file
    missing: int  # rows without a label value (left out)
    duplicates: int  # rows repeating an id with the same value
    distinct: int  # distinct ids with a label
    matched: int  # of those, ids some stored prediction has
    unmatched: int  # ids never predicted: counted, kept nowhere
    unmatched_ids: tuple[Any, ...]  # the first few
    conflicts: int  # ids whose earlier label this file changed (the later file wins)
    conflicting: tuple[Mapping[str, Any], ...]  # the first few: id, previous, label
    min_labels: int
    runs: tuple[FeedbackRun, ...]
    created_at: datetime
    notes: tuple[str, ...] = ()
    kind = "feedback_report"

    @property
    def status(self) -> str:
        """'alert' if a run's realized quality alerted, else 'error', 'insufficient' or 'ok'."""
        states = {r.status for r in self.runs if r.stored}
        for status in ("alert", "error", "insufficient"):
            if status in states:
                return status
        return "ok"

    @property
    def stored_runs(self) -> int:
        return sum(1 for r in self.runs if r.stored)

    def summary(self) -> str:
        head = (
            f"{self.labels:,} labels for {self.model}: {self.matched:,} matched, "
            f"{self.unmatched:,} unmatched"
        )
        if self.duplicates:
            head += f", {self.duplicates:,} duplicate" + ("" if self.duplicates == 1 else "s")
        if self.conflicts:
            head += f", {self.conflicts:,} conflicting (the later file wins)"
        if not self.applied:
            return f"{head}; already applied: nothing changed"
        runs = f"{self.stored_runs} run" + ("" if self.stored_runs == 1 else "s")
        return f"{head}; realized quality of {runs} stored ({self.status})"

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["status"] = self.status
        for run, raw in zip(self.runs, data["runs"], strict=True):
            raw["coverage"] = run.coverage
        return data

    def __repr__(self) -> str:
        return f"<FeedbackReport {self.model}: {self.summary()}>"


# -- inputs -----------------------------------------------------------------------------------


def _model_name(model: str) -> str:
    from modelbook.registry import parse_ref

    ref = parse_ref(model)
    if ref.version is not None or ref.alias is not None:
        raise ConfigError(
            f"feedback takes a model name, not {model!r}: labels belong to every version of "
            f"{ref.name}; pass {ref.name!r}."
        )
    return ref.name


def _min_labels(value: int | None, reg: Registry) -> int:
    where = "min_labels"
    if value is None:
        from modelbook.config import load_config

        table = load_config(reg.home).get("feedback", {})
        unknown = [k for k in table if k != "min_labels"]
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]!r} in [tool.modelbook.feedback]; allowed: min_labels."
            )
        value = table.get("min_labels", DEFAULT_MIN_LABELS)
        where = "[tool.modelbook.feedback] min_labels"
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a positive whole number of labels, not {value!r}.")
    return value


def _read_labels(labels: object, id: str, target: str) -> pa.Table:
    """The (id, label) columns of the labels, as Arrow; one-line errors for bad input."""
    import pyarrow as pa

    from modelbook.capture.datasets import to_arrow

    if not isinstance(id, str) or not id:
        raise ConfigError("id= must name the column that identifies each prediction.")
    if not isinstance(target, str) or not target:
        raise ConfigError("target= must name the column of the labels.")
    source = to_arrow(labels, what="labels")
    if source.table is not None:
        names = list(source.table.column_names)
    else:
        import duckdb

        assert source.path is not None
        reader = "read_parquet" if source.kind == "parquet" else "read_csv"
        con = duckdb.connect()
        try:
            names = [d[0] for d in con.execute(f"DESCRIBE SELECT * FROM {reader}(?)",
                                               [str(source.path)]).fetchall()]  # fmt: skip
        finally:
            con.close()
    for column, what in ((id, "id"), (target, "target")):
        if column not in names:
            shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
            raise DataError(
                f"the labels have no {what} column {column!r} (their columns: {shown}); "
                f"pass {what}= one of them."
            )
    if id == target:
        raise ConfigError("id= and target= name the same column; pass the label column as target=.")
    if source.table is not None:
        table = source.table.select([id, target])
    else:
        import duckdb

        assert source.path is not None
        reader = "read_parquet" if source.kind == "parquet" else "read_csv"
        con = duckdb.connect()
        try:
            table = con.sql(
                f'SELECT "{id.replace(chr(34), chr(34) * 2)}", '
                f'"{target.replace(chr(34), chr(34) * 2)}" FROM {reader}(?)',
                params=[str(source.path)],
            ).to_arrow_table()
        finally:
            con.close()
    table = table.rename_columns(["id", "label"]).combine_chunks()
    id_type = table.schema.field("id").type
    if not (pa.types.is_integer(id_type) or pa.types.is_string(id_type)
            or pa.types.is_large_string(id_type)):  # fmt: skip
        raise DataError(
            f"the labels' id column {id!r} holds {id_type} values: ids must be integers or "
            "strings (floats lose digits and NaN matches nothing)."
        )
    nulls = table.column("id").null_count
    if nulls:
        raise DataError(
            f"{nulls:,} labels have no {id!r}: every label needs the id of its prediction."
        )
    if table.num_rows == 0:
        raise DataError("the labels are empty: there is nothing to join.")
    return table


def _fingerprint(table: pa.Table, target: str) -> str:
    """The content of the labels (ids, values, their types), whatever file or frame held it."""
    import pyarrow as pa

    digest = hashlib.sha256(f"labels:{target}\n".encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    digest.update(sink.getvalue())
    return digest.hexdigest()


def _log_sql(reg: Registry, model: str) -> tuple[str, list[Any]]:
    """A DuckDB SELECT (id, predicted, score, run_id, model_version) over every log of ``model``
    (``run_id``: the log's position in the returned files), their hashes verified first (a
    modified log would realize wrong quality)."""
    from modelbook.prediction_log import prediction_logs, verify_logs

    files = prediction_logs(reg, model)
    if not files:
        raise DataError(
            f"no prediction of {model} was logged with ids: monitor it with id='<column>' "
            "(--id) so that late labels can be joined; nothing was stored."
        )
    verify_logs(reg, files)
    # One SELECT per log with its run as a constant (the position in ``files``), rather than
    # the view's join on each row's file name: no per-row string, a hash join of integers.
    sql = " UNION ALL ".join(
        f"SELECT id, predicted, score, {k} AS run_id, {int(f.model_version)} AS model_version "
        f"FROM read_parquet({_quote(f.path)})"
        for k, f in enumerate(files)
    )
    return sql, list(files)


# -- model facts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """What the realized quality of one model version needs."""

    model: Any  # an object with classes_ (or None), for registered_targets
    task: str  # 'binary' | 'multiclass' | 'regression'
    classes: Any  # numpy array or None
    registered: dict[str, float]
    measured: dict[str, float]
    evaluation: str | None


class _Classes:
    def __init__(self, classes: Any) -> None:
        self.classes_ = classes


def _facts(reg: Registry, row: Mapping[str, Any], con: Any, view: str, version: int) -> _Facts:
    """Task and classes from the model itself (trusted artifacts), else from its logged
    predictions (a pickled model is not unpickled without trust=True)."""
    import numpy as np

    classes: Any = None
    task: str | None = None
    if row.get("trusted"):
        from modelbook.capture.models import deserialize
        from modelbook.monitoring.predictions import task_of

        what = f"model {row['name']}@{version}"
        try:
            model = deserialize(
                str(row["flavor"]), reg.objects.read_verified(str(row["blob"])), trust=False,
                what=what,
            )  # fmt: skip
        except ModelbookError:
            model = None
        if model is not None:
            task = task_of(model)
            found = getattr(model, "classes_", None) if task != "regression" else None
            classes = None if found is None else np.asarray(found)
    if task is None:
        kind = con.execute(f"SELECT typeof(predicted) FROM ({view}) LIMIT 1").fetchall()
        if kind and kind[0][0] in ("DOUBLE", "FLOAT"):
            task = "regression"
        else:
            values = con.execute(
                f"SELECT DISTINCT predicted FROM ({view}) WHERE model_version = ? "
                "AND predicted IS NOT NULL ORDER BY 1 LIMIT 1000",
                [version],
            ).fetchall()
            classes = np.asarray([v[0] for v in values])
            task = "binary" if len(classes) <= 2 else "multiclass"
    registered = {str(k): float(v) for k, v in json.loads(row.get("metrics") or "{}").items()}
    measured = {
        str(k): float(v) for k, v in json.loads(row.get("measured_metrics") or "{}").items()
    }
    evaluation = f"{row['eval_dataset']}@{row['eval_version']}" if row.get("eval_dataset") else None
    return _Facts(_Classes(classes), task, classes, registered, measured, evaluation)


def _check_label_type(labels: Any, facts: _Facts, ref: str) -> None:
    """Labels another type than the model's classes (or non-numbers for a regressor): refuse."""
    from modelbook.monitoring.quality import label_problem
    from modelbook.stats.metrics import value_kind

    if facts.task == "regression":
        kind = value_kind(labels)
        if kind not in ("integer", "number", "boolean"):
            raise DataError(
                f"{ref} is a regressor and the labels are {kind} values: pass numeric labels; "
                "nothing was stored."
            )
        return
    problem = label_problem(labels, facts.classes, facts.classes)
    if problem is not None:
        raise DataError(f"{ref}: {problem}; nothing was stored.")


# -- realized quality ---------------------------------------------------------------------------


def _realized(
    facts: _Facts,
    y: Any,
    predicted: Any,
    scores: Any,
    settings: MonitorRules,
    min_labels: int,
) -> tuple[dict[str, float], list[CheckResult], str]:
    """Realized quality on the labelled rows: the checks of ``quality.*`` (same functions)."""
    import numpy as np

    from modelbook.monitoring.checks import describe
    from modelbook.monitoring.context import ModelRun
    from modelbook.monitoring.quality import quality_checks, registered_targets
    from modelbook.stats.metrics import quality_metrics

    run = ModelRun(model=facts.model, task=facts.task, inputs=(), predictions=None)
    usable = None
    if facts.task == "binary" and scores is not None:
        values = np.asarray(scores, dtype=np.float64)
        usable = values if np.isfinite(values).all() else None
    targets, notes = registered_targets(
        facts.registered, run, y, predicted, scores=usable is not None
    )
    targets.update(facts.measured)
    try:
        metrics = quality_metrics(
            y,
            predicted,
            y_score=usable,
            task="regression" if facts.task == "regression" else "classification",
            classes=facts.classes,
            extra=list(targets),
        )
    except (DataError, ValueError, TypeError) as exc:
        return {}, [CheckResult("quality", "error", f"metrics failed: {describe(exc)}")], "error"
    checks = quality_checks(
        metrics, targets, settings, measured=set(facts.measured), evaluation=facts.evaluation
    )
    n = len(y)
    if n < min_labels:
        checks = [
            CheckResult(
                c.check,
                "insufficient",
                f"{c.message}: {n:,} labelled rows, fewer than min_labels = {min_labels}: "
                "no verdict",
                test=c.test,
                statistic=c.statistic,
                threshold=c.threshold,
            )
            if c.status in ("ok", "alert")
            else c
            for c in checks
        ]
        checks.insert(
            0,
            CheckResult(
                "quality",
                "insufficient",
                f"{n:,} labelled rows, fewer than min_labels = {min_labels}: no verdict",
                statistic=float(n),
                threshold=float(min_labels),
            ),
        )
        status = "insufficient"
    else:
        status = "alert" if any(c.status == "alert" for c in checks) else "ok"
    return metrics, checks + notes, status


# -- the operation ------------------------------------------------------------------------------


def _quote(path: Any) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _settings(reg: Registry) -> MonitorRules:
    from modelbook.config import load_config
    from modelbook.monitoring.rules import MonitorRules

    return MonitorRules.from_mapping(load_config(reg.home).get("monitor", {}))


def _parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", compression_level=1)
    return bytes(sink.getvalue().to_pybytes())


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def feedback(
    model: str,
    *,
    labels: object,
    id: str,
    target: str,
    min_labels: int | None = None,
    registry: PathLike | None = None,
) -> FeedbackReport:
    """Join late labels to every stored prediction of ``model`` and append realized quality.

    ``labels``: a table (pandas, polars, Arrow) or a Parquet/CSV path with the ``id`` and
    ``target`` columns. See the module docstring for duplicates, conflicts and idempotence.
    """
    import duckdb
    import numpy as np

    from modelbook.registry import Ref, open_registry
    from modelbook.registry.store import now

    name = _model_name(model)
    reg = open_registry(registry)
    reg.require()
    reg.resolve(Ref(name), kind="model")  # NotFoundError naming what exists
    limit = _min_labels(min_labels, reg)
    table = _read_labels(labels, id, target)
    n_labels = table.num_rows
    missing = table.column("label").null_count
    if missing:
        table = table.filter(table.column("label").is_valid())
    if table.num_rows == 0:
        raise DataError(f"every value of {target!r} in the labels is missing: nothing to join.")
    fingerprint = _fingerprint(table, target)
    view, files = _log_sql(reg, name)
    inputs = reg.feedback_inputs(name)
    stored_sets: list[dict[str, Any]] = inputs["label_sets"]
    applied = all(s["fingerprint"] != fingerprint for s in stored_sets)
    settings = _settings(reg)

    con = duckdb.connect()
    try:
        con.register("incoming", table)
        _check_ids(con, view, id)
        ids = int(con.execute("SELECT count(DISTINCT id) FROM incoming").fetchall()[0][0])
        if ids == table.num_rows:  # no id twice (the usual file): no copy, no duplicates
            con.execute("CREATE VIEW new AS SELECT id, label FROM incoming")
            distinct = ids
        else:
            con.execute("CREATE TEMP TABLE new AS SELECT DISTINCT id, label FROM incoming")
            distinct = int(con.execute("SELECT count(*) FROM new").fetchall()[0][0])
        conflicted = []
        if ids != distinct:  # some id has two values: name them (the rare, slower query)
            conflicted = con.execute(
                "SELECT id, list(label ORDER BY label) FROM new GROUP BY id "
                "HAVING count(*) > 1 ORDER BY id"
            ).fetchall()
        if conflicted:
            shown = "; ".join(f"{_plain(i)!r}: {', '.join(map(repr, v[:3]))}"
                              for i, v in conflicted[:3])  # fmt: skip
            raise DataError(
                f"the labels give {len(conflicted):,} ids more than one value ({shown}): a file "
                "must say one thing per id; fix it (later corrections go in a later file). "
                "Nothing was stored."
            )
        duplicates = table.num_rows - distinct
        # Label types against each version's classes, before anything is written.
        versions: dict[int, dict[str, Any]] = inputs["versions"]
        logged = sorted({f.model_version for f in files})
        distinct_labels = con.sql("SELECT DISTINCT label FROM new ORDER BY 1 LIMIT 1000")
        sample = np.asarray(distinct_labels.to_arrow_table().column(0).to_numpy(False))
        facts = {v: _facts(reg, versions[v], con, view, v) for v in logged if v in versions}
        for v, f in facts.items():
            _check_label_type(sample, f, f"{name}@{v}")

        # Every label set so far, the later wins; this file last unless stored before.
        stored = [
            f"SELECT id, label, {i} AS s FROM read_parquet({_quote(_blob_path(reg, s))})"
            for i, s in enumerate(stored_sets)
        ]
        fingerprints = [str(s["fingerprint"]) for s in stored_sets]
        sources = [*stored, f"SELECT id, label, {len(stored)} AS s FROM new"] if applied else stored
        if applied:
            fingerprints.append(fingerprint)
        if stored:
            con.execute(
                "CREATE TEMP TABLE effective AS SELECT id, arg_max(label, s) AS label, "
                f"max(s) AS s FROM ({' UNION ALL '.join(sources)}) GROUP BY id"
            )
        else:  # the first label set: ids are unique already
            con.execute("CREATE VIEW effective AS SELECT id, label, 0 AS s FROM new")
        # One pass over the logs finds the labelled predictions; the unlabelled ones are not
        # dropped: every run's predictions are counted from its log (n_rows).
        con.execute(
            "CREATE TEMP TABLE labelled AS SELECT p.run_id, p.id, p.predicted, p.score, "
            f"e.label, e.s FROM ({view}) p JOIN effective e ON p.id = e.id"
        )
        newest = len(stored)  # this file's set, when it is new: its labels win every id
        con.execute(
            f"CREATE TEMP TABLE hit AS SELECT DISTINCT id, label FROM labelled WHERE s = {newest}"
            if applied
            else "CREATE TEMP TABLE hit AS SELECT DISTINCT n.id, n.label FROM labelled l "
            "JOIN new n ON l.id = n.id"
        )
        matched = int(con.execute("SELECT count(*) FROM hit").fetchall()[0][0])
        unmatched_ids = tuple(
            _plain(r[0])
            for r in con.execute(
                f"SELECT id FROM new ANTI JOIN hit USING (id) ORDER BY id LIMIT {SHOWN_IDS}"
            ).fetchall()
        )
        conflicts: list[tuple[Any, Any, Any]] = []
        n_conflicts = 0
        if applied and stored:
            previous = (
                f"(SELECT id, arg_max(label, s) AS label FROM ({' UNION ALL '.join(stored)}) "
                "GROUP BY id)"
            )
            differ = f"FROM hit h JOIN {previous} p ON h.id = p.id WHERE h.label <> p.label"
            n_conflicts = int(con.execute(f"SELECT count(*) {differ}").fetchall()[0][0])
            conflicts = con.execute(
                f"SELECT h.id, p.label, h.label {differ} ORDER BY h.id LIMIT {SHOWN_CONFLICTS}"
            ).fetchall()
        counts = {
            files[int(run)].run_id: (int(n), int(m), sorted(int(x) for x in sets))
            for run, n, m, sets in con.execute(
                f"""SELECT run_id, count(*), count(*) FILTER (WHERE s = {newest}),
                           list(DISTINCT s) FROM labelled GROUP BY run_id"""
                if applied
                else """SELECT l.run_id, count(*), count(h.id), list(DISTINCT l.s)
                        FROM labelled l LEFT JOIN hit h ON l.id = h.id GROUP BY l.run_id"""
            ).fetchall()
        }
        states = {
            run: _state([fingerprints[i] for i in sets]) for run, (_n, _m, sets) in counts.items()
        }
        changed = [run for run, state in states.items() if inputs["latest"].get(run) != state]
        rows = _labelled_rows(con, changed, files)
        hit_table = con.sql("SELECT id, label FROM hit").to_arrow_table() if applied else None
        per_run = [
            (f.run_id, f.model_version, f.n_rows, *counts.get(f.run_id, (0, 0, []))) for f in files
        ]
    finally:
        con.close()

    created = now()
    realized = _realize_all(rows, per_run, changed, facts, settings, limit)
    runs_meta: dict[str, tuple[int, Any, Any]] = inputs["runs"]
    results: list[dict[str, Any]] = []
    out: list[FeedbackRun] = []
    for run, version, n_pred, labelled, n_matched, _sets in per_run:
        run_id = str(run)
        meta = runs_meta.get(run_id, (int(version), None, None))
        base = {
            "run_id": run_id,
            "version": int(version),
            "started_at": meta[1],
            "predictions": int(n_pred),
            "labelled": int(labelled),
            "matched": int(n_matched),
            "batch_id": meta[2],
        }
        if run_id not in changed:
            status = "unchanged" if labelled else "unlabelled"
            out.append(FeedbackRun(**base, status=status, stored=False))
            continue
        if run_id not in realized:  # a log of a version no longer registered
            continue
        metrics, checks, status = realized[run_id]
        item = FeedbackRun(
            **base, status=status, stored=True, metrics=metrics, checks=tuple(checks)
        )
        out.append(item)
        report = item_json(item, fingerprint=fingerprint)
        results.append(
            {
                "id": str(uuid.uuid4()),
                "run_id": run_id,
                "labels_state": states[run_id],
                "predictions": int(n_pred),
                "labelled": int(labelled),
                "metrics": json.dumps({k: _finite(v) for k, v in metrics.items()}),
                "report": json.dumps(report, default=str),
                "status": status,
                "created_at": created,
            }
        )
    label_set = None
    if hit_table is not None:
        blob = reg.objects.put_bytes(_parquet_bytes(hit_table))
        label_set = {
            "model": name,
            "fingerprint": fingerprint,
            "blob": blob,
            "n_rows": matched,
            "target": target,
            "received_at": created,
        }
    if (label_set is not None or results) and not reg.add_feedback(label_set, results):
        applied = False  # another process stored the same labels meanwhile
        out = [_unstored(r) for r in out]
    order = {"alert": 0, "error": 1, "insufficient": 2, "ok": 3}
    out.sort(key=lambda r: (not r.stored, order.get(r.status, 4), str(r.started_at), r.run_id))
    notes = (
        _follow_up(reg, name, [r for r in out if r.stored]) if any(r.stored for r in out) else ()
    )
    return FeedbackReport(
        model=name,
        target=target,
        id_column=id,
        fingerprint=fingerprint,
        applied=applied,
        labels=n_labels,
        missing=missing,
        duplicates=duplicates,
        distinct=distinct,
        matched=matched,
        unmatched=distinct - matched,
        unmatched_ids=unmatched_ids,
        conflicts=n_conflicts,
        conflicting=tuple(
            {"id": _plain(i), "previous": _plain(p), "label": _plain(n)} for i, p, n in conflicts
        ),
        min_labels=limit,
        runs=tuple(out),
        created_at=created,
        notes=tuple(notes),
    )


def _realize_all(
    rows: Mapping[str, tuple[Any, Any, Any]],
    per_run: Sequence[tuple[Any, ...]],
    changed: Sequence[str],
    facts: Mapping[int, _Facts],
    settings: MonitorRules,
    min_labels: int,
) -> dict[str, tuple[dict[str, float], list[CheckResult], str]]:
    """Realized quality of each changed run, runs in parallel threads (scikit-learn's sorting
    and counting release the GIL; the runs are independent)."""
    from concurrent.futures import ThreadPoolExecutor

    version_of = {str(run): int(version) for run, version, *_rest in per_run}
    jobs = {
        run: (facts[version_of[run]], *rows[run])
        for run in changed
        if run in rows and version_of.get(run) in facts
    }
    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        futures = {
            run: pool.submit(_realized, f, y, predicted, scores, settings, min_labels)
            for run, (f, y, predicted, scores) in jobs.items()
        }
        return {run: future.result() for run, future in futures.items()}


def _check_ids(con: Any, view: str, id: str) -> None:
    """Label ids and logged ids must be of one kind (integers or strings) to be joined."""
    logged = con.execute(f"SELECT typeof(id) FROM ({view}) LIMIT 1").fetchall()
    given = con.execute("SELECT typeof(id) FROM incoming LIMIT 1").fetchall()
    if not logged or not given:
        return

    def kind(duck: str) -> str:
        return "strings" if duck == "VARCHAR" else "integers"

    if kind(str(logged[0][0])) != kind(str(given[0][0])):
        raise DataError(
            f"the labels' ids ({id}) are {kind(str(given[0][0]))} but the logged ids are "
            f"{kind(str(logged[0][0]))}: pass ids of the type the predictions were logged with."
        )


def _state(fingerprints: Sequence[str]) -> str:
    """The fingerprint of the label sets that label a run (its feedback's idempotence key)."""
    return hashlib.sha256("\n".join(fingerprints).encode()).hexdigest()


def _labelled_rows(
    con: Any, runs: Sequence[str], files: Sequence[Any]
) -> dict[str, tuple[Any, Any, Any]]:
    """Run id → (labels, predictions, scores) of its labelled rows (numpy), in one query."""
    import numpy as np

    position = {f.run_id: k for k, f in enumerate(files)}
    wanted = ", ".join(str(position[r]) for r in runs)
    if not wanted:
        return {}
    table = con.sql(
        "SELECT run_id, label, predicted, score FROM labelled "
        f"WHERE run_id IN ({wanted}) ORDER BY run_id"
    ).to_arrow_table()
    run_ids = np.asarray(table.column(0).to_numpy())
    labels = np.asarray(table.column(1).to_numpy(zero_copy_only=False))
    predicted = np.asarray(table.column(2).to_numpy(zero_copy_only=False))
    score_column = table.column(3)
    scores = (
        None
        if score_column.null_count == len(score_column)
        else np.asarray(score_column.to_numpy(zero_copy_only=False), dtype=np.float64)
    )
    out: dict[str, tuple[Any, Any, Any]] = {}
    if len(run_ids) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, run_ids[1:] != run_ids[:-1]])
    ends = np.r_[starts[1:], len(run_ids)]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        out[files[int(run_ids[a])].run_id] = (
            labels[a:b],
            predicted[a:b],
            None if scores is None else scores[a:b],
        )
    return out


def _blob_path(reg: Registry, row: Mapping[str, Any]) -> Any:
    return reg.objects.verified_path(str(row["blob"]))


def _finite(value: float) -> float | None:
    import math

    return value if math.isfinite(value) else None


def item_json(item: FeedbackRun, *, fingerprint: str) -> dict[str, Any]:
    """The stored report of one feedback result (``source = 'feedback'``)."""
    from modelbook.results import to_jsonable

    data: dict[str, Any] = to_jsonable(item)
    data["coverage"] = item.coverage
    data["source"] = "feedback"
    data["label_set"] = fingerprint
    return data


def _unstored(run: FeedbackRun) -> FeedbackRun:
    import dataclasses

    if not run.stored:
        return run
    return dataclasses.replace(run, stored=False, status="unchanged")


def _follow_up(reg: Registry, model: str, runs: Sequence[FeedbackRun]) -> list[str]:
    """Champion/challenger comparisons of the labelled batches, then the alias policies.

    Both live in other modules (monitoring/challenger.py, policies.py) and are called only
    when present; a failure there is reported, never undoes the stored feedback.
    """
    notes: list[str] = []
    batches = sorted({r.batch_id for r in runs if r.batch_id})
    if batches:
        update = _optional("modelbook.monitoring.challenger", "update_comparison")
        for batch in batches:
            if update is None:
                break
            try:
                update(reg, batch)
            except ModelbookError as exc:
                notes.append(f"comparison of batch {batch} not updated: {exc}")
    evaluate = _optional("modelbook.policies", "evaluate")
    if evaluate is not None:
        try:
            actions = evaluate(reg, model=model, trigger="feedback")
        except ModelbookError as exc:
            notes.append(f"policies of {model} not evaluated: {exc}")
        else:
            notes.extend(f"policy: {a}" for a in actions or ())
    return notes


def current_labels(reg: Registry, model: str) -> pa.Table:
    """The newest label of every id of ``model`` (columns ``id``, ``label``; the later label
    set wins), read from the stored label sets: what realized quality and comparisons use."""
    import duckdb
    import pyarrow as pa

    sets = reg.feedback_inputs(model)["label_sets"]
    if not sets:
        return pa.table({"id": pa.array([], pa.int64()), "label": pa.array([], pa.int64())})
    sources = " UNION ALL ".join(
        f"SELECT id, label, {i} AS s FROM read_parquet({_quote(_blob_path(reg, row))})"
        for i, row in enumerate(sets)
    )
    con = duckdb.connect()
    try:
        table: pa.Table = con.sql(
            f"SELECT id, arg_max(label, s) AS label FROM ({sources}) GROUP BY id ORDER BY id"
        ).to_arrow_table()
    finally:
        con.close()
    return table


def _optional(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
