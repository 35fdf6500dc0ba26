"""Prediction logs of a model, for labels that arrive later.

A monitor run with ``id=`` keeps one Parquet (zstd) blob per run: each row's id, prediction,
score (and time); see :mod:`modelbook.monitoring.predlog` for the columns. This module reads them
back: :func:`prediction_logs` lists every stored log of a model name (all versions, oldest
first) and :func:`log_view_sql` is one DuckDB ``SELECT`` over all of them, so a join with labels
or an ad-hoc query streams the Parquet files instead of loading them.

Late labels (``mb.feedback``) live in :mod:`modelbook.late_labels` and read the logs from here.
"""

from __future__ import annotations

# -- prediction log -------------------------------------------------------------------------------
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelbook.registry import Registry

__all__ = ["LogFile", "log_view_sql", "prediction_logs", "verify_logs"]


@dataclass(frozen=True)
class LogFile:
    """One run's stored prediction log."""

    run_id: str
    model: str
    model_version: int
    path: Path  # the blob in objects/ (its name is the SHA-256 of its bytes)
    n_rows: int
    id_column: str
    time_column: str | None
    created_at: datetime
    blob: str = ""


def prediction_logs(reg: Registry, model: str) -> list[LogFile]:
    """Every stored log of model ``model`` (all versions), oldest first.

    Hashes are not checked here (that reads every file): call :func:`verify_logs` before
    trusting the bytes, or ``modelbook check``.
    """
    return [
        LogFile(
            run_id=str(r["run_id"]),
            model=str(r["model"]),
            model_version=int(r["model_version"]),
            path=reg.objects.local_path(str(r["blob"])),
            n_rows=int(r["n_rows"]),
            id_column=str(r["id_column"]),
            time_column=None if r["time_column"] is None else str(r["time_column"]),
            created_at=r["created_at"],
            blob=str(r["blob"]),
        )
        for r in reg.prediction_logs(model)
    ]


def verify_logs(reg: Registry, files: Sequence[LogFile]) -> None:
    """Raise :class:`~modelbook.errors.IntegrityError` if a log file is missing or modified."""
    for log in files:
        reg.objects.verified_path(log.blob or log.path.parent.name + log.path.name)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def log_view_sql(files: Sequence[LogFile]) -> str:
    """One DuckDB ``SELECT`` over the logs: their columns plus ``run_id`` and ``model_version``.

    Logs with and without a ``time`` column are unioned by name (``time`` is null where a run
    had none). With no files, an empty relation of the same columns.
    """
    if not files:
        return (
            "SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS predicted, NULL::DOUBLE AS score, "
            "NULL::VARCHAR AS score_class, NULL::TIMESTAMPTZ AS time, NULL::BIGINT AS row, "
            "NULL::VARCHAR AS run_id, NULL::INTEGER AS model_version WHERE false"
        )
    paths = ", ".join(_literal(str(f.path)) for f in files)
    runs = ", ".join(
        f"({_literal(str(f.path))}, {_literal(f.run_id)}, {int(f.model_version)})" for f in files
    )
    return (
        "SELECT l.* EXCLUDE (filename), r.run_id, r.model_version "
        f"FROM read_parquet([{paths}], filename = true, union_by_name = true) AS l "
        f"JOIN (VALUES {runs}) AS r(path, run_id, model_version) ON l.filename = r.path"
    )
