"""The registry suite runs on both backends: ``registry`` is a local folder, or a team registry
(a fresh PostgreSQL database per test, files in a shared folder at ``<registry>/objects``).

A few tests are about the DuckDB file itself (a damaged ``registry.duckdb``, its lock, SQL
run on the file) and stay local: :data:`LOCAL_ONLY` says why for each. Their team
counterparts are in ``test_team_registry.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import modelbook.registry.paths as paths

_PROCS = "its writer processes point MODELBOOK_HOME at a folder (team: test_team_registry.py)"
LOCAL_ONLY: dict[str, str] = {
    # test_concurrency.py: DuckDB's lock file and single-writer file; PostgreSQL's own
    # 20-process, killed-writer and gc races are in test_team_registry.py.
    "test_eight_processes_register_400_versions": _PROCS,
    "test_kill_9_at_random_points_leaves_registry_consistent": _PROCS,
    "test_gc_at_grace_0_never_loses_what_writers_commit": _PROCS,
    # test_integrity.py: the DuckDB file, its lock, and folders as registries.
    "test_newer_schema_is_refused": "it writes the schema row with duckdb (team: "
    "test_team_registry.py::test_newer_schema_is_refused_as_locally)",
    "test_busy_registry_names_the_holder": "it holds the local lock file",
    "test_database_held_open_by_another_process": "it holds registry.duckdb open",
    "test_damaged_metadata_is_a_registry_error": "it damages registry.duckdb",
    "test_check_of_damaged_metadata_verifies_the_files": "it damages registry.duckdb",
    "test_rebuild_recipe_copies_every_table": "the recipe copies registry.duckdb",
    "test_check_names_what_is_broken": "it breaks references with SQL on registry.duckdb",
    "test_files_follow_the_umask": "it checks the mode of registry.duckdb",
    "test_unwritable_registry": "it makes a registry folder unwritable",
}


@pytest.fixture(params=["local", "team"])
def registry(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A registry used by every API call in the test: ``local`` (a folder, MODELBOOK_HOME) or
    ``team`` (PostgreSQL + shared folder). Yields the folder whose ``objects/`` holds files."""
    name = request.node.originalname
    if request.param == "team":
        if name in LOCAL_ONLY:
            pytest.skip(f"local only: {LOCAL_ONLY[name]}")
        yield request.getfixturevalue("team_registry")
        return
    home = tmp_path / ".modelbook"
    monkeypatch.setenv("MODELBOOK_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    paths.set_session_home(None)
    yield home
    paths.set_session_home(None)
