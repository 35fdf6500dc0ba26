"""Where the registry is: folders and PostgreSQL URLs, and credentials that are never shown."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import modelbook as mb
from modelbook.registry.location import Location, parse_location, scrub, team_cache
from modelbook.registry.paths import find_location


@pytest.mark.parametrize(
    ("url", "display"),
    [
        ("postgresql://ann:pw1@db.example:5433/mb", "postgresql://ann@db.example:5433/mb"),
        ("postgres://ann@db.example/mb", "postgres://ann@db.example/mb"),
        ("postgresql://db.example/mb?password=pw1&sslmode=require",
         "postgresql://db.example/mb?sslmode=require"),
        ("postgresql://ann:p%40ss@db/mb", "postgresql://ann@db/mb"),
    ],
)  # fmt: skip
def test_a_url_is_shown_without_its_password(url: str, display: str) -> None:
    location = parse_location(url)
    assert location.is_team and location.url == url
    assert str(location) == display and f"{location}" == display and display in repr(location)
    assert location.path is None
    assert location.home() == team_cache(display)
    assert "pw1" not in str(location.home()) and "p%40ss" not in str(location.home())


def test_objects_in_the_url_are_taken_out_before_connecting() -> None:
    location = parse_location("postgresql://ann:pw@db/mb?objects=s3://bucket/team&sslmode=require")
    assert location.objects == "s3://bucket/team"
    assert location.url == "postgresql://ann:pw@db/mb?sslmode=require"
    assert str(location) == "postgresql://ann@db/mb?sslmode=require"


def test_a_location_survives_pickling_with_its_credentials() -> None:
    location = parse_location("postgresql://ann:pw@db/mb")
    copy = pickle.loads(pickle.dumps(location))
    assert isinstance(copy, Location) and copy.url == location.url and str(copy) == str(location)


def test_scrub_removes_passwords_from_any_text() -> None:
    text = (
        'connection to "postgresql://ann:hunter22@db/mb" failed; dsn: host=db password=hunter22 '
        "user=ann; again hunter22"
    )
    cleaned = scrub(text, "hunter22")
    assert "hunter22" not in cleaned
    assert "postgresql://ann@db/mb" in cleaned and "password=***" in cleaned


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("postgresql://ann@db", "the team registry URL postgresql://ann@db names no database: add "
         "it, e.g. postgresql://user@host/modelbook."),
        ("mysql://ann@db/mb", "a registry at mysql:// is not supported: use a folder path or a "
         "postgresql://user@host/database URL (the files of a team registry go to "
         "MODELBOOK_OBJECTS)."),
    ],
)  # fmt: skip
def test_bad_locations_are_one_line_config_errors(value: str, message: str) -> None:
    with pytest.raises(mb.ConfigError) as info:
        parse_location(value)
    assert str(info.value) == message


def test_precedence_env_then_pyproject_then_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELBOOK_HOME", raising=False)
    monkeypatch.delenv("MODELBOOK_OBJECTS", raising=False)
    assert find_location() == str(tmp_path / ".modelbook")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.modelbook.registry]\nurl = "postgresql://team@db/mb"\nobjects = "/srv/shared"\n'
    )
    found = find_location()
    assert found.is_team and str(found) == "postgresql://team@db/mb"
    assert found.objects == "/srv/shared"
    monkeypatch.setenv("MODELBOOK_OBJECTS", "s3://b/p")
    assert find_location().objects == "s3://b/p"  # the environment beats the file
    monkeypatch.setenv("MODELBOOK_HOME", str(tmp_path / "elsewhere"))
    assert find_location() == str(tmp_path / "elsewhere")  # and MODELBOOK_HOME beats both
    explicit = find_location("postgresql://x:pw@h/db")
    assert explicit.url == "postgresql://x:pw@h/db" and explicit.objects == "s3://b/p"
    (tmp_path / "pyproject.toml").write_text('[tool.modelbook.registry]\nurls = "x"\n')
    monkeypatch.delenv("MODELBOOK_HOME")
    with pytest.raises(mb.ConfigError, match="unknown setting 'urls' in"):
        find_location()
