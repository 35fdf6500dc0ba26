"""Several processes writing one registry at once, and processes killed mid-write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb

import modelbook as mb
from modelbook.registry.objects import sha256_file

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    import modelbook as mb

    worker, count = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(worker)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    print("ready", flush=True)
    for i in range(count):
        model = LogisticRegression(C=1.0 + worker + i / 100).fit(X, y)
        mb.register(model, name="shared", tag={"worker": str(worker), "i": str(i)})
    """
)


def _spawn(script: str, *args: str, home: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, MODELBOOK_HOME=str(home))
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_eight_processes_register_400_versions(registry: Path) -> None:
    workers = [_spawn(WRITER, str(w), "50", home=registry) for w in range(8)]
    for proc in workers:
        _out, err = proc.communicate(timeout=540)
        assert proc.returncode == 0, err
        assert "Error" not in err and "Traceback" not in err, err
    rows = mb.ls("shared").rows
    assert [int(r[0]) for r in rows] == list(range(1, 401))
    con = duckdb.connect(str(registry / "registry.duckdb"), read_only=True)
    tags = con.execute("SELECT tags FROM model_versions WHERE name = 'shared'").fetchall()
    con.close()
    assert len({t[0] for t in tags}) == 400  # every registration stored exactly once
    for version in range(1, 401):
        assert type(mb.load(f"shared@{version}")).__name__ == "LogisticRegression"


CRASHER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    import modelbook as mb

    seed = int(sys.argv[1])
    rng = np.random.default_rng(seed)
    print("ready", flush=True)
    i = 0
    while True:
        frame = pd.DataFrame({"a": rng.normal(size=20_000), "b": rng.choice(["x", "y"], 20_000)})
        y = pd.Series(rng.integers(0, 2, 20_000), name="y")
        mb.register(frame, name="batches")
        mb.register(LogisticRegression().fit(frame[["a"]], y), name="model", data=frame, target=y)
        i += 1
    """
)


def _check_consistent(home: Path) -> int:
    """Versions consecutive, every referenced blob present and intact; returns versions seen."""
    con = duckdb.connect(str(home / "registry.duckdb"), read_only=False)
    try:
        seen = 0
        for table in ("model_versions", "dataset_versions"):
            rows = con.execute(
                f"SELECT name, version, blob FROM {table} ORDER BY name, version"
            ).fetchall()
            by_name: dict[str, list[int]] = {}
            for name, version, blob in rows:
                by_name.setdefault(name, []).append(version)
                path = home / "objects" / blob[:2] / blob[2:]
                assert path.exists(), f"{name}@{version} names a missing blob"
                assert sha256_file(path) == blob, f"{name}@{version} blob is damaged"
            for name, versions in by_name.items():
                assert versions == list(range(1, len(versions) + 1)), (name, versions)
            seen += len(rows)
        profiles = con.execute(
            "SELECT count(*) FROM dataset_versions d WHERE NOT EXISTS "
            "(SELECT 1 FROM column_profiles p WHERE p.dataset = d.name AND p.version = d.version)"
        ).fetchall()[0][0]
        assert profiles == 0, "a dataset version without its profile"
    finally:
        con.close()
    return seen


def test_kill_9_at_random_points_leaves_registry_consistent(registry: Path) -> None:
    chooser = random.Random(1234)
    seen = 0
    for round_ in range(8):
        proc = _spawn(CRASHER, str(round_), home=registry)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(chooser.uniform(0.05, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        seen = _check_consistent(registry)
    assert seen > 0, "no registration finished between kills: lengthen the delays"
    # Whatever a kill left behind can be collected, and the registry still loads.
    mb.gc(grace_seconds=0)
    for name in ("batches", "model"):
        try:
            latest = mb.show(name)
        except mb.NotFoundError:
            continue
        mb.load(latest.ref)
    leftovers = list((registry / "objects" / "tmp").iterdir())
    assert leftovers == []
