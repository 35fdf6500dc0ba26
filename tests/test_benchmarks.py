"""Every benchmark still runs, at a tiny size (figures are not asserted: benchmarks are not tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"

SMALL_ARGS: dict[str, list[str]] = {
    "bench_register.py": [
        "--rows",
        "20000",
        "--trees",
        "5",
        "--model-rows",
        "5000",
        "--processes",
        "2",
        "--per-process",
        "3",
    ],
    "bench_drift.py": ["--rows", "20000", "--parquet-rows", "50000"],
    "bench_monitor.py": ["--rows", "20000", "--parquet-rows", "50000"],
    "bench_segments.py": ["--rows", "20000", "--repeat", "1"],
    "bench_feedback.py": ["--rows", "20000", "--repeat", "1"],
    "bench_multivariate.py": ["--rows", "20000", "--sample-rows", "5000", "--repeat", "1"],
    "bench_history.py": ["--runs", "200", "--repeat", "3"],
    "bench_team.py": [
        "--rows",
        "20000",
        "--versions",
        "300",
        "--runs",
        "300",
        "--processes",
        "3",
        "--per-process",
        "3",
        "--monitor-rows",
        "20000",
        "--repeat",
        "1",
    ],
    "bench_views.py": ["--columns", "30", "--rows", "2000", "--repeat", "1"],
    "bench_estimation.py": [
        "--rows",
        "20000",
        "--loss-rows",
        "3000",
        "--eval-rows",
        "10000",
        "--chunk",
        "1000",
        "--chunks",
        "5",
        "--repeat",
        "1",
        "--timeline-rows",
        "5000",
        "--timeline-chunks",
        "3",
    ],
}


def test_every_benchmark_has_small_arguments() -> None:
    scripts = sorted(p.name for p in BENCHMARKS.glob("bench_*.py"))
    assert scripts == sorted(SMALL_ARGS)


@pytest.mark.parametrize("script", sorted(SMALL_ARGS))
def test_benchmark_runs_small(script: str, tmp_path: Path) -> None:
    if script == "bench_team.py":
        from team_server import find_bin

        if find_bin() is None:
            pytest.skip(
                "bench_team.py needs PostgreSQL (/usr/lib/postgresql/*/bin/initdb is missing): "
                "the project's test command installs Debian's postgresql"
            )
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *SMALL_ARGS[script]],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "a benchmark must print its figures"


def test_timeline_figure_runs_alone(tmp_path: Path) -> None:
    """benchmarks/_timeline_figure.py (called by bench_estimation.py) also runs on its own."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "_timeline_figure.py"), "--rows", "20000",
         "--chunks", "4"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "in 4 monthly chunks with estimation (estimated)" in result.stdout
    assert "ratio" in result.stdout
