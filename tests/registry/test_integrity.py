"""Damaged, foreign, busy and unwritable registries give clear errors, and lose nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import modelbook as mb


def _blob(registry: Path, ref: str) -> Path:
    con = duckdb.connect(str(registry / "registry.duckdb"), read_only=True)
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
        "version 1: upgrade with `pip install -U modelbook`."
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
