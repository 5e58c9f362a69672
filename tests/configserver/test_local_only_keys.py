"""Keys that decide access or where data goes cannot be changed over the network."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from nocturna.cli.main import main
from nocturna.configserver.client import ConfigClient
from nocturna.configserver.runner import start_in_thread
from nocturna.core.config import Config, local_path_for
from nocturna.core.config.local_only import LocalOnlyKeyError, local_only_keys

NETWORK_REFUSED = [
    ("config_server.host", "0.0.0.0"),
    ("config_server.token", "chosen-by-the-caller"),
    ("config_server.port", 8080),
    ("config_server.save", False),
    ("config_server", {"host": "0.0.0.0", "port": 6563, "save": True, "token": "x"}),
    ("data_dir", "/tmp/elsewhere"),
    ("storage.url", "postgresql+psycopg://evil@example.org/db"),
    ("storage", {"url": "sqlite:////tmp/other.db"}),
    ("observatory.pointing.solver.program", "/tmp/not-solve-field"),
    ("observatory.pointing.solver", {"program": "x"}),
    ("observatory.pointing", {"enabled": False}),
    ("azcam.sendimage.host", "images.example.org"),
    ("logging.file", "/tmp/overwritten.log"),
]


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(f"name: guarded-unit\ndata_dir: {tmp_path / 'data'}\n")
    return path


@pytest.fixture
def service(site_file):
    running = start_in_thread(Config.load(site_file, environ={}), save_delay=0.01)
    yield running
    running.stop()


def test_the_declared_set_covers_the_service_data_and_database():
    keys = {".".join(map(str, key)) for key in local_only_keys()}
    assert {"config_server", "data_dir", "storage.url"} <= keys


@pytest.mark.parametrize(("key", "value"), NETWORK_REFUSED)
def test_setting_a_local_only_key_over_http_is_403_naming_it(service, site_file, key, value):
    before = httpx.get(f"{service.url}/config", params={"key": key}).json()["value"]
    response = httpx.post(f"{service.url}/config", json={"key": key, "value": value})
    assert response.status_code == 403
    message = response.json()["error"]
    assert f"cannot set {key} over the network" in message
    assert "only be changed in the site file or the local override file" in message
    assert httpx.get(f"{service.url}/config", params={"key": key}).json()["value"] == before
    time.sleep(0.05)  # a save would have been written by now (save_delay 0.01 s)
    assert not local_path_for(site_file).exists()


def test_the_refusal_names_the_local_only_key_inside_a_section(service):
    response = httpx.post(f"{service.url}/config",
                          json={"key": "observatory.pointing", "value": {"enabled": False}})
    assert "(it holds observatory.pointing.solver.program)" in response.json()["error"]


def test_the_panoptes_set_endpoint_is_refused_too(service):
    response = httpx.post(f"{service.url}/set-config", json={"config_server.host": "0.0.0.0"})
    assert response.status_code == 403


def test_a_takeover_does_not_survive_a_restart(site_file):
    config = Config.load(site_file, environ={})
    with start_in_thread(config, save_delay=0.01) as running:
        client = ConfigClient(running.url)
        for key, value in (("config_server.host", "0.0.0.0"), ("config_server.token", "mine")):
            with pytest.raises(LocalOnlyKeyError, match=key.replace(".", r"\.")):
                client.set(key, value)
        client.set("name", "renamed")  # an ordinary key is still saved
    restarted = Config.load(site_file, environ={})
    assert restarted.get("config_server.host") == "127.0.0.1"
    assert restarted.get("config_server.token") is None
    assert restarted.get("name") == "renamed"


def test_saved_local_only_values_cannot_be_forgotten_over_http(site_file):
    local = local_path_for(site_file)
    local.write_text("config_server:\n  token: hand-written\n")
    config = Config.load(site_file, environ={})
    with start_in_thread(config, token="hand-written") as running:
        auth = {"Authorization": "Bearer hand-written"}
        for key in ("config_server.token", "config_server"):
            response = httpx.post(f"{running.url}/config/reset", headers=auth,
                                  json={"key": key, "forget_saved": True})
            assert response.status_code == 403
            assert f"cannot forget the saved value of {key} over the network" in (
                response.json()["error"])
        response = httpx.post(f"{running.url}/config/reset", headers=auth,
                              json={"key": "config_server.token"})
        assert response.status_code == 403
    assert "token: hand-written" in local.read_text()
    assert Config.load(site_file, environ={}).get("config_server.token") == "hand-written"


def test_a_reset_of_everything_over_http_keeps_local_only_run_time_values(site_file, tmp_path):
    config = Config.load(site_file, environ={})
    config.set("data_dir", str(tmp_path / "set-in-process"))  # in-process code is trusted
    with start_in_thread(config, save=False) as running:
        client = ConfigClient(running.url)
        client.set("name", "changed")
        client.reset()
        assert httpx.post(f"{running.url}/reset-config").status_code == 200
        assert client.get("name") == "guarded-unit"
        assert client.get("data_dir") == str(tmp_path / "set-in-process")


def test_cli_set_over_url_is_refused_with_exit_2(capsys, service):
    code = main(["config", "set", "config_server.host", "0.0.0.0", "--url", service.url])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "config_server.host" in err and "over the network" in err


def test_cli_set_on_the_local_files_may_change_a_local_only_key(capsys, site_file):
    code = main(["--config", str(site_file), "config", "set", "config_server.port", "6600"])
    assert code == 0
    assert Config.load(site_file, environ={}).get("config_server.port") == 6600
