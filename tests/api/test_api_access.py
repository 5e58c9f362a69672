"""Who may reach the API: tokens, roles, the open viewer on loopback, CORS when configured,
and settings refused before anything starts."""

from __future__ import annotations

import re

import httpx
import pytest
from api_helpers import AS_OPERATOR, AS_VIEWER, EVENT_LOOPS, TOKENS, RunningNight

from nocturna.api.auth import TokenBook, hash_token
from nocturna.api.server import ApiServer
from nocturna.cli.main import main
from nocturna.core.errors import ConfigError
from unit_helpers import unit_config

ORIGIN = "http://dashboard.example.test"


@pytest.fixture(scope="module")
def open_night(tmp_path_factory):
    with RunningNight(tmp_path_factory.mktemp("open"), EVENT_LOOPS["uvloop"],
                      open_viewer=True, cors_origins=[ORIGIN]) as running:
        yield running


def test_an_open_viewer_reads_without_a_token_but_cannot_command(open_night):
    with httpx.Client(base_url=open_night.url, timeout=60) as client:
        assert client.get("/api/status").status_code == 200
        assert client.get("/api/whoami").json() == {"name": "anonymous", "role": "viewer"}
        assert client.post("/api/park").status_code == 401
        assert client.post("/api/park", headers=AS_VIEWER).status_code == 403
        wrong = client.get("/api/status", headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401  # a wrong token is not taken for no token


def test_cors_answers_the_configured_origin_only(open_night):
    with httpx.Client(base_url=open_night.url, timeout=60) as client:
        allowed = client.get("/api/status", headers={"Origin": ORIGIN})
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        other = client.get("/api/status", headers={"Origin": "http://elsewhere.test"})
        assert "access-control-allow-origin" not in other.headers
        preflight = client.options("/api/park", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization"})
        assert preflight.status_code == 200
        assert client.post("/api/park", headers={**AS_OPERATOR, "Origin": ORIGIN}) \
            .status_code == 202


def test_beyond_loopback_the_api_refuses_to_start_without_tokens(tmp_path):
    settings = unit_config(tmp_path).model.api
    with pytest.raises(ConfigError, match=r"api.host = '0.0.0.0'.*needs tokens"):
        ApiServer(settings, host="0.0.0.0", port=0)
    opened = unit_config(tmp_path, api={"tokens": TOKENS, "open_viewer": True}).model.api
    with pytest.raises(ConfigError, match="open_viewer is allowed only on loopback"):
        ApiServer(opened, host="0.0.0.0", port=0)


def test_nocturna_run_refuses_a_remote_api_without_tokens_before_the_night(tmp_path, capsys):
    code = main(["--data", str(tmp_path), "run", "--simulate", "--api-host", "0.0.0.0"])
    err = capsys.readouterr().err
    assert code == 2 and "needs tokens" in err and err.count("\n") == 1
    assert not (tmp_path / "nocturna.sqlite").exists()


def test_nocturna_run_says_the_api_port_is_busy_before_the_night(tmp_path, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = main(["--data", str(tmp_path), "run", "--simulate", "--api-port", str(port)])
    err = capsys.readouterr().err
    assert code == 2 and f"127.0.0.1:{port}" in err and "--api-port" in err
    assert not (tmp_path / "nocturna.sqlite").exists()


def test_nocturna_run_without_tokens_says_how_to_make_one(tmp_path, capsys):
    code = main(["--data", str(tmp_path), "run", "--simulate", "--api-port", "0",
                 "--start", "2026-12-15T09:00Z", "--until", "2026-12-15T09:05Z"])
    out = capsys.readouterr().out
    assert code == 0
    assert "API and dashboard: http://127.0.0.1:" in out
    assert "no API tokens yet" in out and "nocturna api token --name NAME" in out


def test_a_new_token_is_printed_once_with_the_entry_to_paste(capsys):
    assert main(["api", "token", "--name", "night-assistant", "--role", "operator"]) == 0
    out = capsys.readouterr().out
    token = out.splitlines()[1]
    entry = re.search(r'\{name: night-assistant, role: operator, hash: "(sha256:[0-9a-f]{64})"\}',
                      out)
    assert entry and entry[1] == hash_token(token) and out.count(token) == 1
    from nocturna.core.config.models import ApiToken

    book = TokenBook([ApiToken(name="night-assistant", role="operator", hash=entry[1])])
    assert book.authorize(token, "operator").name == "night-assistant"
    assert main(["api", "token", "--name", "x", "--role", "admin"]) == 2


def test_a_token_in_the_site_file_must_be_a_hash(tmp_path):
    with pytest.raises(ConfigError, match="hash"):
        unit_config(tmp_path, api={"tokens": [{"name": "a", "role": "viewer",
                                               "hash": "plain-token"}]})
