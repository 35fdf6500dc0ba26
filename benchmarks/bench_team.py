"""Team registry benchmark (issue 15): PostgreSQL metadata + S3-compatible objects vs local.

    python benchmarks/bench_team.py                     # the issue's sizes
    python benchmarks/bench_team.py --rows 20000 --versions 300 --runs 300 --processes 3 \\
        --per-process 3 --monitor-rows 20000 --repeat 1    # the CI smoke size

It starts its own PostgreSQL (tests/team_server.py: initdb + pg_ctl in a temporary folder, on
127.0.0.1 over TCP) and its own S3-compatible server (moto in server mode, in a child process so
it does not share our GIL), both on this machine, and prints:

* register a 1M × 30 frame: team / local time (target ≤ 2×);
* ``ls`` and ``history`` with 10,000 versions and 10,000 runs (rows bulk-inserted for setup
  speed): median ms per call (target ≤ 100 ms each), local figures beside them;
* 20 processes × 25 registrations over TCP: every version 1..500 present, no gap; writes/s;
* monitor 1M rows against a team-registered reference: team / local time (target ≤ 1.3×; the
  stored profiles are read, the reference rows are not downloaded again).

Without PostgreSQL's binaries (Debian's ``postgresql`` package) it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _common import make_frame, mb  # noqa: E402


def _best(func: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(best, median) seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# -- 1. register ----------------------------------------------------------------------------------


def bench_register(local: Path, team: str, rows: int, repeat: int) -> None:
    import modelbook

    frames = [make_frame(rows, seed=10 + i) for i in range(2 * repeat)]  # never deduplicated
    for where in (local, team):  # warm: imports, connections, the S3 client's session
        modelbook.register(make_frame(1000, seed=1), name="warmup", registry=where)
    timings: dict[str, float] = {}
    size = 0
    for label, where, offset in (("local", local, 0), ("team", team, repeat)):
        best = float("inf")
        for i in range(repeat):
            t0 = time.perf_counter()
            version = modelbook.register(frames[offset + i], name=f"big-{i}", registry=where)
            best = min(best, time.perf_counter() - t0)
            size = int(version.size_bytes)
        timings[label] = best
    ratio = timings["team"] / timings["local"]
    floor = _raw_upload(team, frames[0])
    print(
        f"register {rows:,} × 30 ({mb(size)} Parquet), best of {repeat}: local "
        f"{timings['local']:.2f} s, team {timings['team']:.2f} s = {ratio:.2f}× "
        f"(target ≤ 2×): {_verdict(ratio <= 2)}"
    )
    print(
        f"  the S3 server's floor: a bare s3fs upload of that Parquet file takes {floor:.2f} s "
        f"(local + upload = {(timings['local'] + floor) / timings['local']:.2f}×)"
    )


def _raw_upload(team: str, frame: Any) -> float:
    """Seconds for s3fs alone to upload the frame's Parquet file to the team's bucket."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from modelbook.registry import open_registry
    from modelbook.registry.remote_objects import S3ObjectStore, part_size

    store = open_registry(team).objects
    assert isinstance(store, S3ObjectStore)
    path = store.temp_path(".parquet")
    try:
        pq.write_table(pa.Table.from_pandas(frame), path, compression="zstd")
        size = path.stat().st_size
        t0 = time.perf_counter()
        store.fs.put_file(str(path), f"{store.where.base}/scratch", chunksize=part_size(size))
        return time.perf_counter() - t0
    finally:
        path.unlink(missing_ok=True)


# -- 2. ls and history over many versions and runs ----------------------------------------------


def _seed_listing(where: str | Path, versions: int, runs: int) -> None:
    """One real registration, then ``versions`` model versions and ``runs`` monitor runs
    inserted directly in one transaction (setup speed only; the engine writes one at a time)."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import modelbook
    from modelbook.registry import open_registry
    from modelbook.registry.store import now

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = (X["a"] > 0).astype(int)
    modelbook.register(
        LogisticRegression().fit(X, y), name="churn", data=X, target=y, registry=where
    )
    reg = open_registry(where)
    with reg.read() as con:
        cursor = con.execute("SELECT * FROM model_versions WHERE name = 'churn'", [])
        columns = [d[0] for d in cursor.description]
        template = dict(zip(columns, cursor.fetchall()[0], strict=True))
    start = now() - timedelta(days=365)
    models = [
        [{**template, "version": v, "created_at": start + timedelta(minutes=v)}[c] for c in columns]
        for v in range(2, versions + 1)
    ]
    step = timedelta(days=365) / max(runs, 1)
    monitor = []
    for i in range(runs):
        status = "alert" if i % 7 == 0 else "ok"
        began = start + step * i
        monitor.append(
            [
                str(uuid.uuid4()), "churn", 1 + i % versions, "churn-training@1", status,
                "scheduled", 10_000, float(rng.uniform(0, 0.5)), int(status != "ok"),
                json.dumps({"accuracy": float(rng.uniform(0.8, 0.9))}), None,
                "monitoring.ipynb", None, json.dumps({"checks": ["x" * 2000]}), began,
                began + timedelta(seconds=2), "bench",
            ]
        )  # fmt: skip
    quoted = ", ".join(f'"{c}"' for c in columns)
    with reg.write() as con:
        con.executemany(
            f"INSERT INTO model_versions ({quoted}) VALUES ({', '.join('?' for _ in columns)})",
            models,
        )
        con.executemany(
            "INSERT INTO monitor_runs (id, target, target_version, reference, status, source, "
            "n_rows, drift_share, n_alerts, metrics, batch_dataset, notebook, parameters, report, "
            "started_at, finished_at, created_by) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            monitor,
        )


def bench_listing(local: Path, team: str, versions: int, runs: int, repeat: int) -> None:
    import modelbook

    for where in (local, team):
        t0 = time.perf_counter()
        _seed_listing(where, versions, runs)
        print(f"seeded {versions:,} versions and {runs:,} runs in {time.perf_counter() - t0:.1f} s")
    cases: dict[str, Callable[[str | Path], Any]] = {
        "ls()": lambda w: modelbook.ls(registry=w),
        "ls('churn')": lambda w: modelbook.ls("churn", registry=w),
        "history('churn')": lambda w: modelbook.history("churn", registry=w),
        "history('churn', limit=50)": lambda w: modelbook.history("churn", limit=50, registry=w),
    }
    print(f"{'call':<28} {'rows':>7} {'local ms':>9} {'team ms':>9}  (median of {repeat})")
    worst = 0.0
    for label, call in cases.items():
        result = call(team)  # warm, and count
        rows = len(result.rows) if hasattr(result, "rows") else len(result)
        medians = []
        for where in (local, team):
            call(where)
            medians.append(_best(lambda c=call, w=where: c(w), repeat)[1])  # type: ignore[misc]
        worst = max(worst, medians[1])
        print(f"{label:<28} {rows:>7,} {medians[0] * 1e3:>9.1f} {medians[1] * 1e3:>9.1f}")
    print(f"slowest team call: {worst * 1e3:.1f} ms (target ≤ 100 ms): {_verdict(worst <= 0.1)}")


# -- 3. concurrent writers ------------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    import modelbook
    url, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    X = np.random.default_rng(worker).normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)
    models = [LogisticRegression(C=1 + i + 1000 * worker).fit(X, y) for i in range(count)]
    # Warm (imports, environment capture, the PostgreSQL and S3 sessions): time only the writes.
    modelbook.register(LogisticRegression(C=0.5 + worker).fit(X, y), name=f"warm-{worker}",
                       registry=url)
    sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()
    for m in models:
        modelbook.register(m, name="shared", registry=url)
    """
)


def bench_writers(team: str, processes: int, per_process: int) -> None:
    import modelbook

    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, team, str(w), str(per_process)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(processes)
    ]
    for w in workers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    for w in workers:
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in workers:
        w.wait()
        assert w.returncode == 0, "a writer failed"
    elapsed = time.perf_counter() - t0
    total = processes * per_process
    versions = sorted(int(r[0]) for r in modelbook.ls("shared", registry=team).rows)
    ok = versions == list(range(1, total + 1))
    print(
        f"{processes} processes × {per_process} registrations over TCP: {elapsed:.2f} s wall, "
        f"{total / elapsed:.1f} writes/s; versions 1..{total} present without gap or duplicate: "
        f"{_verdict(ok)}"
    )
    assert ok, f"versions: {versions[:10]}… ({len(versions)})"


# -- 4. monitor against a stored reference -------------------------------------------------------


def bench_monitor(local: Path, team: str, rows: int, repeat: int) -> None:
    import modelbook

    reference = make_frame(rows, seed=100)
    batch = make_frame(rows, seed=101, shift=0.05)
    for where in (local, team):
        modelbook.register(reference, name="reference", registry=where)
        modelbook.monitor("reference", data=batch.head(1000), store="none", registry=where)
    timings = {}
    for label, where in (("local", local), ("team", team)):
        timings[label] = _best(
            lambda w=where: modelbook.monitor("reference", data=batch, store="none", registry=w),  # type: ignore[misc]
            repeat,
        )[0]
    ratio = timings["team"] / timings["local"]
    print(
        f"monitor {rows:,} × 30 against the stored reference, best of {repeat}: local "
        f"{timings['local']:.2f} s, team {timings['team']:.2f} s = {ratio:.2f}× "
        f"(target ≤ 1.3×): {_verdict(ratio <= 1.3)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the registered frame")
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=20)
    parser.add_argument("--per-process", type=int, default=25)
    parser.add_argument("--monitor-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only", nargs="+", choices=("register", "listing", "writers", "monitor"),
        default=("register", "listing", "writers", "monitor"), help="run only these parts",
    )  # fmt: skip
    args = parser.parse_args()

    from s3_server import CREDENTIALS, make_bucket, start_moto_process
    from team_server import find_bin, start_server

    if find_bin() is None:
        print(
            "skipped: PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb); install "
            "Debian's postgresql (the project's test command does)"
        )
        return
    os.environ.update(CREDENTIALS)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MODELBOOK_CACHE"] = str(Path(tmp) / "cache")
        servers = start_server()
        pg = next(servers)
        endpoint, stop_s3 = start_moto_process()
        try:
            os.environ["MODELBOOK_OBJECTS"] = (
                f"s3://{make_bucket(endpoint)}/team?endpoint={endpoint}"
            )
            print(f"PostgreSQL {pg.bin.parent.name} on 127.0.0.1:{pg.port}; moto S3 at {endpoint}")

            def fresh() -> tuple[Path, str]:
                local = Path(tempfile.mkdtemp(dir=tmp)) / ".modelbook"
                return local, pg.url(pg.fresh_database())

            if "register" in args.only:
                bench_register(*fresh(), args.rows, args.repeat)
            if "listing" in args.only:
                bench_listing(*fresh(), args.versions, args.runs, max(5, 3 * args.repeat))
            if "writers" in args.only:
                bench_writers(fresh()[1], args.processes, args.per_process)
            if "monitor" in args.only:
                bench_monitor(*fresh(), args.monitor_rows, args.repeat)
        finally:
            stop_s3()
            for _ in servers:  # stops the server and removes its folder
                pass


if __name__ == "__main__":
    main()
