"""``driver: indi`` entries: the factory's table, and ``config check`` refusing bad ones
(it builds every device, without connecting)."""

from __future__ import annotations

import importlib

import pytest
from ruamel.yaml import YAML

from indi_helpers import free_port
from nocturna.cli.main import main
from nocturna.core.config import Config
from nocturna.core.errors import ConfigError
from nocturna.devices.factory import DRIVERS, build_devices, driver_available
from nocturna.devices.indi.device import IndiDevice

KINDS = ("mount", "dome", "cameras", "focusers", "filterwheels", "rotators", "weather",
         "safety_monitors", "cover_calibrators")
"""The site keys INDI has a device kind for (no switches or spectrographs)."""


def test_every_indi_kind_has_a_driver_of_the_same_interface_as_its_alpaca_one():
    assert {section for section, driver in DRIVERS if driver == "indi"} == set(KINDS)
    present = 0
    for section in KINDS:
        module, _, name = DRIVERS[(section, "indi")].partition(":")
        assert module.startswith("nocturna.devices.indi.")
        if not driver_available(section, "indi"):
            continue  # written in parallel: the factory says "not provided" until then
        indi = getattr(importlib.import_module(module), name)
        alpaca_module, _, alpaca_name = DRIVERS[(section, "alpaca")].partition(":")
        alpaca = getattr(importlib.import_module(alpaca_module), alpaca_name)
        interface = next(base for base in alpaca.__mro__[1:] if base.__module__
                         == f"nocturna.devices.{alpaca_module.rsplit('.', 1)[1]}")
        assert issubclass(indi, IndiDevice) and issubclass(indi, interface), section
        present += 1
    assert present >= 1  # the focuser, at least


def site(tmp_path, focuser: dict) -> str:
    path = tmp_path / "site.yaml"
    YAML().dump({"name": "indi-unit", "focusers": [focuser], "cameras": []}, path)
    return str(path)


@pytest.mark.parametrize(("entry", "named"), [
    ({"name": "f1", "driver": "indi", "device": "Focuser Simulator"}, "f1.address"),
    ({"name": "f1", "driver": "indi", "address": "127.0.0.1:7624"}, "f1.device"),
    ({"name": "f1", "driver": "indi", "address": "127.0.0.1:7624",
      "device": "Focuser Simulator", "colour": "red"}, "f1.colour: not an option"),
    ({"name": "f1", "driver": "indi", "address": "127.0.0.1:99999",
      "device": "Focuser Simulator"}, "f1.address"),
    ({"name": "f1", "driver": "indi", "address": "127.0.0.1", "device": "Focuser Simulator",
      "timeout_s": 0}, "f1.timeout_s"),
])
def test_config_check_refuses_a_bad_indi_entry_naming_the_key(capsys, tmp_path, entry, named):
    assert main(["--config", site(tmp_path, entry), "config", "check"]) == 2
    captured = capsys.readouterr()
    assert "configuration valid" not in captured.out
    assert captured.err.startswith("nocturna: error:") and named in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_config_check_accepts_a_good_indi_entry_without_connecting(capsys, tmp_path):
    entry = {"name": "f1", "driver": "indi", "address": f"127.0.0.1:{free_port()}",
             "device": "Focuser Simulator", "timeout_s": 5}
    assert main(["--config", site(tmp_path, entry), "config", "check"]) == 0
    assert "configuration valid" in capsys.readouterr().out


def test_a_listed_driver_whose_module_is_absent_is_not_provided(tmp_path, monkeypatch):
    monkeypatch.setitem(DRIVERS, ("focusers", "indi"), "nocturna.devices.indi.nothing:Nope")
    entry = {"name": "f1", "driver": "indi", "address": "127.0.0.1",
             "device": "Focuser Simulator"}
    config = Config.load(site(tmp_path, entry), load_local=False, environ={})
    with pytest.raises(ConfigError, match=r"focusers: device 'f1' uses driver 'indi', which "
                       r"this version does not provide for focusers \(available: alpaca, sim\)"):
        build_devices(config)
