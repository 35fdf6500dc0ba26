"""push / pull: copy a version and everything it references between two registries.

Real parts throughout: DuckDB registry folders, the ``modelbook`` command in subprocesses, the
magic in a real kernel, and (when PostgreSQL is installed) a team registry on a real PostgreSQL
server with its files on a real S3-compatible server.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from headless_helpers import CliRunner

import modelbook as mb
from modelbook.errors import ConfigError, IntegrityError, NotFoundError
from modelbook.results import TransferReport

# Tables whose rows a model version takes along, and the rows the template holds in them.
_TABLES = ("entries", "model_versions", "dataset_versions", "column_profiles",
           "reference_predictions", "derived_statistics")  # fmt: skip


@dataclass(frozen=True)
class World:
    home: Path  # a registry with bc@1 (training + eval data, monitored once), alias production
    batch: pd.DataFrame  # a batch with labels in column 'y'


def _build(folder: Path) -> World:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(X.iloc[:300], y.iloc[:300])
    home = folder / "laptop"
    mb.register(
        model, name="bc", data=X.iloc[:300], target=y.iloc[:300], eval_data=X.iloc[300:],
        eval_target=y.iloc[300:], alias="production", registry=home,
    )  # fmt: skip
    batch = X.iloc[300:].assign(y=y.iloc[300:])
    mb.monitor("bc", data=batch, target="y", store="profile", registry=home)  # stores ref preds
    reg = mb.api.open_registry(home)
    reg.store_derived_statistic("fairness_baseline", "bc", 1, "k", {"ratio": 0.93})
    reg.store_derived_statistic("segment_profiles", "bc-training", 1, "k", {"rows": 300})
    return World(home, batch)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    return _build(tmp_path_factory.mktemp("push-template"))


@pytest.fixture
def world(template: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    home = tmp_path / "laptop"
    shutil.copytree(template.home, home)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODELBOOK_HOME", str(home))
    monkeypatch.setenv("MODELBOOK_CACHE", str(tmp_path / "cache"))
    return World(home, template.batch)


def _rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(home / "registry.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _counts(home: Path) -> dict[str, int]:
    return {t: int(_rows(home, f"SELECT count(*) FROM {t}")[0][0]) for t in _TABLES}


def _blobs(home: Path) -> set[str]:
    sql = (
        "SELECT blob FROM model_versions UNION SELECT blob FROM dataset_versions "
        "UNION SELECT estimator FROM model_versions WHERE estimator IS NOT NULL "
        "UNION SELECT loss_model FROM model_versions WHERE loss_model IS NOT NULL"
    )
    return {str(r[0]) for r in _rows(home, sql)}


# -- local → local --------------------------------------------------------------------------------


def test_push_copies_the_version_and_everything_it_references(world: World, tmp_path: Path) -> None:
    team = tmp_path / "team"
    result = mb.push("bc@production", to=team)
    assert isinstance(result, TransferReport) and result.copied
    assert (result.action, result.entry, result.name) == ("push", "model", "bc")
    assert (result.source_version, result.version) == (1, 1)
    assert [(v.name, v.role, v.copied) for v in result.versions] == [
        ("bc", "target", True), ("bc-training", "training", True),
        ("bc-eval", "evaluation", True),
    ]  # fmt: skip
    assert _counts(team) == {**_counts(world.home), "entries": 3}
    assert _blobs(team) == _blobs(world.home)  # content hashes kept
    assert result.files == len(_blobs(world.home)) and result.bytes > 0
    assert result.tables["reference_predictions"] == 1
    assert result.tables["derived_statistics"] == 2
    # Everything the copy names is there and verifies, lineage included.
    assert mb.check(registry=team).ok
    shown = mb.show("bc@1", registry=team)
    assert shown.train_dataset == "bc-training@1"
    assert shown.tags["origin"] == f"bc@1 at {world.home}"
    assert shown.aliases == ()  # aliases are the destination's decision (see alias=)
    same = ("multivariate", "fingerprint", "n_rows")
    for name in ("bc-training", "bc-eval"):
        cols = ", ".join(same)
        sql = f"SELECT {cols} FROM dataset_versions WHERE name = '{name}'"
        assert _rows(team, sql) == _rows(world.home, sql)
    X = world.batch.drop(columns="y")
    assert (mb.load("bc@1", registry=team).predict(X) == mb.load("bc@1").predict(X)).all()
    # Monitoring the copy reads the copied profiles and reference predictions: same verdicts.
    here = mb.monitor("bc@1", data=world.batch, target="y", store="none")
    there = mb.monitor("bc@1", data=world.batch, target="y", store="none", registry=team)
    assert [(c.check, c.status) for c in there.checks] == [(c.check, c.status) for c in here.checks]
    assert there.drift is not None and here.drift is not None
    assert there.drift.drifted_share == here.drift.drifted_share


def test_pushing_what_is_there_copies_nothing(world: World, tmp_path: Path) -> None:
    team = tmp_path / "team"
    mb.push("bc@1", to=team)
    before = _counts(team)
    again = mb.push("bc", to=team)
    assert not again.copied and again.files == 0 and again.rows == 0 and again.versions == ()
    assert str(again) == f"model bc@1 is already at {team} as bc@1: nothing copied"
    assert _counts(team) == before
    moved = mb.push("bc", to=team, alias="staging")  # the alias may still move
    assert not moved.copied and moved.alias_moved
    assert str(moved).endswith("nothing copied; alias staging → 1")
    assert mb.show("bc@staging", registry=team).version == 1


def test_destination_numbers_its_own_versions(world: World, tmp_path: Path) -> None:
    """The team registry already has bc@1 and bc@2 (other models): the copy is bc@3, its
    training data the next dataset version, and the lineage points at the new numbers."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    team = tmp_path / "team"
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    for depth in (1, 2):
        tree = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X.iloc[:200], y[:200])
        mb.register(tree, name="bc", data=X.iloc[:200], target=y.iloc[:200], registry=team)
    result = mb.push("bc@1", to=team)
    assert result.copied and result.version == 3 and result.ref == "bc@3"
    assert [(v.name, v.source_version, v.version) for v in result.versions] == [
        ("bc", 1, 3), ("bc-training", 1, 2), ("bc-eval", 1, 1),
    ]  # fmt: skip
    assert mb.show("bc@3", registry=team).train_dataset == "bc-training@2"
    preds = _rows(team, "SELECT model_version, dataset, dataset_version FROM reference_predictions")
    assert preds == [(3, "bc-training", 2)]
    derived = _rows(team, "SELECT kind, name, version FROM derived_statistics ORDER BY kind")
    assert derived == [("fairness_baseline", "bc", 3), ("segment_profiles", "bc-training", 2)]
    assert mb.check(registry=team).ok


def test_pull_with_alias_and_a_dataset(world: World, tmp_path: Path) -> None:
    team = tmp_path / "team"
    mb.push("bc@1", to=team, alias="production")
    fresh = tmp_path / "fresh"
    pulled = mb.pull("bc@production", from_=team, alias="production", registry=fresh)
    assert pulled.action == "pull" and pulled.copied and pulled.alias_moved
    assert str(pulled).startswith(f"pulled model bc@1 from {team} to {fresh} as bc@1 with ")
    assert mb.show("bc@production", registry=fresh).version == 1
    assert _blobs(fresh) == _blobs(world.home)
    data = mb.pull("bc-eval@1", from_=team, registry=tmp_path / "data-only")
    assert data.entry == "dataset" and data.copied and data.files == 1
    assert mb.ls(registry=tmp_path / "data-only").rows[0][0] == "bc-eval"


def test_a_tampered_source_is_refused_and_nothing_is_written(world: World, tmp_path: Path) -> None:
    blob = str(_rows(world.home, "SELECT blob FROM model_versions")[0][0])
    path = world.home / "objects" / blob[:2] / blob[2:]
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    team = tmp_path / "team"
    with pytest.raises(IntegrityError, match="does not match its recorded hash"):
        mb.push("bc@1", to=team)
    assert not (team / "registry.duckdb").exists() or _counts(team)["model_versions"] == 0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda w: mb.push("bc@1", to=w.home), ConfigError,
         "push copies between two registries, but both are {home}: name the other one with --to."),
        (lambda w: mb.push("nope@1", to=w.home.parent / "t"), NotFoundError,
         "no model or dataset named 'nope'; registered: bc, bc-eval, bc-training."),
        (lambda w: mb.pull("bc@1", from_=w.home.parent / "nothing"), NotFoundError,
         "no registry at {parent}/nothing (the folder does not exist)"),
    ],
)  # fmt: skip
def test_errors_are_one_line(world: World, call: Any, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        call(world)
    text = str(info.value)
    assert text.startswith(message.format(home=world.home, parent=world.home.parent))
    assert "\n" not in text


def test_result_renders_text_html_and_mime(world: World, tmp_path: Path) -> None:
    result = mb.push("bc@1", to=tmp_path / "team")
    bundle = result._repr_mimebundle_()
    assert bundle["text/plain"].splitlines()[0] == result.summary()
    assert "dataset (training)" in bundle["text/plain"]
    assert result.summary() in bundle["text/html"].replace("&#x27;", "'")
    assert "<table>" in bundle["text/html"] and "<script" not in bundle["text/html"]
    data = bundle["application/vnd.modelbook.v1+json"]
    assert data["type"] == "transfer" and data["data"]["version"] == 1
    assert data["data"]["versions"][1]["role"] == "training"


# -- the shells: CLI, magic, keyword parity --------------------------------------------------------


def _subparser(parser: Any, name: str) -> Any:
    return next(
        p
        for action in parser._actions
        if action.dest == "command"
        for verb, p in action.choices.items()
        if verb == name
    )


def test_every_push_pull_flag_is_an_api_keyword() -> None:
    from modelbook import cli, magics

    for name, function in (("push", mb.push), ("pull", mb.pull)):
        keywords = set(inspect.signature(function).parameters)
        for parser in (_subparser(magics.MODELBOOK, name), _subparser(cli.build_parser(), name)):
            flags = {a.dest for a in parser._actions if a.option_strings}
            flags -= {"help", "json", "registry"}
            assert flags == {"to" if name == "push" else "from_", "alias"} <= keywords


def test_cli_push_and_pull(world: World, cli: CliRunner, tmp_path: Path) -> None:
    team = tmp_path / "team"
    done = cli("push", "bc@production", "--to", str(team), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["copied"], data["version"], data["destination"]) == (True, 1, str(team))
    done = cli("push", "bc@1", "--to", str(team))
    assert done.returncode == 0
    assert done.stdout.strip() == f"model bc@1 is already at {team} as bc@1: nothing copied"
    fresh = tmp_path / "fresh"
    done = cli("pull", "bc@1", "--from", str(team), "--registry", str(fresh), "--alias", "prod")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"pulled model bc@1 from {team} to {fresh} as bc@1 with ")
    assert mb.show("bc@prod", registry=fresh).version == 1
    done = cli("push", "bc@1")
    assert done.returncode == 2 and "the following arguments are required: --to" in done.stderr
    done = cli("push", "bc@9", "--to", str(team), "--json")
    assert done.returncode == 3
    assert json.loads(done.stdout)["error"]["type"] == "NotFoundError"
    assert done.stderr.strip().count("\n") == 0


def test_magic_in_a_real_kernel(world: World, tmp_path: Path) -> None:
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELBOOK_")}
    env["MODELBOOK_HOME"] = str(world.home)
    team = tmp_path / "team"
    code = (
        "%load_ext modelbook\n"
        f"r = %modelbook push bc@1 --to {team}\n"
        "print('RESULT', r.copied, r.version, r.files > 0)\n"
        f"r = %modelbook pull bc@1 --from {team} --alias prod\n"
        "print('AGAIN', r.copied, r.alias_moved)\n"
        f"%modelbook push bc@1 --to {world.home}\n"
    )
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    out: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append(f"ERROR {msg['content']['ename']}: {msg['content']['evalue']}")

    try:
        kc.execute_interactive(code, timeout=180, output_hook=hook)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    text = "".join(out)
    assert "RESULT True 1 True" in text
    assert "AGAIN False True" in text  # there already: nothing copied, the alias moved
    assert f"UsageError: push copies between two registries, but both are {world.home}" in text
    assert "Traceback" not in text


# -- local ↔ team (PostgreSQL + S3) ----------------------------------------------------------------


@pytest.fixture
def pg(pg_server: Any) -> Any:
    """The session's PostgreSQL server (tests/conftest.py; skipped with the reason when the
    binaries are missing)."""
    return pg_server


def test_push_to_a_team_registry_and_pull_back(
    world: World, pg: Any, s3_objects: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelbook.registry.remote_objects import parse_s3
    from team_server import PASSWORD

    monkeypatch.setenv("MODELBOOK_OBJECTS", s3_objects)
    url = pg.url(pg.fresh_database())
    pushed = mb.push("bc@production", to=url)
    assert pushed.copied and pushed.version == 1 and PASSWORD not in str(pushed)
    assert PASSWORD not in json.dumps(pushed.to_dict())
    assert mb.push("bc@1", to=url).copied is False
    where = parse_s3(s3_objects)
    from s3_server import client

    listed = client(where.endpoint).list_objects_v2(Bucket=where.bucket).get("Contents", [])
    assert {o["Key"].replace("registry/", "").replace("/", "") for o in listed} == _blobs(
        world.home
    )
    origin = pg.admin("SELECT tags FROM model_versions", url.rsplit("/", 1)[1])[0][0]
    assert json.loads(str(origin))["origin"] == f"bc@1 at {world.home}"
    back = tmp_path / "back"
    pulled = mb.pull("bc@1", from_=url, registry=back)
    assert pulled.copied and _blobs(back) == _blobs(world.home)
    assert mb.check(registry=back).ok
    X = world.batch.drop(columns="y")
    assert (mb.load("bc@1", registry=back).predict(X) == mb.load("bc@1").predict(X)).all()
    assert (mb.load("bc@1", registry=url).predict(X) == mb.load("bc@1").predict(X)).all()


def test_cli_init_and_push_to_a_team_registry(
    world: World, pg: Any, s3_objects: str, cli: CliRunner, tmp_path: Path
) -> None:
    """The README's set-up, as a teammate types it: init records the objects location, so the
    push needs only the URL; the password never shows."""
    from team_server import PASSWORD

    url = pg.url(pg.fresh_database())
    env = {"MODELBOOK_HOME": url, "MODELBOOK_OBJECTS": s3_objects}
    done = cli("init", "--objects", s3_objects, env=env)
    assert done.returncode == 0, done.stderr
    env = {"MODELBOOK_HOME": url, "MODELBOOK_OBJECTS": ""}  # readers need only the URL
    done = cli("push", "bc@1", "--registry", str(world.home), "--to", url, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"pushed model bc@1 from {world.home} to postgresql://postgres@")
    done = cli("push", "bc@1", "--registry", str(world.home), "--to", url, env=env)
    assert done.stdout.strip().endswith("as bc@1: nothing copied")
    done = cli("pull", "bc@1", "--from", url, "--registry", str(tmp_path / "mine"), env=env)
    assert done.returncode == 0, done.stderr
    assert all(PASSWORD not in d.stdout + d.stderr for d in [done])
    assert mb.check(registry=tmp_path / "mine").ok
