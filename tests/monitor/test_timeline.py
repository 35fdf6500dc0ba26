"""Monitoring over time: chunks by calendar period or rows, one pass, one stored run per chunk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from IPython.core.error import UsageError
from monitor_data import labels_for, make_frame

import modelbook
from modelbook.errors import DataError
from modelbook.monitoring import MonitorReport
from modelbook.monitoring.timeline import MonitorTimeline


def _timed(n: int, seed: int, start: str, days: float) -> pd.DataFrame:
    """A batch with irregular real timestamps over ``days`` days from ``start``."""
    rng = np.random.default_rng(seed)
    frame = make_frame(n, seed=seed)
    offsets = np.sort(rng.uniform(0, days * 86400, n))
    frame["ts"] = pd.Timestamp(start) + pd.to_timedelta(offsets, unit="s")
    return frame


def _expected(frame: pd.DataFrame, chunk: str | int) -> list[tuple[Any, int]]:
    """(period start, rows) per non-empty chunk, by pandas."""
    ts = frame["ts"].dropna().sort_values()
    if isinstance(chunk, int):
        sizes = np.bincount(np.arange(len(ts)) // chunk)
        return [(None, int(s)) for s in sizes]
    key = {
        "month": ts.dt.to_period("M").dt.start_time,
        "week": ts.dt.to_period("W-SUN").dt.start_time,  # weeks Monday to Sunday
        "1d": ts.dt.floor("D"),
        "6h": ts.dt.floor("6h"),
        "quarter": ts.dt.to_period("Q").dt.start_time,
    }[chunk]
    counts = ts.groupby(key).size()
    return [(k.to_pydatetime(), int(v)) for k, v in counts.items() if v]


@pytest.mark.parametrize("chunk", ["month", "week", "1d", "6h", "quarter", 1_500])
@pytest.mark.parametrize("kind", ["frame", "parquet"])
def test_chunks_match_a_pandas_groupby(
    trained: Any, tmp_path: Path, chunk: str | int, kind: str
) -> None:
    frame = _timed(4_000, seed=5, start="2026-01-20 07:13", days=95 if chunk != "6h" else 3)
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # not in time order
    data: Any = shuffled
    if kind == "parquet":
        data = tmp_path / "batch.parquet"
        shuffled.to_parquet(data)
    timeline = modelbook.monitor("churn", data=data, time="ts", chunk=chunk, store="none")
    assert isinstance(timeline, MonitorTimeline)
    got = [(r.period_start, r.n_rows) for r in timeline]
    want = _expected(frame, chunk)
    if isinstance(chunk, int):
        assert [n for _, n in got] == [n for _, n in want]
        # row chunks in time order: each chunk's period is its first and last time
        ordered = frame["ts"].sort_values().dt.floor("us").reset_index(drop=True)
        firsts = [ordered[i * chunk].to_pydatetime() for i in range(len(got))]
        lasts = [
            ordered[min((i + 1) * chunk, len(frame)) - 1].to_pydatetime() for i in range(len(got))
        ]
        assert [r.period_start for r in timeline] == firsts
        assert [r.period_end for r in timeline] == lasts
    else:
        assert got == want
        for r in timeline:  # calendar periods: end is the next period's start
            assert r.period_start is not None and r.period_end is not None
            assert r.period_end > r.period_start
    assert [r.chunk_index for r in timeline] == list(range(len(timeline)))
    assert timeline.n_rows == len(frame)


def test_rows_without_time_chunk_in_batch_order(trained: Any) -> None:
    batch = make_frame(4_000, seed=11)
    timeline = modelbook.monitor("churn", data=batch, chunk=1_500, store="none")
    assert [r.n_rows for r in timeline] == [1_500, 1_500, 1_000]
    assert [r.period_start for r in timeline] == [None, None, None]
    # the tiny last chunk is reported as it is, and says so
    assert timeline.notes == (
        "the last chunk has 1,000 of 1,500 rows; it is reported as it is, not merged into the "
        "one before",
    )
    # each chunk is judged as the same rows monitored alone
    alone = modelbook.monitor("churn", data=batch.iloc[1_500:3_000], store="none")
    assert isinstance(alone, MonitorReport) and alone.drift is not None
    chunk = timeline[1]
    assert chunk.drift is not None
    assert [(c.column, c.statistic, c.drifted) for c in chunk.drift.columns] == [
        (c.column, c.statistic, c.drifted) for c in alone.drift.columns
    ]
    assert chunk.metrics == alone.metrics


def test_predictions_are_made_once_for_a_frame(
    trained: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelbook.monitoring import predictions

    calls: list[int] = []
    original = predictions.predict_batches

    def counting(model: Any, **kwargs: Any) -> Any:
        if kwargs.get("table") is not None:
            calls.append(kwargs["table"].num_rows)
        return original(model, **kwargs)

    monkeypatch.setattr(predictions, "predict_batches", counting)
    batch = _timed(3_000, seed=2, start="2026-01-01", days=120)
    timeline = modelbook.monitor("churn", data=batch, time="ts", chunk="month", store="none")
    assert len(timeline) >= 4
    assert calls == [3_000]  # the whole batch, once; chunks get slices


class _Spy:
    """A DuckDB connection that records every statement it is given."""

    def __init__(self, con: Any, seen: list[str]) -> None:
        self._con, self._seen = con, seen

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self._seen.append(query)
        return self._con.sql(query, *args, **kwargs)

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self._seen.append(query)
        return self._con.execute(query, *args, **kwargs)

    def __enter__(self) -> _Spy:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._con.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_a_file_is_scanned_once_for_all_chunks(
    trained: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelbook.stats import profile

    path = tmp_path / "batch.parquet"
    _timed(6_000, seed=3, start="2026-01-01", days=360).to_parquet(path)
    seen: list[str] = []
    connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: _Spy(connect(*a, **k), seen))
    profiled: list[str] = []
    original = profile.profile_table

    def spying(data: Any, **kwargs: Any) -> Any:
        profiled.append(type(data).__name__)
        return original(data, **kwargs)

    monkeypatch.setattr(profile, "profile_table", spying)
    timeline = modelbook.monitor("churn", data=path, time="ts", chunk="month", store="none")
    assert len(timeline) == 12
    reading = [q for q in seen if str(path) in q and not q.lstrip().upper().startswith("DESCRIBE")]
    # the column names (no rows read) and the one ordered stream, whatever the number of chunks
    assert len(reading) <= 2, reading
    assert sum("ORDER BY" in q for q in reading) == 1
    # every profile is of one chunk's rows in memory, never of the file again
    assert "PosixPath" not in profiled and profiled.count("Table") >= 12


def test_every_chunk_is_stored_with_its_period(trained: Any, registry: Path) -> None:
    batch = _timed(3_000, seed=4, start="2026-03-01", days=28)
    timeline = modelbook.monitor("churn", data=batch, time="ts", chunk="week")
    assert isinstance(timeline, MonitorTimeline)
    con = duckdb.connect(str(registry / "registry.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT id, timeline, chunk_index, period_start, period_end, n_rows, report "
            "FROM monitor_runs ORDER BY chunk_index"
        ).fetchall()
        checks = con.execute("SELECT count(*) FROM check_results").fetchall()[0][0]
    finally:
        con.close()
    assert [r[0] for r in rows] == [r.run_id for r in timeline]
    assert {r[1] for r in rows} == {timeline.timeline}
    assert [(r[2], r[3], r[4], r[5]) for r in rows] == [
        (r.chunk_index, r.period_start, r.period_end, r.n_rows) for r in timeline
    ]
    assert checks == sum(len(r.checks) for r in timeline)
    stored = MonitorReport.from_json(rows[1][6])
    assert (stored.timeline, stored.chunk_index) == (timeline.timeline, 1)
    assert stored.period_start == timeline[1].period_start


def test_drift_alerts_only_in_the_shifted_chunks(trained: Any) -> None:
    weeks = 8
    start = pd.Timestamp("2026-01-05")  # a Monday
    parts = []
    for w in range(weeks):
        part = make_frame(600, seed=100 + w, shift=1.0 if w >= weeks // 2 else 0.0)
        part["ts"] = (
            start
            + pd.Timedelta(weeks=w)
            + pd.to_timedelta(np.linspace(0, 7 * 86400 - 1, 600), unit="s")
        )
        parts.append(part)
    batch = pd.concat(parts, ignore_index=True)
    batch["churned"] = labels_for(batch, seed=9)
    timeline = modelbook.monitor("churn", data=batch, time="ts", chunk="week", store="none")
    assert len(timeline) == weeks
    drifted = [
        {c.column for c in r.checks if c.check == "drift.column" and c.status == "alert"}
        for r in timeline
    ]
    assert drifted == [set()] * 4 + [{"tenure"}] * 4
    assert timeline.alerting_chunks[:1] == (4,)
    assert all(r.ok for r in timeline.reports[:4])
    assert not timeline.ok and timeline.status == "alert"
    assert {a.chunk for a in timeline.alerts} == {4, 5, 6, 7}
    assert "timeline of churn@1: 8 chunks by week: alert in 4 chunks (4, 5, 6, 7)" in (
        timeline.summary()
    )
    with pytest.raises(modelbook.AlertError, match="alert in 4 chunks"):
        timeline.raise_for_alerts()


def _scored(n: int, seed: int, squeeze: float = 1.0) -> tuple[pd.DataFrame, pd.Series]:
    """Binary data whose label follows x0 and x1; ``squeeze`` < 1 draws x0 nearer the decision
    boundary (covariate shift that lowers the achievable ROC AUC: what estimation sees)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, 4)), columns=["x0", "x1", "x2", "x3"])
    x["x0"] *= squeeze
    y = (rng.random(n) < 1 / (1 + np.exp(-(3 * x.x0 + x.x1)))).astype(np.int64)
    return x, pd.Series(y, name="y")


def test_estimated_performance_drops_only_in_the_shifted_chunks(registry: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = _scored(3_000, seed=1)
    x_eval, y_eval = _scored(3_000, seed=2)
    model = LogisticRegression().fit(x, y)
    modelbook.register(model, name="scored", data=x, target=y, eval_data=x_eval, eval_target=y_eval)
    halves = [_scored(2_000, seed=3), _scored(2_000, seed=4, squeeze=0.3)]
    batch = pd.concat([h[0] for h in halves], ignore_index=True)
    labels = pd.concat([h[1] for h in halves], ignore_index=True)
    batch["ts"] = pd.Timestamp("2026-01-05") + pd.to_timedelta(
        np.linspace(0, 8 * 7 * 86400 - 1, len(batch)), unit="s"
    )
    timeline = modelbook.monitor("scored", data=batch, time="ts", chunk="week", store="none")
    assert len(timeline) == 8
    estimated = [r.estimated["roc_auc"]["value"] for r in timeline]
    assert min(estimated[:4]) > max(estimated[4:]) + 0.05
    alerting = [
        r.chunk_index
        for r in timeline
        if any(c.check == "performance.estimated.roc_auc" and c.status == "alert" for c in r.checks)
    ]
    assert alerting == [4, 5, 6, 7]
    # with the labels: realized next to estimated, inside the ±3 SE interval in most chunks
    labelled = modelbook.monitor(
        "scored", data=batch.assign(y=labels), time="ts", chunk="week", store="none"
    )
    inside = 0
    for r in labelled:
        e = r.estimated["roc_auc"]
        realized = r.metrics["roc_auc"]
        assert abs(realized - e["value"]) < 0.06
        inside += e["lower"] <= realized <= e["upper"]
    assert inside >= 6
    frame = labelled.to_frame()
    row = frame[(frame["chunk"] == 5) & (frame["check"] == "performance.estimated.roc_auc")]
    assert row["value"].iloc[0] == pytest.approx(labelled[5].estimated["roc_auc"]["value"])
    assert row["lower"].iloc[0] == pytest.approx(labelled[5].estimated["roc_auc"]["lower"])
    assert row["upper"].iloc[0] == pytest.approx(labelled[5].estimated["roc_auc"]["upper"])


def test_to_frame(trained: Any) -> None:
    batch = _timed(2_000, seed=6, start="2026-01-01", days=60)
    timeline = modelbook.monitor("churn", data=batch, time="ts", chunk="month", store="none")
    frame = timeline.to_frame()
    assert list(frame.columns) == [
        "chunk", "start", "end", "n_rows", "check", "column", "status", "value", "lower",
        "upper", "threshold", "message",
    ]  # fmt: skip
    assert len(frame) == sum(len(r.checks) for r in timeline)
    assert sorted(frame["chunk"].unique().tolist()) == list(range(len(timeline)))
    first = frame[frame["chunk"] == 0]
    assert (first["start"] == pd.Timestamp("2026-01-01")).all()
    assert (first["end"] == pd.Timestamp("2026-02-01")).all()


@pytest.mark.parametrize("kind", ["frame", "parquet", "csv"])
def test_rows_without_a_time_are_counted_and_empty_periods_listed(
    trained: Any, tmp_path: Path, kind: str
) -> None:
    jan = _timed(800, seed=7, start="2026-01-01", days=30)
    apr = _timed(800, seed=8, start="2026-04-01", days=29)
    batch = pd.concat([jan, apr], ignore_index=True)
    batch.loc[[3, 50, 900], "ts"] = pd.NaT
    data: Any = batch
    if kind != "frame":
        data = tmp_path / f"batch.{kind}"
        batch.to_parquet(data) if kind == "parquet" else batch.to_csv(data, index=False)
    timeline = modelbook.monitor("churn", data=data, time="ts", chunk="month", store="none")
    assert [r.period_start for r in timeline] == [
        pd.Timestamp("2026-01-01").to_pydatetime(),
        pd.Timestamp("2026-04-01").to_pydatetime(),
    ]
    assert timeline.skipped_rows == 3 and timeline.n_rows == 1_597
    assert [s.month for s, _ in timeline.empty_periods] == [2, 3]
    assert timeline.notes == (
        "3 rows without a ts (null or NaT) left out",
        "2 empty periods skipped (no rows): starting 2026-02-01 00:00, 2026-03-01 00:00",
    )


def _runs(registry: Path) -> int:
    if not (registry / "registry.duckdb").exists():
        return 0
    con = duckdb.connect(str(registry / "registry.duckdb"), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM monitor_runs").fetchall()[0][0])
    finally:
        con.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"chunk": "month"},
            "chunk='month' is a period and needs time=: the batch column with each row's time, "
            "e.g. time='ts' (or chunk by rows: chunk=5000).",
        ),
        (
            {"time": "ts"},
            "time='ts' needs chunk=: how long a chunk is, e.g. chunk='month', '1w', '1d' or a "
            "number of rows.",
        ),
        (
            {"time": "when", "chunk": "month"},
            "time column 'when' is not in the batch; columns: tenure, charges, calls, plan, ts.",
        ),
        (
            {"time": "tenure", "chunk": "month"},
            "time column 'tenure' holds double, not dates or times: convert it first "
            "(e.g. df['tenure'] = pd.to_datetime(df['tenure'])).",
        ),
        (
            {"time": "ts", "chunk": "fortnight"},
            "chunk='fortnight' has an unknown unit 'fortnight': e.g. 'month', 'week', '1d', '6h', "
            "'quarter' or a number of rows like 5000.",
        ),
        (
            {"time": "ts", "chunk": "5m"},
            "chunk='5m' is ambiguous or too fine: write 'month' for months; chunks are at least "
            "an hour long.",
        ),
        ({"chunk": 0}, "chunk=0 must be at least 1 row."),
        (
            {"time": "ts", "chunk": 2.5},
            "chunk=2.5 is not a chunk size: pass a period or a number of rows, e.g. 'month', "
            "'week', '1d', '6h', 'quarter' or a number of rows like 5000.",
        ),
    ],
)
def test_bad_arguments_are_one_line_errors_and_write_nothing(
    trained: Any, registry: Path, kwargs: dict[str, Any], message: str
) -> None:
    batch = _timed(500, seed=1, start="2026-01-01", days=40)
    before = _runs(registry)
    with pytest.raises(DataError) as caught:
        modelbook.monitor("churn", data=batch, **kwargs)
    assert str(caught.value) == message
    assert _runs(registry) == before


def test_every_time_missing_is_an_error(trained: Any, registry: Path) -> None:
    batch = _timed(100, seed=1, start="2026-01-01", days=4)
    batch["ts"] = pd.NaT
    with pytest.raises(DataError, match=r"^no chunk to monitor: every row of the batch lacks a ts"):
        modelbook.monitor("churn", data=batch, time="ts", chunk="day")
    assert _runs(registry) == 0


def test_zoned_times_cut_on_the_utc_clock(trained: Any, tmp_path: Path) -> None:
    batch = _timed(1_000, seed=3, start="2026-01-01", days=6)
    batch["ts"] = batch["ts"].dt.tz_localize("UTC").dt.tz_convert("America/New_York")
    path = tmp_path / "zoned.parquet"
    batch.to_parquet(path)
    in_memory = modelbook.monitor("churn", data=batch, time="ts", chunk="1d", store="none")
    from_file = modelbook.monitor("churn", data=path, time="ts", chunk="1d", store="none")
    utc = batch["ts"].dt.tz_convert("UTC").dt.tz_localize(None)
    want = utc.groupby(utc.dt.floor("D")).size()
    assert [(r.period_start, r.n_rows) for r in in_memory] == [
        (k.to_pydatetime(), int(v)) for k, v in want.items()
    ]
    assert [(r.period_start, r.n_rows) for r in from_file] == [
        (r.period_start, r.n_rows) for r in in_memory
    ]


def test_arrow_date_column(trained: Any) -> None:
    batch = _timed(900, seed=2, start="2026-01-01", days=70)
    table = pa.Table.from_pandas(batch.assign(ts=batch["ts"].dt.date), preserve_index=False)
    assert pa.types.is_date32(table.schema.field("ts").type)
    timeline = modelbook.monitor("churn", data=table, time="ts", chunk="month", store="none")
    assert [r.period_start.month for r in timeline if r.period_start] == [1, 2, 3]


def test_history_shows_chunks_as_periods(trained: Any) -> None:
    batch = _timed(1_200, seed=4, start="2026-01-05", days=14)
    timeline = modelbook.monitor("churn", data=batch, time="ts", chunk="week")
    single = modelbook.monitor("churn", data=batch.drop(columns="ts"))
    history = modelbook.history("churn")
    assert history.has_periods
    assert [r.period for r in history.runs] == [
        "",
        "chunk 1: 2026-01-12 – 2026-01-19",
        "chunk 0: 2026-01-05 – 2026-01-12",
    ]
    assert {r.timeline for r in history.runs[1:]} == {timeline.timeline}
    assert history.runs[0].run_id == single.run_id
    text = str(history)
    assert "period" in text.splitlines()[1] and "chunk 0: 2026-01-05 – 2026-01-12" in text
    html = history._repr_mimebundle_()["text/html"]
    assert "<th" in html and ">period</th>" in html and "chunk 1: 2026-01-12 – 2026-01-19" in html
    frame = history.to_frame()
    assert frame["chunk_index"].tolist()[:2] == [0, 1]  # oldest first
    # the chart draws the chunks at their periods, not as one clump of run times
    by_period = history.by_period()
    assert [r.started_at for r in by_period.runs[1:]] == [
        pd.Timestamp("2026-01-12").to_pydatetime(),
        pd.Timestamp("2026-01-05").to_pydatetime(),
    ]


def test_magic_flags(ip: Any, trained: Any, tmp_path: Path) -> None:
    ip.user_ns["batch"] = _timed(1_000, seed=3, start="2026-01-01", days=58)
    timeline = ip.run_line_magic(
        "monitor", "churn --data batch --time ts --chunk month --store none"
    )
    assert isinstance(timeline, MonitorTimeline) and len(timeline) == 2
    rows = ip.run_line_magic("monitor", "churn --data batch --chunk 400 --store none")
    assert [r.n_rows for r in rows] == [400, 400, 200]
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("monitor", "churn --data batch --chunk month")
    assert str(caught.value).startswith("chunk='month' is a period and needs time=")
    assert "\n" not in str(caught.value)


def test_cli_flags(trained: Any, registry: Path, tmp_path: Path) -> None:
    path = tmp_path / "batch.parquet"
    _timed(1_000, seed=3, start="2026-01-01", days=58).to_parquet(path)
    done = subprocess.run(
        [sys.executable, "-m", "modelbook", "--registry", str(registry), "monitor", "churn",
         "--data", str(path), "--time", "ts", "--chunk", "month", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    assert data["chunk"] == "month" and data["time"] == "ts"
    assert [c["start"] for c in data["chunks"]] == ["2026-01-01T00:00:00", "2026-02-01T00:00:00"]
    assert len({c["run_id"] for c in data["chunks"]}) == 2
    bad = subprocess.run(
        [sys.executable, "-m", "modelbook", "--registry", str(registry), "monitor", "churn",
         "--data", str(path), "--chunk", "week"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 3  # a DataError: the command could not complete
    assert "chunk='week' is a period and needs time=" in bad.stderr


def test_store_data_keeps_the_batch_once(trained: Any, registry: Path) -> None:
    batch = _timed(900, seed=2, start="2026-01-01", days=80)
    timeline = modelbook.monitor("churn", data=batch, time="ts", chunk="month", store="data")
    assert {r.batch_dataset for r in timeline} == {"churn-batches@1"}
    stored = modelbook.load("churn-batches@1")
    assert len(stored) == len(batch)


def test_file_rows_with_labels_apart(trained: Any, tmp_path: Path) -> None:
    batch = make_frame(3_000, seed=21)
    labels = labels_for(batch, seed=4).to_numpy()
    path = tmp_path / "batch.csv"
    batch.to_csv(path, index=False)
    from_file = modelbook.monitor("churn", data=path, target=labels, chunk=1_000, store="none")
    in_memory = modelbook.monitor("churn", data=batch, target=labels, chunk=1_000, store="none")
    assert [r.n_rows for r in from_file] == [1_000, 1_000, 1_000]
    for a, b in zip(from_file, in_memory, strict=True):
        assert a.metrics == pytest.approx(b.metrics)
    alone = modelbook.monitor("churn", data=batch.iloc[1_000:2_000], target=labels[1_000:2_000],
                              store="none")  # fmt: skip
    assert isinstance(alone, MonitorReport)
    assert from_file[1].metrics == pytest.approx(alone.metrics)
