"""The server extension's REST API: authenticated like every Jupyter endpoint, read-only, and
answering from the real registry (entries, versions, details, latest status, monitor runs)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from labserver import Lab, start_lab, stop_lab

from modelbook import api
from modelbook.registry import Registry
from modelbook.server import queries

pytestmark = pytest.mark.browser

ENDPOINTS = [
    "modelbook/api/entries",
    "modelbook/api/entries/churn/versions",
    "modelbook/api/entries/churn/versions/1",
    "modelbook/api/status",
    "modelbook/api/runs?target=churn",
]


@pytest.fixture(scope="module")
def secured(lab_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab with a token, as a user runs it, started in a folder without a registry and
    pointed at the fixture's with the ``ModelbookServer.registry`` setting."""
    server = start_lab(
        tmp_path_factory.mktemp("elsewhere"),
        tmp_path_factory.mktemp("lab-secured"),
        token=secrets.token_hex(16),
        extra=(f"--ModelbookServer.registry={lab_root / '.modelbook'}",),
    )
    yield server
    stop_lab(server)


def _fingerprint(home: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(home.rglob("*")):
        if path.is_file() and path.name != "registry.lock":
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_requests_without_token_are_refused(secured: Lab, path: str) -> None:
    status, _ = secured.get(path)
    assert status in (401, 403)
    status, _ = secured.get(path, token="not-the-token")
    assert status in (401, 403)
    status, _ = secured.get(path, token=secured.token)
    assert status == 200


def test_api_answers_from_the_registry_and_never_writes(secured: Lab, lab_root: Path) -> None:
    home = lab_root / ".modelbook"
    before = _fingerprint(home)
    registry = Registry(home)

    status, body = secured.get("modelbook/api/entries", token=secured.token)
    assert status == 200
    assert body["registry"] == str(home) and body["exists"] is True
    by_name = {e["name"]: e for e in body["entries"]}
    assert set(by_name) == {e["name"] for e in registry.entries()}
    latest = {r["target"]: r for r in registry.latest_monitor_runs()}
    assert by_name["churn"]["kind"] == "model"
    assert by_name["churn"]["aliases"] == {"production": 2, "staging": 1}
    assert by_name["churn"]["status"] == latest["churn"]["status"]
    assert by_name["customers"]["status"] is None

    status, body = secured.get("modelbook/api/entries/churn/versions", token=secured.token)
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][1]["aliases"] == ["production"]
    assert body["versions"][1]["summary"].startswith("LogisticRegression auc=0.83")

    status, body = secured.get("modelbook/api/entries/churn/versions/2", token=secured.token)
    expected = queries.bundle(api.show("churn@2", registry=home))
    assert body == expected
    assert body["type"] == "model_version" and body["data"]["params"]["C"] == 0.5

    status, body = secured.get("modelbook/api/runs?target=churn&limit=1", token=secured.token)
    assert len(body["runs"]) == 1
    run = body["runs"][0]
    assert run["id"] == latest["churn"]["id"]
    status, report = secured.get(f"modelbook/api/runs/{run['id']}", token=secured.token)
    assert report["type"] == "monitor_report" and report["data"]["status"] == run["status"]

    for path, code in [
        ("modelbook/api/entries/nope/versions", 404),
        ("modelbook/api/entries/churn/versions/9", 404),
        ("modelbook/api/runs/0000", 404),
        ("modelbook/api/runs?limit=x", 400),
    ]:
        status, body = secured.get(path, token=secured.token)
        assert status == code, path
        assert body["message"]
    assert _fingerprint(home) == before
