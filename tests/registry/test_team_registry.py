"""A team registry on a real PostgreSQL server: concurrent writers over TCP, a read-only role,
killed writers, a server that stops, migrations, and credentials that never leak."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from sklearn.linear_model import LogisticRegression

import modelbook as mb
from modelbook.registry.objects import sha256_file
from modelbook.registry.schema import MIGRATIONS, SCHEMA_VERSION, postgres_ddl

PASSWORD = "s3cret-Pw_4711"  # tests/team_server.py


def _display(url: str) -> str:
    return url.replace(f":{PASSWORD}@", "@")


def _sql(url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(statement, params)
        return list(cur.fetchall()) if cur.description else []


def _spawn(script: str, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def team(team_registry: Path) -> dict[str, Any]:
    url = os.environ["MODELBOOK_HOME"]
    return {"url": url, "display": _display(url), "objects": team_registry / "objects"}


WRITER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import modelbook as mb

    worker, count = int(sys.argv[1]), int(sys.argv[2])
    print("ready", flush=True)
    for i in range(count):
        frame = pd.DataFrame({"worker": [worker] * 3, "i": [i] * 3, "x": [0.5, 1.5, 2.5]})
        mb.register(frame, name="shared", tag={"worker": str(worker), "i": str(i)})
    """
)


def test_twenty_writers_over_tcp_make_versions_1_to_500(team: dict[str, Any]) -> None:
    env = dict(os.environ)
    workers = [_spawn(WRITER, str(w), "25", env=env) for w in range(20)]
    started = time.monotonic()
    for proc in workers:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
    elapsed = time.monotonic() - started
    rows = _sql(team["url"], "SELECT version, tags FROM dataset_versions WHERE name = 'shared'")
    versions = sorted(int(v) for v, _ in rows)
    assert versions == list(range(1, 501))  # no gap, no duplicate
    tags = {(json.loads(t)["worker"], json.loads(t)["i"]) for _, t in rows}
    assert len(tags) == 500  # every registration stored exactly once
    for version in (1, 250, 500):
        assert len(mb.load(f"shared@{version}")) == 3
    print(f"20 writers x 25 registrations: {500 / elapsed:.1f} writes/s")


def test_read_only_role_reads_and_is_refused_writes_in_one_line(
    team: dict[str, Any], pg_server: Any, tmp_path: Path, capsys: Any
) -> None:
    X, y = _frame(0)
    mb.register(LogisticRegression().fit(X, y), name="churn", data=X.assign(y=y), target="y")
    mb.alias("churn@1", "production")
    mb.monitor("churn", data=X.assign(y=y), target="y")
    database = team["url"].rsplit("/", 1)[1]
    pg_server.admin(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reader') THEN "
        f"CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'; END IF; END $$"
    )
    pg_server.admin(
        "GRANT USAGE ON SCHEMA public TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA public "
        "TO reader",
        database,
    )
    reader = pg_server.url(database, user="reader")
    assert [r[0] for r in mb.ls(registry=reader).rows] == ["churn", "churn-training"]
    assert mb.show("churn@production", registry=reader).version == 1
    assert type(mb.load("churn", registry=reader)).__name__ == "LogisticRegression"
    assert len(mb.history("churn", registry=reader).runs) == 1
    display = _display(reader)
    with pytest.raises(mb.RegistryPermissionError) as info:
        mb.register(X.iloc[:5], name="other", registry=reader)
    assert str(info.value) == (
        f"the PostgreSQL role 'reader' lacks INSERT on table entries of the team registry "
        f"{display}: ask the registry's owner to GRANT it, or use a local registry."
    )
    with pytest.raises(mb.RegistryPermissionError) as info:
        mb.alias("churn@1", "staging", registry=reader)
    assert str(info.value) == (
        f"the PostgreSQL role 'reader' lacks DELETE on table aliases of the team registry "
        f"{display}: ask the registry's owner to GRANT it, or use a local registry."
    )
    # The CLI says the same in one line on stderr, exit code 2 (a registry error).
    done = subprocess.run(
        [sys.executable, "-m", "modelbook", "alias", "churn@1", "staging", "--registry", reader],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0
    assert "lacks DELETE on table aliases" in done.stderr
    assert PASSWORD not in done.stderr + done.stdout
    # Nothing was written by the refused calls.
    assert [r[0] for r in mb.ls().rows] == ["churn", "churn-training"]


def _frame(seed: int, n: int = 200) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    return X, pd.Series((X["a"] > 0).astype(int), name="y")


CRASHER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    import modelbook as mb

    rng = np.random.default_rng(int(sys.argv[1]))
    print("ready", flush=True)
    while True:
        frame = pd.DataFrame({"a": rng.normal(size=20_000), "b": rng.choice(["x", "y"], 20_000)})
        y = pd.Series(rng.integers(0, 2, 20_000), name="y")
        mb.register(frame, name="batches")
        mb.register(LogisticRegression().fit(frame[["a"]], y), name="model", data=frame, target=y)
    """
)


def _consistent(url: str, objects: Path) -> int:
    """Versions consecutive, blobs present and intact, training data and profiles present."""
    seen = 0
    for table in ("model_versions", "dataset_versions"):
        rows = _sql(url, f"SELECT name, version, blob FROM {table} ORDER BY name, version")
        by_name: dict[str, list[int]] = {}
        for name, version, blob in rows:
            by_name.setdefault(name, []).append(version)
            path = objects / blob[:2] / blob[2:]
            assert path.exists(), f"{name}@{version} names a missing blob"
            assert sha256_file(path) == blob, f"{name}@{version} blob is damaged"
        for name, versions in by_name.items():
            assert versions == list(range(1, len(versions) + 1)), (name, versions)
        seen += len(rows)
    assert not _sql(
        url,
        "SELECT 1 FROM dataset_versions d WHERE NOT EXISTS (SELECT 1 FROM column_profiles p "
        "WHERE p.dataset = d.name AND p.version = d.version)",
    ), "a dataset version without its profiles"
    assert not _sql(
        url,
        "SELECT 1 FROM model_versions m WHERE NOT EXISTS (SELECT 1 FROM dataset_versions d "
        "WHERE d.name = m.train_dataset AND d.version = m.train_version)",
    ), "a model without its training data"
    return seen


def test_killed_writer_leaves_no_half_version_and_gc_collects(team: dict[str, Any]) -> None:
    rng = random.Random(15)
    env = dict(os.environ)
    for round_ in range(4):
        proc = _spawn(CRASHER, str(round_), env=env)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.5, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        _consistent(team["url"], team["objects"])
    report = mb.check()
    assert report.ok, report.problems
    mb.gc(grace_seconds=0)
    assert _consistent(team["url"], team["objects"]) > 0
    assert not list((team["objects"] / "tmp").iterdir())  # killed writers' temp files went
    orphans = mb.check()
    assert orphans.ok and not [n for n in orphans.notes if "belong to no version" in n]


def test_server_stopped_mid_run_is_a_clear_error_and_reads_recover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import team_server

    gen = team_server.start_server()  # its own server: stopping the session's would hurt others
    server = next(gen)
    try:
        url = server.url(server.fresh_database())
        monkeypatch.setenv("MODELBOOK_HOME", url)
        monkeypatch.setenv("MODELBOOK_OBJECTS", str(tmp_path / "objects"))
        monkeypatch.setenv("MODELBOOK_CACHE", str(tmp_path / "cache"))
        X, _ = _frame(1)
        mb.register(X, name="data")
        server.stop()
        expected = f"cannot reach the team registry {_display(url)} ("
        started = time.monotonic()
        with pytest.raises(mb.RegistryError) as info:
            mb.ls()
        waited = time.monotonic() - started
        message = str(info.value)
        assert message.startswith(expected), message
        assert message.endswith(
            "check that the PostgreSQL server is running and reachable, then retry: nothing "
            "was written by the failed call."
        )
        assert "\n" not in message and PASSWORD not in message
        assert waited < 30  # bounded backoff
        with pytest.raises(mb.RegistryError) as info:
            mb.register(X.assign(c=1.0), name="data")
        assert str(info.value).startswith(expected) and PASSWORD not in str(info.value)
        # A read retries with backoff: a server back within the bound answers it.
        import threading

        threading.Timer(1.0, server.start).start()
        assert [r[0] for r in mb.ls().rows] == ["data"]
        assert mb.register(X.assign(c=2.0), name="data").version == 2
    finally:
        with contextlib.suppress(StopIteration):
            gen.send(None)


def test_newer_schema_is_refused_as_locally(team: dict[str, Any]) -> None:
    mb.register(pd.DataFrame({"a": [1.0]}), name="data")
    _sql(team["url"], "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    expected = (
        f"the registry at {team['display']} has schema version 99, but this modelbook reads up "
        f"to version {SCHEMA_VERSION}: upgrade with `pip install -U modelbook`."
    )
    for call in (
        mb.ls,
        lambda: mb.register(pd.DataFrame({"a": [2.0]}), name="data"),
        lambda: mb.init(team["url"]),
    ):
        with pytest.raises(mb.RegistryVersionError) as info:
            call()
        assert str(info.value) == expected


def test_init_creates_and_migrates_and_records_the_objects(
    pg_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELBOOK_OBJECTS", raising=False)
    monkeypatch.setenv("MODELBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    pg_server.admin("CREATE DATABASE init_target")
    url = pg_server.url("init_target")
    done = subprocess.run(
        [sys.executable, "-m", "modelbook", "init", url, "--objects", str(tmp_path / "shared")],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"registry {_display(url)}: created the registry tables (schema version "
        f"{SCHEMA_VERSION}); files: {tmp_path / 'shared'}"
    )
    again = mb.init(url)
    assert str(again).endswith(f"already at schema version {SCHEMA_VERSION}, nothing to do; "
                               f"files: {tmp_path / 'shared'}")  # fmt: skip
    # A member with no setting at all finds the files from what init recorded.
    mb.register(pd.DataFrame({"a": [1.0, 2.0]}), name="data", registry=url)
    assert (tmp_path / "shared").is_dir() and any((tmp_path / "shared").glob("??/*"))

    # An older registry (schema 3) is migrated to the newest by init, its rows kept.
    pg_server.admin("CREATE DATABASE init_old")
    old = pg_server.url("init_old")
    with psycopg.connect(old, autocommit=True) as con:
        for migration in MIGRATIONS[:3]:
            for statement in postgres_ddl(migration).split(";"):
                if statement.strip():
                    con.execute(statement)
        con.execute("INSERT INTO meta VALUES ('schema_version', '3')")
        con.execute("INSERT INTO entries VALUES ('kept', 'dataset', now())")
    result = mb.init(old, objects=str(tmp_path / "shared"))
    assert (result.schema_from, result.schema) == (3, SCHEMA_VERSION)
    assert _sql(old, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert _sql(old, "SELECT name FROM entries") == [("kept",)]
    assert _sql(old, "SELECT to_regclass('derived_statistics') IS NOT NULL") == [(True,)]


def test_credentials_never_in_output_errors_rows_or_files(
    team: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = team["url"]
    # A scheduled run whose papermill parameters quote the URL (as `modelbook run -p registry`).
    monkeypatch.setenv("MODELBOOK_SOURCE", "scheduled")
    monkeypatch.setenv("MODELBOOK_PARAMETERS", json.dumps({"registry": url, "day": 3}))
    X, y = _frame(2)
    model = LogisticRegression().fit(X, y)
    shown = [
        mb.register(model, name="churn", data=X.assign(y=y), target="y"),
        mb.ls(),
        mb.show("churn"),
        mb.monitor("churn", data=X.assign(y=y), target="y"),
        mb.history("churn"),
        mb.check(),
        mb.where(),
        mb.init(url),
    ]
    texts = [str(s) for s in shown] + [repr(s) for s in shown]
    for s in shown:
        bundle = getattr(s, "_repr_mimebundle_", None)
        if callable(bundle):
            texts.append(json.dumps(bundle(), default=str))
    env = dict(os.environ)
    for argv in (
        ["ls"], ["show", "churn"], ["history", "churn"], ["where"], ["check"], ["init", url],
        ["ls", "--registry", url.replace("/reg_", "/missing_")],
        ["ls", "--registry", url.replace(PASSWORD, "wrong-" + PASSWORD)],
        ["--json", "ls", "--registry", url.replace("127.0.0.1", "127.0.0.2").replace(
            str(url.split(":")[3].split("/")[0]), "1")],
    ):  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "modelbook", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        texts += [done.stdout, done.stderr]
        if argv[0] in {"ls", "--json"} and len(argv) > 2:
            assert done.returncode != 0 and done.stderr.strip().count("\n") == 0, done.stderr
    for text in texts:
        assert PASSWORD not in text
    # Stored rows: every table, every column, as text.
    tables = [
        r[0] for r in _sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    for table in tables:
        dump = _sql(url, f"SELECT row_to_json(t)::text FROM {table} t")
        assert not [row for row in dump if PASSWORD in row[0]], table
    stored = _sql(url, "SELECT parameters FROM monitor_runs")
    assert json.loads(stored[0][0])["registry"] == team["display"]
    # Files: the alert log, the cache folder, the objects.
    for folder in (tmp_path,):
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_size < 5_000_000:
                assert PASSWORD.encode() not in path.read_bytes(), path


def test_lab_server_reads_a_team_registry(team: dict[str, Any], tmp_path: Path) -> None:
    from modelbook.server import queries

    X, y = _frame(3)
    mb.register(LogisticRegression().fit(X, y), name="churn", data=X.assign(y=y), target="y")
    mb.monitor("churn", data=X.assign(y=y), target="y")
    home = queries.registry_home(team["url"], tmp_path)
    entries = queries.entries(home)
    assert entries["registry"] == team["display"] and entries["exists"] is True
    assert [e["name"] for e in entries["entries"]] == ["churn", "churn-training"]
    assert entries["entries"][0]["status"] == "ok"
    assert [v["version"] for v in queries.versions(home, "churn")["versions"]] == [1]
    assert len(queries.runs(home, target="churn")["runs"]) == 1
    assert PASSWORD not in json.dumps(entries)


def test_use_a_team_registry_in_a_notebook(
    team: dict[str, Any], capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.testing.globalipapp import get_ipython

    import modelbook.registry.paths as paths

    shell = get_ipython()
    shell.run_line_magic("load_ext", "modelbook")
    capsys.readouterr()  # "already loaded" when an earlier test loaded it in this shell
    monkeypatch.delenv("MODELBOOK_HOME")
    try:
        shell.run_line_magic("modelbook", f"use {team['url']}")
        shell.run_line_magic("modelbook", "where")
        out = capsys.readouterr().out
        assert out == f"modelbook registry: {team['display']} (team registry)\n" * 2
        mb.register(pd.DataFrame({"a": [1.0]}), name="data")
        assert _sql(team["url"], "SELECT name FROM entries") == [("data",)]
        assert str(mb.where()) == team["display"]
    finally:
        paths.set_session_home(None)


def test_a_dropped_connection_is_reopened(team: dict[str, Any], pg_server: Any) -> None:
    mb.register(pd.DataFrame({"a": [1.0]}), name="data")
    assert [r[0] for r in mb.ls().rows] == ["data"]  # this thread's connection is open now
    database = team["url"].rsplit("/", 1)[1]
    killed = pg_server.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE application_name = 'modelbook' AND datname = '{database}'"
    )
    assert killed == [(True,)]
    assert [r[0] for r in mb.ls().rows] == ["data"]  # read again on a new connection
    pg_server.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE application_name = 'modelbook' AND datname = '{database}'"
    )
    assert mb.register(pd.DataFrame({"a": [2.0]}), name="data").version == 2


def test_a_conflicting_write_runs_again(team: dict[str, Any]) -> None:
    """A duplicate key (a writer that bypassed the lock got there first) is retried."""
    from modelbook.registry import open_registry

    mb.register(pd.DataFrame({"a": [1.0]}), name="data")
    reg = open_registry()
    attempts: list[int] = []

    def body(con: Any) -> int:
        attempts.append(1)
        version = 1 if len(attempts) == 1 else 2  # the first attempt collides with data@1
        con.execute(
            "INSERT INTO dataset_versions (name, version, fingerprint, blob, size_bytes, n_rows, "
            "n_columns, tags, created_at, created_by) "
            "SELECT name, ?, 'other', blob, size_bytes, n_rows, n_columns, tags, created_at, "
            "created_by FROM dataset_versions WHERE name = 'data' AND version = 1",
            [version],
        )
        return version

    assert reg._write_retry(body) == 2
    assert len(attempts) == 2
    rows = _sql(team["url"], "SELECT version FROM dataset_versions ORDER BY version")
    assert rows == [(1,), (2,)]


def test_scheduled_run_writes_to_the_team_registry(team: dict[str, Any], tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    X, y = _frame(4)
    mb.register(LogisticRegression().fit(X, y), name="churn", data=X.assign(y=y), target="y")
    batch = tmp_path / "batch.parquet"
    X.assign(y=y).to_parquet(batch)
    parameters = new_code_cell("day = 1")
    parameters.metadata["tags"] = ["parameters"]
    notebook = new_notebook(
        cells=[
            parameters,
            new_code_cell(
                "import pandas as pd, modelbook as mb\n"
                f"mb.monitor('churn', data=pd.read_parquet({str(batch)!r}), target='y')"
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    path = tmp_path / "scheduled.ipynb"
    nbformat.write(notebook, path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELBOOK_")}
    env["MODELBOOK_OBJECTS"] = str(team["objects"])
    env["MODELBOOK_CACHE"] = os.environ["MODELBOOK_CACHE"]
    done = subprocess.run(
        [sys.executable, "-m", "modelbook", "--registry", team["url"], "run", str(path),
         "-p", "day", "3"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert PASSWORD not in done.stdout + done.stderr
    runs = _sql(team["url"], "SELECT source, parameters, notebook FROM monitor_runs")
    assert [(r[0], json.loads(r[1])) for r in runs] == [("scheduled", {"day": 3})]
    assert runs[0][2] == str(path)
