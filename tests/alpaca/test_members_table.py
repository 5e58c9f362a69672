"""The shipped table of Alpaca members is the one the ASCOM OpenAPI description gives."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO.parent / "shared" / "reference" / "ascom" / "AlpacaDeviceAPI_v1.yaml"
TABLE = REPO / "src" / "nocturna" / "alpaca" / "members.json"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("alpaca_members",
                                                  REPO / "scripts" / "alpaca_members.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_members_table_matches_the_openapi_description() -> None:
    from ruamel.yaml import YAML

    generated = _generator().members(YAML(typ="safe").load(SPEC.read_text(encoding="utf-8")))
    assert json.loads(TABLE.read_text(encoding="utf-8")) == generated


def test_members_table_covers_every_device_type_and_method() -> None:
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    assert set(table) == {"common", "camera", "telescope", "dome", "focuser", "filterwheel",
                          "rotator", "switch", "safetymonitor", "observingconditions",
                          "covercalibrator"}
    count = sum(len(ops) for members in table.values() for ops in members.values())
    assert count == 268  # every GET and PUT operation the description defines
    assert table["camera"]["startexposure"]["PUT"]["required"] == ["Duration", "Light"]
    assert table["telescope"]["axisrates"]["GET"]["params"] == {"Axis": "integer"}
