"""Alert delivery: the JSON-lines log, a webhook on a real local HTTP server, a real command."""

from __future__ import annotations

import http.server
import json
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headless_helpers import Churn

import modelbook
from modelbook.alerts import (
    PAYLOAD_SCHEMA,
    AlertSettings,
    deliver,
    deliver_payload,
    read_alert_log,
)
from modelbook.errors import ConfigError


class _Server:
    """An HTTP server on 127.0.0.1 that records POSTs and answers with scripted codes."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes  # the last one repeats
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                )
                code = server.codes[min(len(server.requests), len(server.codes)) - 1]
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/T000/secret"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[_Server]:
    marker = request.node.get_closest_marker("codes")
    srv = _Server(list(marker.args) if marker else [200])
    yield srv
    srv.close()


PAYLOAD = {
    "schema": PAYLOAD_SCHEMA,
    "text": "modelbook: churn@1: 1 alert: drifted",
    "status": "alert",
    "run_id": "r-1",
    "target": "churn@1",
    "alerts": [{"check": "drift.column", "column": "age", "message": "drifted"}],
}


def _settings(**kwargs: Any) -> AlertSettings:
    return AlertSettings.from_mapping({"backoff": 0.01, "timeout": 5, **kwargs})


def test_webhook_receives_the_payload(
    server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "s3cret")
    settings = _settings(webhook=server.url, headers={"Authorization": "Bearer ${HOOK_TOKEN}"})
    delivery = deliver_payload(PAYLOAD, settings, home=tmp_path)
    assert delivery.ok and delivery.delivered
    assert [(r.sink, r.ok, r.attempts) for r in delivery.results] == [
        ("log", True, 1),
        ("webhook", True, 1),
    ]
    [request] = server.requests
    assert request["body"] == PAYLOAD
    assert request["path"] == "/hooks/T000/secret"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    # the secret path is never repeated in results or logs
    assert delivery.results[1].target == f"http://127.0.0.1:{server.httpd.server_address[1]}/…"
    [line] = read_alert_log(tmp_path)
    assert (
        line["type"] == "alert" and line["run_id"] == "r-1" and line["alerts"] == PAYLOAD["alerts"]
    )


@pytest.mark.codes(500)
def test_failing_webhook_is_retried_a_bounded_number_of_times(
    server: _Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="modelbook.alerts"):
        delivery = deliver_payload(
            PAYLOAD, _settings(webhook=server.url, attempts=3), home=tmp_path
        )
    assert len(server.requests) == 3
    [failure] = delivery.failures
    assert (failure.sink, failure.attempts, failure.error) == (
        "webhook",
        3,
        "HTTP 500 Internal Server Error",
    )
    port = server.httpd.server_address[1]
    assert caplog.messages == [
        f"modelbook: alert webhook http://127.0.0.1:{port}/… failed after 3 tries "
        "(HTTP 500 Internal Server Error); the monitor run r-1 is stored."
    ]
    log = read_alert_log(tmp_path)
    assert [e["type"] for e in log] == ["alert", "delivery_failed"]
    assert log[1]["sink"] == "webhook" and log[1]["attempts"] == 3


@pytest.mark.codes(503, 200)
def test_webhook_recovers_on_retry(server: _Server, tmp_path: Path) -> None:
    delivery = deliver_payload(PAYLOAD, _settings(webhook=server.url), home=tmp_path)
    assert delivery.ok and delivery.results[1].attempts == 2
    assert len(server.requests) == 2


@pytest.mark.codes(404)
def test_client_errors_are_not_retried(server: _Server, tmp_path: Path) -> None:
    delivery = deliver_payload(PAYLOAD, _settings(webhook=server.url), home=tmp_path)
    assert len(server.requests) == 1
    assert delivery.failures[0].error == "HTTP 404 Not Found"


def test_unreachable_webhook(tmp_path: Path) -> None:
    closed = _Server([200])
    url = closed.url
    closed.close()  # nothing listens on the port any more
    delivery = deliver_payload(PAYLOAD, _settings(webhook=url, attempts=2), home=tmp_path)
    [failure] = delivery.failures
    assert failure.attempts == 2 and failure.error.startswith("cannot connect (")


def test_command_gets_the_payload_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "received.json"
    script = (
        "import os, pathlib, sys; data = sys.stdin.read(); "
        f"pathlib.Path({str(out)!r}).write_text(os.environ['MODELBOOK_ALERT_STATUS'] + data)"
    )
    delivery = deliver_payload(
        PAYLOAD, _settings(command=[sys.executable, "-c", script]), home=tmp_path
    )
    assert delivery.ok
    text = out.read_text()
    assert text.startswith("alert") and json.loads(text[len("alert") :]) == PAYLOAD


def test_failing_command_is_retried_then_reported(tmp_path: Path) -> None:
    tries = tmp_path / "tries"
    script = (
        f"import sys; open({str(tries)!r}, 'a').write('x'); "
        "sys.stderr.write('pager down\\n'); sys.exit(4)"
    )
    delivery = deliver_payload(
        PAYLOAD, _settings(command=[sys.executable, "-c", script], attempts=2), home=tmp_path
    )
    assert tries.read_text() == "xx"
    assert delivery.failures[0].error == "exit status 4: pager down"


def test_missing_command_is_not_retried(tmp_path: Path) -> None:
    delivery = deliver_payload(
        PAYLOAD, _settings(command="/nonexistent/notify --now"), home=tmp_path
    )
    [failure] = delivery.failures
    assert (failure.attempts, failure.error) == (1, "command not found: /nonexistent/notify")


def test_statuses_outside_on_are_not_delivered(tmp_path: Path) -> None:
    delivery = deliver_payload({**PAYLOAD, "status": "ok"}, _settings(), home=tmp_path)
    assert not delivery.delivered and delivery.results == ()
    assert read_alert_log(tmp_path) == []
    delivery = deliver_payload(
        {**PAYLOAD, "status": "ok"}, _settings(on=["ok", "alert"]), home=tmp_path
    )
    assert delivery.delivered and len(read_alert_log(tmp_path)) == 1


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"webhok": "x"}, "unknown setting 'webhok' in [alerts]; allowed: on, webhook, headers, "
         "command, attempts, backoff, timeout, log."),
        ({"on": ["alarm"]}, "on = ['alarm'] in [alerts] must list run statuses from: ok, alert, "
         "error."),
        ({"webhook": "ftp://x/y"}, "webhook 'ftp://x/…' in [alerts] must be an http:// or "
         "https:// URL."),
        ({"webhook": 3}, "webhook in [alerts] must be a URL string."),
        ({"headers": {"a": 1}}, "headers in [alerts] must be a table of strings."),
        ({"command": []}, "command in [alerts] must be a command line or a list of strings, "
         'e.g. ["notify", "--team", "ml"].'),
        ({"attempts": 0}, "attempts = 0 in [alerts] must be a whole number 1-10."),
        ({"backoff": -1}, "backoff = -1 in [alerts] must be 0-60 seconds."),
        ({"timeout": "5"}, "timeout = '5' in [alerts] must be 0-300 seconds."),
        ({"log": "yes"}, "log = 'yes' in [alerts] must be true or false."),
    ],
)  # fmt: skip
def test_invalid_settings(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        AlertSettings.from_mapping(table)
    assert str(info.value) == message


# -- with the monitor engine --------------------------------------------------------------------


def _configure(home: Path, text: str) -> None:
    (home / "monitor.toml").write_text(text)


def test_monitor_run_delivers_its_alerts(churn: Churn, server: _Server) -> None:
    _configure(churn.home, f'[alerts]\nwebhook = "{server.url}"\nbackoff = 0.01\n')
    ok = modelbook.monitor("churn", data=str(churn.ok), target="churned")
    assert ok.status == "ok" and server.requests == []  # 'ok' is not delivered by default
    report = modelbook.monitor("churn", data=str(churn.drift), target="churned")
    assert report.status == "alert"
    [request] = server.requests
    payload = request["body"]
    assert payload["schema"] == "modelbook.alert/1"
    assert payload["run_id"] == report.run_id and payload["target"] == "churn@1"
    assert payload["status"] == "alert" and payload["n_alerts"] == len(report.alerts)
    assert {a["check"] for a in payload["alerts"]} == {c.check for c in report.alerts}
    assert payload["drift_share"] == pytest.approx(report.drift_share)
    assert payload["registry"] == str(churn.home)
    assert payload["text"].startswith(f"modelbook: churn@1: {len(report.alerts)} alerts: ")
    assert [e["run_id"] for e in read_alert_log(churn.home)] == [report.run_id]
    assert set(payload) == set(_documented_payload())  # docs/headless.md stays true
    assert set(payload["alerts"][0]) == set(_documented_payload()["alerts"][0])


def _documented_payload() -> dict[str, Any]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "headless.md").read_text()
    section = text[text.index("### The payload") :]
    start = section.index("```json") + len("```json")
    block = section[start : section.index("```", start)]
    payload: dict[str, Any] = json.loads(block)
    return payload


@pytest.mark.codes(500)
def test_failing_sink_never_loses_the_run(
    churn: Churn, server: _Server, caplog: pytest.LogCaptureFixture
) -> None:
    _configure(churn.home, f'[alerts]\nwebhook = "{server.url}"\nbackoff = 0.01\nattempts = 2\n')
    with caplog.at_level(logging.WARNING, logger="modelbook.alerts"):
        report = modelbook.monitor("churn", data=str(churn.drift), target="churned")
    assert len(server.requests) == 2
    assert [r.run_id for r in modelbook.history("churn").runs] == [report.run_id]
    assert "failed after 2 tries (HTTP 500 Internal Server Error)" in caplog.text
    assert [e["type"] for e in read_alert_log(churn.home)] == ["alert", "delivery_failed"]


def test_deliver_builds_the_payload_from_a_report(churn: Churn, tmp_path: Path) -> None:
    _configure(churn.home, "[alerts]\nlog = false\n")
    report = modelbook.monitor("churn", data=str(churn.drift), target="churned")
    out = tmp_path / "payload.json"
    script = f"import pathlib, sys; pathlib.Path({str(out)!r}).write_text(sys.stdin.read())"
    delivery = deliver(report, settings=_settings(command=[sys.executable, "-c", script]))
    assert delivery.ok
    payload = json.loads(out.read_text())
    assert payload["run_id"] == report.run_id
    assert payload["started_at"] == report.started_at.isoformat(timespec="seconds")
    # the engine's own delivery honoured log = false; only this explicit call logged
    assert [e["run_id"] for e in read_alert_log(churn.home)] == [report.run_id]
