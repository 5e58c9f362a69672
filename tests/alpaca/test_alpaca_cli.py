"""``nocturna alpaca serve`` in a subprocess: it serves, and stops cleanly on signals."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alpaca_server_helpers import free_udp_port, ok

from nocturna.cli.main import main
from nocturna.devices.alpaca import SITE_KEYS

SITE = """\
name: cli-unit
cameras:
  - name: cam0
    driver: sim
    width: 64
    height: 48
"""


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    command = [sys.executable, "-m", "nocturna", "--config", str(site), "--data",
               str(tmp_path / "data"), "alpaca", "serve", "--simulate", "--port", str(port),
               "--discovery-port", str(free_udp_port())]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_until_serving(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            httpx.get(f"{url}/management/apiversions", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("the server did not answer within 60 s")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_and_stops_cleanly_on_a_signal(tmp_path, stop):
    port = free_tcp_port()
    url = f"http://127.0.0.1:{port}"
    process = start(tmp_path, port)
    try:
        wait_until_serving(process, url)
        with httpx.Client(base_url=url) as http:
            devices = ok(http.get("/management/v1/configureddevices"))
            assert ("Telescope", "mount0") in [(d["DeviceType"], d["DeviceName"])
                                              for d in devices]
            assert ok(http.get("/api/v1/camera/0/cameraxsize")) == 64
            assert ok(http.get("/api/v1/telescope/0/connected")) is True
            ok(http.put("/api/v1/telescope/0/unpark"))
        process.send_signal(stop)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert url in out and "mount0" in out and "Alpaca server stopped" in out
    assert "Traceback" not in err


def test_the_first_request_has_server_transaction_id_1(tmp_path):
    port = free_tcp_port()
    url = f"http://127.0.0.1:{port}"
    process = start(tmp_path, port)
    try:
        deadline = time.monotonic() + 60
        while True:  # probe the port without sending a request
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
        first = httpx.get(f"{url}/api/v1/telescope/0/name").json()
        second = httpx.get(f"{url}/api/v1/telescope/0/name").json()
        assert (first["ServerTransactionID"], second["ServerTransactionID"]) == (1, 2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


@pytest.mark.parametrize("options", [["--host", "192.0.2.10"], ["--host", "0.0.0.0"]])
def test_a_remote_address_without_the_flag_is_refused(capsys, options):
    assert main(["alpaca", "serve", "--simulate", *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nocturna: error:") and "--allow-remote" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("options", [["--port", "-1"], ["--port", "x"],
                                     ["--discovery-port", "70000"]])
def test_bad_options_exit_with_2(capsys, options):
    assert main(["alpaca", "serve", *options]) == 2
    assert capsys.readouterr().err.startswith("nocturna: error:")


def test_a_port_in_use_is_a_one_line_error(capsys, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code = main(["--data", str(tmp_path), "alpaca", "serve", "--simulate", "--port",
                     str(port), "--discovery-port", str(free_udp_port())])
    err = capsys.readouterr().err
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}" in err
    assert len(err.strip().splitlines()) == 1


def test_discover_prints_entries_that_validate_when_pasted_into_a_site_file(capsys, tmp_path):
    from nocturna.alpaca.runner import start_in_thread
    from nocturna.core.config import Config
    from nocturna.devices.factory import build_devices

    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    devices = build_devices(Config.load(site, environ={}), simulate=True)
    with start_in_thread(devices, discovery_port=free_udp_port()) as server:
        code = main(["alpaca", "discover", "--discovery-port", str(server.discovery_port),
                     "--timeout", "1"])
    out = capsys.readouterr().out
    assert code == 0
    pasted = tmp_path / "pasted.yaml"
    pasted.write_text("name: pasted-unit\n" + out, encoding="utf-8")
    model = Config.load(pasted, load_local=False, environ={}).model
    address = f"127.0.0.1:{server.port}"
    assert model.mount is not None and model.dome is not None
    assert (model.mount.name, model.mount.driver, model.mount.address,
            model.mount.device_number) == ("mount0", "alpaca", address, 0)
    assert (model.dome.name, model.dome.address) == ("dome0", address)
    assert [(c.name, c.driver, c.address, c.device_number) for c in model.cameras] == [
        ("cam0", "alpaca", address, 0)]
    served = {(d.kind, d.device.name) for d in server.server.served}
    listed = {(kind, entry.name) for kind, key in SITE_KEYS.items()
              for entry in _entries(getattr(model, key))}
    assert listed == served and len(listed) >= 9
    assert all(entry.driver == "alpaca" and entry.address == address
               for kind, key in SITE_KEYS.items() for entry in _entries(getattr(model, key)))


def _entries(value):  # type: ignore[no-untyped-def]
    return [] if value is None else value if isinstance(value, list) else [value]


def test_site_fragment_gives_every_server_one_key_and_every_device_a_unique_name():
    from ruamel.yaml import YAML

    from nocturna.devices.alpaca.discovery import ConfiguredDevice, site_fragment

    def device(kind: str, name: str, number: int) -> ConfiguredDevice:
        return ConfiguredDevice(name, kind, number, f"uid-{kind}-{name}-{number}")

    text = site_fragment({
        "192.0.2.1:11111": [device("telescope", "mount0", 0), device("camera", "cam0", 0)],
        "192.0.2.2:11111": [device("telescope", "mount0", 0), device("camera", "cam0", 0),
                            device("camera", "it's \"odd\"", 1)],
    })
    tree = YAML(typ="safe").load(text)
    assert tree["mount"]["address"] == "192.0.2.1:11111"  # one mount; the other commented
    assert "# mount: {name: \"mount0-2\"" in text
    assert [(c["name"], c["address"], c["device_number"]) for c in tree["cameras"]] == [
        ("cam0", "192.0.2.1:11111", 0), ("cam0-2", "192.0.2.2:11111", 0),
        ("it's \"odd\"", "192.0.2.2:11111", 1)]


def test_discover_with_no_server_answering_exits_1(capsys):
    code = main(["alpaca", "discover", "--discovery-port", str(free_udp_port()),
                 "--timeout", "0.3"])
    assert code == 1
    assert "no Alpaca server answered" in capsys.readouterr().out
