"""``nocturna indi list`` against a real indiserver: the entries it prints validate as a
site file, and the unit builds and connects the INDI devices from them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ruamel.yaml import YAML

from indi_helpers import IndiServer, free_port
from nocturna.cli.main import main
from nocturna.core.config import Config
from nocturna.devices.factory import driver_available
from nocturna.devices.indi.discovery import IndiDeviceKinds, interfaces, site_fragment

DEVICE_KEYS = {"mount": None, "dome": None, "cameras": [], "focusers": [],
               "filterwheels": [], "rotators": [], "switches": [], "weather": [],
               "safety_monitors": [], "cover_calibrators": []}
"""Every device key of a site file, empty: a unit with only the pasted devices."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndiServer]:
    with IndiServer(tmp_path_factory.mktemp("indi"), "focuser", "ccd", "weather",
                    "lightpanel") as running:
        yield running


def listed(capsys: pytest.CaptureFixture[str], address: str) -> str:
    code = main(["indi", "list", "--address", address, "--timeout", "20"])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def test_list_prints_every_device_under_each_of_its_kinds(capsys, server):
    tree = YAML(typ="safe").load(listed(capsys, server.address))
    entries = {(key, entry["name"], entry["device"])
               for key, value in tree.items()
               for entry in (value if isinstance(value, list) else [value])}
    assert entries == {
        ("focusers", "focuser-simulator", "Focuser Simulator"),
        ("cameras", "ccd-simulator", "CCD Simulator"),
        ("filterwheels", "ccd-simulator-wheel", "CCD Simulator"),  # its FILTER interface
        ("weather", "weather-simulator", "Weather Simulator"),
        ("safety_monitors", "weather-simulator-safety", "Weather Simulator"),
        ("cover_calibrators", "light-panel-simulator", "Light Panel Simulator"),
    }
    assert all(entry["driver"] == "indi" and entry["address"] == server.address
               for value in tree.values() for entry in value)


def test_pasted_entries_validate_and_the_unit_connects_the_indi_devices(capsys, server,
                                                                        tmp_path):
    out = listed(capsys, server.address)
    pasted = tmp_path / "pasted.yaml"
    pasted.write_text("name: pasted-unit\n" + out, encoding="utf-8")
    model = Config.load(pasted, load_local=False, environ={}).model
    assert [(f.name, f.driver, f.address, f.model_extra["device"]) for f in model.focusers] \
        == [("focuser-simulator", "indi", server.address, "Focuser Simulator")]

    pasted_tree = YAML(typ="safe").load(out)
    usable = {key: value for key, value in pasted_tree.items() if driver_available(key, "indi")}
    assert "focusers" in usable
    site = tmp_path / "site.yaml"
    YAML().dump({"name": "indi-unit", **DEVICE_KEYS, **usable}, site)
    assert main(["--config", str(site), "config", "check"]) == 0
    capsys.readouterr()
    code = main(["--config", str(site), "--data", str(tmp_path / "data"), "devices", "list"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = [line for line in out.splitlines() if "focuser-simulator" in line]
    assert len(rows) == 1 and "indi" in rows[0] and "position=" in rows[0]


def test_an_unreachable_server_is_a_one_line_error(capsys):
    port = free_port()
    code = main(["indi", "list", "--address", f"127.0.0.1:{port}", "--timeout", "0.5"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"nocturna: error: INDI server 127.0.0.1:{port} does not answer")


@pytest.mark.parametrize("address", ["host:0", "host:x", "a b", ""])
def test_a_bad_address_exits_2_naming_the_option(capsys, address):
    assert main(["indi", "list", "--address", address]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nocturna: error: --address: expected HOST[:PORT]")
    assert repr(address) in err and len(err.strip().splitlines()) == 1


def test_the_fragment_maps_interfaces_to_site_keys():
    devices = [
        IndiDeviceKinds("Scope A", interfaces(1 | 4), "indi_a"),
        IndiDeviceKinds("Scope \"B\"", interfaces(1)),
        IndiDeviceKinds("Flat Man", interfaces(512 | 1024)),  # dust cap and light box
        IndiDeviceKinds("GPS", interfaces(64)),
        IndiDeviceKinds("Silent", None),
        IndiDeviceKinds("Scope A ", interfaces(8)),  # the same name once made plain
    ]
    text = site_fragment("example.org", devices)
    tree = YAML(typ="safe").load(text)
    assert tree["mount"] == {"name": "scope-a", "driver": "indi",
                             "address": "example.org:7624", "device": "Scope A"}
    assert '# mount: {name: "scope-b", driver: indi, address: "example.org:7624", ' \
           'device: "Scope \\"B\\""}' in text  # a unit has one mount: the second is a comment
    assert tree["cover_calibrators"] == [{"name": "flat-man", "driver": "indi",
                                          "address": "example.org:7624", "device": "Flat Man"}]
    assert [f["name"] for f in tree["focusers"]] == ["scope-a-2"]
    assert '"GPS": GPS (no nocturna kind)' in text
    assert '"Silent": no DRIVER_INFO, kinds unknown' in text
    assert '"Scope A" (indi_a): TELESCOPE, GUIDER' in text
    assert set(tree) == {"mount", "cover_calibrators", "focusers"}


def test_an_ipv6_address_is_written_with_brackets():
    text = site_fragment("[::1]:7625", [IndiDeviceKinds("F", interfaces(8))])
    assert YAML(typ="safe").load(text)["focusers"][0]["address"] == "[::1]:7625"
