"""Damaged, foreign, busy and unwritable registries give clear errors, and lose nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import modelbook as mb
from modelbook.registry.schema import SCHEMA_VERSION
from team_server import registry_connection


def _blob(registry: Path, ref: str) -> Path:
    con = registry_connection()
    name, _, version = ref.partition("@")
    table = "model_versions" if name == "model" else "dataset_versions"
    blob = con.execute(
        f"SELECT blob FROM {table} WHERE name = ? AND version = ?", [name, int(version)]
    ).fetchall()[0][0]
    con.close()
    return registry / "objects" / blob[:2] / blob[2:]


@pytest.fixture
def stored(registry: Path) -> Path:
    mb.register(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), name="data")
    mb.register(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), name="model")
    return registry


def test_tampered_blob_is_refused(stored: Path) -> None:
    path = _blob(stored, "model@1")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(mb.IntegrityError) as info:
        mb.load("model@1")
    message = str(info.value)
    assert message.startswith(f"artifact file {path} does not match its recorded hash (expected ")
    assert message.endswith("): it was modified or corrupted; refusing to load it.")


def test_missing_blob_is_named(stored: Path) -> None:
    path = _blob(stored, "data@1")
    path.unlink()
    with pytest.raises(mb.IntegrityError) as info:
        mb.load("data")
    assert str(info.value) == (
        f"artifact file {path} is missing: the registry is damaged; restore the file from a "
        "backup or register the object again."
    )


def test_newer_schema_is_refused(stored: Path) -> None:
    con = duckdb.connect(str(stored / "registry.duckdb"))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    expected = (
        f"the registry at {stored} has schema version 99, but this modelbook reads up to "
        f"version {SCHEMA_VERSION}: upgrade with `pip install -U modelbook`."
    )
    with pytest.raises(mb.RegistryVersionError) as info:
        mb.ls()
    assert str(info.value) == expected
    with pytest.raises(mb.RegistryVersionError):
        mb.register(pd.DataFrame({"a": [9.0]}), name="data")


def test_unwritable_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path("/sys/modelbook-test/.modelbook")  # not writable, even for root
    monkeypatch.setenv("MODELBOOK_HOME", str(home))
    with pytest.raises(mb.RegistryPermissionError) as info:
        mb.register(pd.DataFrame({"a": [1.0]}), name="data")
    assert str(info.value) == (
        f"the registry at {home} is not writable (Operation not permitted); choose a writable "
        "folder with MODELBOOK_HOME or `%modelbook use PATH`."
    )


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from modelbook.registry.locking import write_lock
    with write_lock(Path(sys.argv[1])):
        print("holding", flush=True)
        time.sleep(60)
    """
)


def test_busy_registry_names_the_holder(stored: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(stored / "registry.lock")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        monkeypatch.setenv("MODELBOOK_BUSY_TIMEOUT", "1")
        with pytest.raises(mb.RegistryBusyError) as info:
            mb.register(pd.DataFrame({"a": [5.0]}), name="data")
        message = str(info.value)
        assert message.startswith(
            f"the registry at {stored} stayed busy for 1 s: it is held by PID {holder.pid} on "
        )
        assert message.endswith(
            "wait for it to finish or stop it, then retry (MODELBOOK_BUSY_TIMEOUT sets the wait)."
        )
        # Reading is not blocked by a queued writer.
        assert [r[0] for r in mb.ls().rows] == ["model", "data"]
    finally:
        holder.kill()
        holder.wait()
    assert mb.register(pd.DataFrame({"a": [5.0]}), name="data").version == 2


def test_database_held_open_by_another_process(
    stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
        "print('open', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(stored / "registry.duckdb")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        monkeypatch.setenv("MODELBOOK_BUSY_TIMEOUT", "0.5")
        with pytest.raises(mb.RegistryBusyError) as info:
            mb.ls()
        assert str(info.value) == (
            f"the registry {stored / 'registry.duckdb'} stayed locked by process {holder.pid} "
            "for 0.5 s; wait for it to finish or stop it, then retry (MODELBOOK_BUSY_TIMEOUT sets "
            "the wait)."
        )
    finally:
        holder.kill()
        holder.wait()


def test_failed_registration_keeps_what_was_stored(stored: Path) -> None:
    before = mb.ls("data").rows
    with pytest.raises(mb.DataError):
        mb.register(pd.DataFrame({"a": [1, "x"]}), name="data")
    assert mb.ls("data").rows == before
    assert os.listdir(stored / "objects" / "tmp") == []


# -- a damaged registry.duckdb (issue 10, item 3) --------------------------------------------------


def _damage_metadata(registry: Path, where: str) -> None:
    """Overwrite 64 KB of registry.duckdb with random bytes: the header, or a block in use."""
    import random

    db = registry / "registry.duckdb"
    if where == "header":
        offset = 0
    else:
        con = duckdb.connect(str(db), read_only=True)
        block_size = con.execute("PRAGMA database_size").fetchall()[0][2]
        block = con.execute(
            "SELECT min(block_id) FROM pragma_storage_info('dataset_versions') WHERE block_id >= 0"
        ).fetchall()[0][0]
        con.close()
        offset = 3 * 4096 + block * block_size  # after the three 4 KB file headers
    with open(db, "r+b") as handle:
        handle.seek(offset)
        handle.write(random.Random(10).randbytes(64 * 1024))


DAMAGED_TAIL = (
    "); the artifact files under {objects} are separate and not affected. Restore "
    "registry.duckdb from a backup; `modelbook check` (or modelbook.check()) verifies every "
    "artifact file and says what can be recovered without one."
)


@pytest.mark.parametrize("where", ["header", "block"])
def test_damaged_metadata_is_a_registry_error(stored: Path, where: str) -> None:
    _damage_metadata(stored, where)
    head = f"the registry's metadata file {stored / 'registry.duckdb'} is damaged ("
    tail = DAMAGED_TAIL.format(objects=stored / "objects")
    for call in (
        mb.ls,
        lambda: mb.show("data"),
        lambda: mb.load("data"),
        lambda: mb.register(pd.DataFrame({"a": [7.0]}), name="data"),
    ):
        with pytest.raises(mb.RegistryError) as info:
            call()
        assert type(info.value) is mb.RegistryError
        assert str(info.value).startswith(head) and str(info.value).endswith(tail)


def test_check_of_a_sound_registry(stored: Path, ip: Any) -> None:
    assert ip.run_line_magic("modelbook", "check").ok
    report = mb.check()
    assert report.ok and report.metadata == "ok" and report.problems == ()
    assert report.files_checked == 2 and report.notes == ()
    assert report.counts["model_versions"] == 1 and report.counts["dataset_versions"] == 1
    text = str(report)
    where = mb.where()  # the folder, or a team registry's URL without password
    assert text.startswith(f"registry {where}: ok, nothing is broken\nverified: 2 artifact files")
    bundle = report._repr_mimebundle_()
    assert bundle["application/vnd.modelbook.v1+json"]["type"] == "check_report"
    assert bundle["application/vnd.modelbook.v1+json"]["data"]["ok"] is True
    assert "ok, nothing is broken" in bundle["text/html"] and "<script" not in bundle["text/html"]


@pytest.mark.parametrize("where", ["header", "block"])
def test_check_of_damaged_metadata_verifies_the_files(stored: Path, where: str) -> None:
    _damage_metadata(stored, where)
    report = mb.check()
    assert not report.ok and report.metadata == "damaged"
    assert [(p.check, p.subject) for p in report.problems] == [("metadata", "registry.duckdb")]
    expected = {
        "header": "registry.duckdb cannot be opened: IO Error: The file ",
        "block": "registry.duckdb is damaged; tables it cannot read: dataset_versions (Corrupt ",
    }[where]
    assert report.problems[0].message.startswith(expected)
    assert report.files_checked == 2
    assert sorted((f["format"], f["intact"]) for f in report.files) == [
        ("parquet", True),
        ("sklearn", True),
    ]
    assert report.recovery is not None
    assert report.recovery.startswith("Restore registry.duckdb from a backup")
    if where == "block":  # what DuckDB still reads is named, to be saved first
        assert "Tables DuckDB can still read in full: meta, entries, column_profiles, " in (
            report.recovery
        )
    assert "intact ones by format: 1 parquet, 1 sklearn" in report.recovery
    assert report.recovery.endswith(
        "What only registry.duckdb held cannot be rebuilt from the files: names, version "
        "numbers, aliases and their history, metrics, parameters, tags, lineage, environments, "
        "column profiles and monitor runs."
    )
    # The recipe in the recovery text really reads a model file back.
    from modelbook.capture.models import deserialize

    model_file = next(f for f in report.files if f["format"] == "sklearn")
    payload = (stored / model_file["path"]).read_bytes()
    model = deserialize("sklearn", payload, trust=False, what="model")
    assert type(model).__name__ == "LogisticRegression"


def test_rebuild_recipe_copies_every_table(stored: Path) -> None:
    """The command check prints when only indexes are damaged: it rebuilds a working file."""
    from modelbook.registry.check import REBUILD

    mb.alias("model@1", "production")
    command = REBUILD.replace("python -c ", "", 1)
    code = command.strip('"').replace('\\"', '"')
    subprocess.run([sys.executable, "-c", code], cwd=stored, check=True)
    (stored / "registry.duckdb").rename(stored / "registry.duckdb.old")
    (stored / "rebuilt.duckdb").rename(stored / "registry.duckdb")
    assert mb.check().ok
    assert mb.alias("model@1", "staging").previous is None  # the alias sequence carries on
    assert [r[4] for r in mb.alias_history("model").rows] == [1, 1]


@pytest.fixture
def lineage(registry: Path) -> Path:
    """data@1, model@1 trained on model-training@1, model@production, one monitor run."""
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0] * 10, "b": [1.0, 0.0, 1.0, 0.5] * 10})
    y = pd.Series([0, 1, 1, 1] * 10, name="y")
    mb.register(frame, name="data")
    mb.register(LogisticRegression().fit(frame, y), name="model", data=frame, target=y)
    mb.alias("model@1", "production")
    mb.monitor("model", data=frame)
    return registry


def _sql(registry: Path, *statements: str) -> None:
    con = duckdb.connect(str(registry / "registry.duckdb"))
    for statement in statements:
        con.execute(statement)
    con.close()


def _run_id(registry: Path) -> str:
    con = registry_connection()
    run_id = str(con.execute("SELECT id FROM monitor_runs").fetchall()[0][0])
    con.close()
    return run_id


BROKEN = [
    (
        "blob-missing",
        lambda home: _blob(home, "data@1").unlink(),
        ("blob.missing", "dataset data@1", "its artifact file {data_blob} is missing"),
    ),
    (
        "blob-corrupt",
        lambda home: _blob(home, "model@1").write_bytes(b"tampered"),
        (
            "blob.corrupt",
            "model model@1",
            "its artifact file {model_blob} does not match its hash: modified or corrupted",
        ),
    ),
    (
        "entry",
        lambda home: _sql(home, "DELETE FROM entries WHERE name = 'data'"),
        (
            "ref.entries",
            "dataset data",
            "its versions exist but the name is missing from the names table (entries), so no "
            "reference to it resolves",
        ),
    ),
    (
        "training-data",
        lambda home: _sql(
            home,
            "DELETE FROM column_profiles WHERE dataset = 'model-training'",
            "DELETE FROM dataset_versions WHERE name = 'model-training'",
        ),
        ("ref.training_data", "model model@1", "its training data model-training@1 does not exist"),
    ),
    (
        "alias",
        lambda home: _sql(home, "UPDATE aliases SET version = 7"),
        ("ref.alias", "alias model@production", "points at version 7, which does not exist"),
    ),
    (
        "check-results",
        lambda home: _sql(home, "DELETE FROM monitor_runs"),
        (
            "ref.check_results",
            "monitor run {run_id}",
            "{n_checks} check results belong to a monitor run that does not exist",
        ),
    ),
    (
        "monitor-target",
        lambda home: _sql(home, "UPDATE monitor_runs SET target_version = 9"),
        ("ref.monitor_target", "monitor run {run_id}", "checked model@9, which does not exist"),
    ),
    (
        "profiles",
        lambda home: _sql(home, "DELETE FROM column_profiles WHERE dataset = 'data'"),
        ("ref.profiles", "dataset data@1", "has 0 column profiles for 2 columns"),
    ),
    (
        "orphan-profiles",
        lambda home: _sql(home, "UPDATE column_profiles SET version = 5 WHERE dataset = 'data'"),
        (
            "ref.profiles",
            "dataset data@5",
            "2 column profiles belong to a dataset version that does not exist",
        ),
    ),
]


@pytest.mark.parametrize(
    ("damage", "expected"), [(d, e) for _, d, e in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_check_names_what_is_broken(
    lineage: Path, damage: Any, expected: tuple[str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from modelbook.cli import EXIT_ALERT, main

    con = duckdb.connect(str(lineage / "registry.duckdb"), read_only=True)
    n_checks = con.execute("SELECT count(*) FROM check_results").fetchall()[0][0]
    con.close()
    values = {
        "run_id": _run_id(lineage),
        "n_checks": n_checks,
        "data_blob": _blob(lineage, "data@1").relative_to(lineage),
        "model_blob": _blob(lineage, "model@1").relative_to(lineage),
    }
    assert mb.check().ok
    damage(lineage)
    report = mb.check()
    assert not report.ok
    found = [(p.check, p.subject, p.message) for p in report.problems]
    assert tuple(part.format(**values) for part in expected) in found
    assert all(p.fix for p in report.problems)
    capsys.readouterr()
    assert main(["check"]) == EXIT_ALERT
    out = capsys.readouterr().out
    assert out.startswith(f"registry {lineage}: BROKEN, ")
    assert f"  BROKEN {expected[0]}: " in out


# -- file modes follow the umask (issue 10, item 4) ------------------------------------------------

UMASK = textwrap.dedent(
    """
    import os, sys
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    import modelbook as mb

    os.umask(int(sys.argv[1], 8))
    mb.register(pd.DataFrame({"a": [1.0, 2.0]}), name="data")
    mb.register(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), name="model")
    """
)


@pytest.mark.parametrize(("umask", "file_mode", "dir_mode"), [
    (0o002, 0o664, 0o775),  # a group-shared project folder
    (0o022, 0o644, 0o755),
    (0o077, 0o600, 0o700),
])  # fmt: skip
def test_files_follow_the_umask(registry: Path, umask: int, file_mode: int, dir_mode: int) -> None:
    env = dict(os.environ, MODELBOOK_HOME=str(registry))
    subprocess.run([sys.executable, "-c", UMASK, oct(umask)], env=env, check=True)
    blobs = [p for p in (registry / "objects").glob("??/*")]
    assert len(blobs) == 2
    for path in [*blobs, registry / "registry.duckdb"]:
        assert path.stat().st_mode & 0o777 == file_mode, path
    for path in [registry, registry / "objects", *(b.parent for b in blobs)]:
        assert path.stat().st_mode & 0o777 == dir_mode, path


# -- registry paths: a file, or a folder holding no registry (issue 10, item 5) --------------------


def test_a_file_is_not_a_registry(tmp_path: Path, ip: Any) -> None:
    from IPython.core.error import UsageError

    path = tmp_path / "notes.txt"
    path.write_text("hello")
    message = (
        f"the registry path {path} is a file, not a folder: pass the folder that holds "
        "registry.duckdb, or a new folder to create one."
    )
    calls = [
        lambda: mb.ls(registry=path),
        lambda: mb.where(registry=path),
        lambda: mb.use(path),
        lambda: mb.register(pd.DataFrame({"a": [1.0]}), name="data", registry=path),
        lambda: mb.check(registry=path),
    ]
    for call in calls:
        with pytest.raises(mb.ConfigError) as info:
            call()
        assert str(info.value) == message
    with pytest.raises(UsageError) as magic:
        ip.run_line_magic("modelbook", f"use {path}")
    assert str(magic.value) == message
    db = tmp_path / "reg" / "registry.duckdb"
    db.parent.mkdir()
    db.write_bytes(b"")
    with pytest.raises(mb.ConfigError) as info:
        mb.use(db)
    assert str(info.value) == (
        f"the registry path {db} is a file, not a folder: pass its folder, {db.parent}."
    )


@pytest.mark.parametrize("exists", [False, True], ids=["no-folder", "empty-folder"])
def test_reading_a_path_without_a_registry_says_so(tmp_path: Path, exists: bool) -> None:
    home = tmp_path / "typo"
    if exists:
        home.mkdir()
    why = "the folder holds no registry.duckdb" if exists else "the folder does not exist"
    message = (
        f"no registry at {home} ({why}): check the path (--registry, MODELBOOK_HOME or "
        "`%modelbook use`); the first registration creates a registry there."
    )
    for call in (
        lambda: mb.ls(registry=home),
        lambda: mb.alias_history(registry=home),
        lambda: mb.gc(registry=home),
        lambda: mb.check(registry=home),
    ):
        with pytest.raises(mb.NotFoundError) as info:
            call()
        assert str(info.value) == message
    assert home.exists() is exists  # reading created nothing
    mb.register(pd.DataFrame({"a": [1.0]}), name="data", registry=home)  # writing creates it
    assert [r[0] for r in mb.ls(registry=home).rows] == ["data"]


def test_use_says_whether_a_registry_is_there(tmp_path: Path, ip: Any, capsys: Any) -> None:
    try:
        ip.run_line_magic("modelbook", f"use {tmp_path / 'new'}")
        assert capsys.readouterr().out == (
            f"modelbook registry: {tmp_path / 'new'} (no registry there yet: the first "
            "%register creates it)\n"
        )
    finally:
        mb.use(None)


# -- alias history of an unknown name (issue 10, item 15) ------------------------------------------


def test_alias_history_of_an_unknown_name(stored: Path, ip: Any) -> None:
    from IPython.core.error import UsageError

    message = "no model or dataset named 'nosuch'; registered: data, model."
    with pytest.raises(mb.NotFoundError) as info:
        mb.alias_history("nosuch")
    assert str(info.value) == message
    with pytest.raises(UsageError) as magic:
        ip.run_line_magic("modelbook", "alias --history nosuch")
    assert str(magic.value) == message
    assert len(mb.alias_history("data")) == 0  # a known name without aliases: an empty trail


# -- gc: the grace is checked, temporary files of live processes are kept (item 1) ----------------


@pytest.mark.parametrize("grace", [-1, -0.5, float("nan"), "soon", True])
def test_gc_refuses_a_bad_grace(stored: Path, grace: Any, ip: Any) -> None:
    with pytest.raises(mb.ConfigError) as info:
        mb.gc(grace_seconds=grace)
    assert str(info.value) == (
        f"grace_seconds must be a number of seconds >= 0 (0 removes all garbage now), "
        f"not {grace!r}."
    )


def test_gc_magic_refuses_a_negative_grace(stored: Path, ip: Any) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as info:
        ip.run_line_magic("modelbook", "gc --grace -5")
    assert str(info.value) == (
        "grace_seconds must be a number of seconds >= 0 (0 removes all garbage now), not -5.0."
    )


def test_gc_keeps_temporary_files_of_running_processes(stored: Path) -> None:
    from modelbook.registry.objects import FOREIGN_TEMP_SECONDS, temp_host

    tmp = stored / "objects" / "tmp"
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    files = {
        "mine": tmp / f"{temp_host()}_{os.getpid()}_{'1' * 16}.parquet",
        "finished": tmp / f"{temp_host()}_{finished}_{'2' * 16}.parquet",
        "other-host": tmp / f"elsewhere_{os.getpid()}_{'3' * 16}.parquet",
        "old-other-host": tmp / f"elsewhere_{os.getpid()}_{'4' * 16}.parquet",
        "unknown": tmp / "tmpabc.parquet",
    }
    for path in files.values():
        path.write_bytes(b"partial")
    old = time.time() - FOREIGN_TEMP_SECONDS - 60
    os.utime(files["old-other-host"], (old, old))
    assert mb.gc(grace_seconds=0).removed_files == 2
    assert sorted(k for k, p in files.items() if p.exists()) == ["mine", "other-host", "unknown"]


def test_a_staged_blob_survives_gc_until_committed(stored: Path) -> None:
    """A registration stages its file, gc runs at grace 0, then the commit installs it."""
    from modelbook.registry import open_registry

    reg = open_registry()  # local or team, as the test runs
    digest = reg.objects.put_bytes(b"a model's bytes")
    assert mb.gc(grace_seconds=0).removed_files == 0
    assert not reg.objects.path_for(digest).exists()  # not in place before the commit
    row = {
        "name": "staged", "flavor": "pickle", "class_name": "x.Y", "blob": digest,
        "size_bytes": 15, "trusted": False, "params": "{}", "metrics": "{}",
        "environment": "{}", "tags": "{}", "created_at": datetime(2026, 1, 1),
        "created_by": "test",
    }  # fmt: skip
    reg.add_model_version(row, alias=None, by="test")
    assert mb.gc(grace_seconds=0).removed_files == 0
    assert reg.objects.read_verified(digest) == b"a model's bytes"
    assert list((stored / "objects" / "tmp").iterdir()) == []


def test_a_version_naming_a_missing_file_is_never_committed(stored: Path) -> None:
    from modelbook.registry import open_registry

    row = {
        "name": "ghost", "flavor": "pickle", "class_name": "x.Y", "blob": "ab" * 32,
        "size_bytes": 1, "trusted": False, "params": "{}", "metrics": "{}",
        "environment": "{}", "tags": "{}", "created_at": datetime(2026, 1, 1),
        "created_by": "test",
    }  # fmt: skip
    with pytest.raises(mb.IntegrityError) as info:
        open_registry().add_model_version(row, alias=None, by="test")
    assert str(info.value) == (
        f"artifact file {stored / 'objects' / 'ab' / ('ab' * 31)} is missing: refusing to commit "
        "a version that names it; register the object again."
    )
    with pytest.raises(mb.NotFoundError):
        mb.show("ghost")


def test_check_html_survives_a_sanitizer(lineage: Path) -> None:
    """Untrusted notebooks drop <style>: the report must say everything in words."""
    import nh3

    _blob(lineage, "data@1").unlink()
    html = mb.check()._repr_mimebundle_()["text/html"]
    tags = {"table", "thead", "tbody", "tr", "th", "td", "div", "p", "h3", "strong", "code"}
    clean = nh3.clean(html, tags=tags, attributes={"*": {"style"}}, strip_comments=True)
    text = re.sub(r"<[^>]+>", " ", clean)
    assert f"registry {mb.where()}: BROKEN, 1 problem" in text
    assert "broken" in text and "blob.missing" in text and "dataset data@1" in text
    assert "restore objects/" in text and "verified: " in text
