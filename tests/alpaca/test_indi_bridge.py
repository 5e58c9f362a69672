"""INDI behind Alpaca: alpyca → ``nocturna alpaca serve`` (a real process) → Debian's
INDI simulators on a real indiserver. nocturna is the bridge; nothing is simulated by
nocturna itself.

The site file holds only ``driver: indi`` devices: the focuser, and every other kind
whose INDI driver this checkout has (each is checked by importing it).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alpaca import discovery, management
from alpaca.exceptions import NotImplementedException
from alpaca.focuser import Focuser
from alpaca_server_helpers import free_udp_port
from ruamel.yaml import YAML
from test_alpaca_cli import wait_until_serving

from indi_helpers import IndiServer, free_port
from nocturna.devices.alpaca import SITE_KEYS
from nocturna.devices.factory import driver_available

SIMULATORS = {"focusers": "focuser", "mount": "telescope", "dome": "dome", "cameras": "ccd",
              "filterwheels": "wheel", "rotators": "rotator", "weather": "weather",
              "safety_monitors": "weather", "cover_calibrators": "lightpanel"}
"""Site key → the simulator (indi_helpers' short name) its INDI device comes from."""
DEVICE_TYPES = {key: device_type for device_type, key in SITE_KEYS.items()}
"""Site key → the Alpaca device type (lower case)."""
BRIDGED = [key for key in SIMULATORS if driver_available(key, "indi")]
"""The kinds bridged in this checkout (the focuser at least)."""


@dataclass
class Bridge:
    address: str  # host:port of the Alpaca server
    discovery_port: int
    indi: IndiServer
    process: subprocess.Popen[str]


def site_file(path: Path, indi: IndiServer) -> Path:
    tree: dict = {"name": "indi-bridge", "mount": None, "dome": None, "cameras": [],
                  "focusers": [], "filterwheels": [], "rotators": [], "switches": [],
                  "weather": [], "safety_monitors": [], "cover_calibrators": []}
    for key in BRIDGED:
        entry = {"name": f"indi-{DEVICE_TYPES[key]}", "driver": "indi",
                 "address": indi.address, "device": indi.device(SIMULATORS[key])}
        tree[key] = entry if key in ("mount", "dome") else [entry]
    YAML().dump(tree, path)
    return path


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    tmp = tmp_path_factory.mktemp("bridge")
    with IndiServer(tmp / "indi", *sorted({SIMULATORS[key] for key in BRIDGED})) as indi:
        port, udp = free_port(), free_udp_port()
        command = [sys.executable, "-m", "nocturna", "--config",
                   str(site_file(tmp / "site.yaml", indi)), "--data", str(tmp / "data"),
                   "alpaca", "serve", "--port", str(port), "--discovery-port", str(udp)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        try:
            wait_until_serving(process, f"http://127.0.0.1:{port}")
            yield Bridge(f"127.0.0.1:{port}", udp, indi, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                _, err = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _, err = process.communicate()
            assert process.returncode == 0 and "Traceback" not in err, err


def wait_for(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_alpyca_moves_the_indi_focuser_through_nocturna(bridge):
    focuser = Focuser(bridge.address, 0)
    focuser.Connected = True
    try:
        assert focuser.Connected and focuser.Absolute
        assert focuser.Name == "indi-focuser" and focuser.MaxStep == 100000
        start = focuser.Position
        target = start + 1000 if start + 1000 <= focuser.MaxStep else start - 1000
        focuser.Move(target)
        wait_for(lambda: not focuser.IsMoving and focuser.Position == target)
        assert focuser.Position == target
        assert not focuser.TempCompAvailable
        with pytest.raises(NotImplementedException):  # the driver's typed error, bridged
            focuser.TempComp = True
    finally:
        focuser.Connected = False


def test_alpaca_discovery_and_management_list_the_indi_devices(bridge, monkeypatch):
    monkeypatch.setattr(discovery, "port", bridge.discovery_port)
    assert bridge.address in discovery.search_ipv4(numquery=1, timeout=1)
    served = {(d["DeviceType"].lower(), d["DeviceName"])
              for d in management.configureddevices(bridge.address)}
    assert served == {(DEVICE_TYPES[key], f"indi-{DEVICE_TYPES[key]}") for key in BRIDGED}
    description = management.description(bridge.address)
    assert description["ServerName"] == "indi-bridge"


def test_alpyca_takes_an_image_with_the_indi_ccd_through_nocturna(bridge):
    """What a Windows capture program does: a subframe exposure on the INDI CCD
    simulator, read back as Alpaca's ImageArray."""
    from alpaca.camera import Camera

    camera = Camera(bridge.address, 0)
    camera.Connected = True
    try:
        assert (camera.CameraXSize, camera.CameraYSize) == (1280, 1024)
        camera.BinX = camera.BinY = 2
        camera.StartX, camera.StartY, camera.NumX, camera.NumY = 10, 20, 200, 150
        camera.StartExposure(1.0, True)
        wait_for(lambda: camera.ImageReady)
        image = camera.ImageArray  # ASCOM order: [x][y]
        assert (len(image), len(image[0])) == (200, 150)
        assert max(max(column) for column in image) > 0
    finally:
        camera.Connected = False
