"""The configuration service over real HTTP on 127.0.0.1, and its Python client."""

from __future__ import annotations

import time
from pathlib import Path

import astropy.units as u
import httpx
import pytest

from nocturna.configserver.client import (
    ConfigClient,
    ConfigServiceError,
    get_config,
    set_config,
)
from nocturna.configserver.runner import check_exposure, start_in_thread
from nocturna.core.config import Config, local_path_for
from nocturna.core.errors import ConfigError, ConfigKeyError, InvalidValueError


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text("# my site\nsite:\n  horizon:\n    default: 25 deg\n")
    return path


@pytest.fixture
def service(site_file):
    config = Config.load(site_file, environ={})
    running = start_in_thread(config, save_delay=0.05)
    yield running
    running.stop()


@pytest.fixture
def client(service):
    client = ConfigClient(service.url)
    yield client
    client.close()


def test_heartbeat_reports_a_live_service(client):
    beat = client.heartbeat()
    assert beat["ok"] is True and beat["service"] == "nocturna-config"
    assert beat["uptime_s"] >= 0


def test_get_returns_parsed_values_over_http(client):
    assert client.get("site.horizon.default") == 25 * u.deg
    assert client.get("site")["latitude"] == 19.54 * u.deg
    assert client.get()["name"] == "nocturna-demo"


def test_get_of_a_missing_key_is_404_or_the_default(service, client):
    response = httpx.get(f"{service.url}/config", params={"key": "site.nope"})
    assert response.status_code == 404
    assert "site.nope" in response.json()["error"]
    assert client.get("site.nope", default="fallback") == "fallback"
    with pytest.raises(ConfigKeyError, match=r"site\.nope"):
        client.get("site.nope")


def test_malformed_key_is_a_400(service):
    response = httpx.get(f"{service.url}/config", params={"key": "a..b"})
    assert response.status_code == 400
    assert "malformed" in response.json()["error"]


def test_set_changes_the_live_value(client):
    assert client.set("site.horizon.default", "35 deg") == 35 * u.deg
    assert client.get("site.horizon.default") == 35 * u.deg
    assert client.set("site.horizon.default", 36 * u.deg) == 36 * u.deg


def test_invalid_set_is_422_naming_key_value_and_expectation(service, client):
    response = httpx.post(f"{service.url}/config", json={"key": "site.latitude", "value": "abc"})
    assert response.status_code == 422
    assert "site.latitude = 'abc'" in response.json()["error"]
    assert "expected a latitude" in response.json()["error"]
    with pytest.raises(ConfigError, match=r"site\.latitude"):
        client.set("site.latitude", "abc")
    assert client.get("site.latitude") == 19.54 * u.deg


def test_bad_request_bodies_are_400(service):
    assert httpx.post(f"{service.url}/config", content=b"{not json").status_code == 400
    assert httpx.post(f"{service.url}/config", json={"key": "name"}).status_code == 400
    assert httpx.post(f"{service.url}/config", json=[1, 2]).status_code == 400


def test_reset_undoes_run_time_sets(client):
    client.set("site.horizon.default", "45 deg", save=False)
    client.reset("site.horizon.default")
    assert client.get("site.horizon.default") == 25 * u.deg


def test_set_is_saved_to_the_local_file_not_the_site_file(service, client, site_file):
    original = site_file.read_text()
    client.set("site.horizon.default", "37 deg")
    local = local_path_for(site_file)
    deadline = time.monotonic() + 5
    while not (local.exists() and "37 deg" in local.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "default: 37 deg" in local.read_text()
    assert site_file.read_text() == original
    assert Config.load(site_file, environ={}).get("site.horizon.default") == 37 * u.deg


def test_pending_saves_are_flushed_at_shutdown(site_file):
    config = Config.load(site_file, environ={})
    running = start_in_thread(config, save_delay=60)  # would not flush by itself in time
    ConfigClient(running.url).set("name", "flushed-at-exit")
    running.stop()
    assert "name: flushed-at-exit" in local_path_for(site_file).read_text()


def test_save_false_does_not_touch_the_local_file(client, site_file):
    client.set("name", "ephemeral", save=False)
    time.sleep(0.2)
    assert not local_path_for(site_file).exists()


def test_module_level_get_and_set_config(service):
    assert set_config("site.horizon.default", "31 deg", url=service.url) == 31 * u.deg
    assert get_config("site.horizon.default", url=service.url) == 31 * u.deg


def test_panoptes_compatible_endpoints(site_file):
    # without saving: a saved value would outlive the reset (it undoes run-time values)
    with start_in_thread(Config.load(site_file, environ={}), save=False) as service:
        assert httpx.post(f"{service.url}/get-config",
                          json={"key": "site.horizon.default"}).json() == {
            "value": 25.0, "unit": "deg"}
        assert httpx.post(f"{service.url}/set-config", json={"name": "compat"}).json() == {
            "name": "compat"}
        assert httpx.post(f"{service.url}/reset-config", json={"reset": True}).status_code == 200
        assert httpx.post(f"{service.url}/get-config",
                          json={"key": "name"}).json() == "nocturna-demo"


def test_unreachable_service_is_a_clear_error():
    client = ConfigClient("http://127.0.0.1:9", timeout=1)
    with pytest.raises(ConfigServiceError, match="not reachable"):
        client.get("name")
    assert client.is_running() is False


def test_client_rejects_a_malformed_url():
    with pytest.raises(InvalidValueError, match="must look like"):
        ConfigClient("ftp://somewhere")


def test_token_protects_everything_but_the_heartbeat(site_file):
    config = Config.load(site_file, environ={})
    with start_in_thread(config, token="s3cret") as running:
        assert httpx.get(f"{running.url}/heartbeat").status_code == 200
        assert httpx.get(f"{running.url}/config", params={"key": "name"}).status_code == 401
        with pytest.raises(ConfigServiceError, match="token"):
            ConfigClient(running.url, token="wrong").get("name")
        assert ConfigClient(running.url, token="s3cret").get("name") == "nocturna-demo"


def test_listening_beyond_loopback_requires_a_token():
    with pytest.raises(ConfigError, match="requires a token"):
        check_exposure("0.0.0.0", None)
    check_exposure("0.0.0.0", "token")
    check_exposure("127.0.0.1", None)
    check_exposure("::1", None)


def test_a_burst_of_sets_is_saved_in_a_few_writes(site_file):
    config = Config.load(site_file, environ={})
    writes = []
    original = config.persist

    def counting_persist(keys):
        writes.append(list(keys))
        return original(keys)

    config.persist = counting_persist
    with start_in_thread(config, save_delay=0.3) as running:
        client = ConfigClient(running.url)
        for i in range(100):
            client.set("site.horizon.default", f"{30 + i % 7} deg")
    assert 1 <= len(writes) < 10  # coalesced, not one write per set
    assert Config.load(site_file, environ={}).get("site.horizon.default") == (30 + 99 % 7) * u.deg


def test_reset_before_the_save_leaves_the_local_file_alone(site_file):
    config = Config.load(site_file, environ={})
    with start_in_thread(config, save_delay=0.3) as running:
        client = ConfigClient(running.url)
        client.set("site.horizon.default", "44 deg")
        client.reset("site.horizon.default")
    assert not local_path_for(site_file).exists()


def test_answers_follow_changes_made_in_process(site_file):
    """Gets are answered from a cache; a set by the process hosting the service, not
    over HTTP, must still be seen at once."""
    config = Config.load(site_file, environ={})
    with start_in_thread(config, save=False) as running:
        client = ConfigClient(running.url)
        assert client.get("site.horizon.default") == 25 * u.deg
        config.set("site.horizon.default", "33 deg")
        assert client.get("site.horizon.default") == 33 * u.deg
        config.reset()
        assert client.get("site.horizon.default") == 25 * u.deg
        client.close()
