"""The shipped table of Alpaca members covers every device type and operation.

Whether it still matches ASCOM's OpenAPI description is checked by the maintenance
script ``scripts/alpaca_members.py --check`` (``.ci/run`` runs it when that
description is present beside the repository), never by a test.
"""

from __future__ import annotations

import json
from pathlib import Path

from nocturna.alpaca.openapi import VALUES

TABLE = Path(__file__).resolve().parents[2] / "src" / "nocturna" / "alpaca" / "members.json"


def test_members_table_covers_every_device_type_and_method() -> None:
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    assert set(table) == {"common", "camera", "telescope", "dome", "focuser", "filterwheel",
                          "rotator", "switch", "safetymonitor", "observingconditions",
                          "covercalibrator"}
    count = sum(len(ops) for members in table.values() for ops in members.values())
    assert count == 268  # every GET and PUT operation the description defines
    assert table["camera"]["startexposure"]["PUT"]["required"] == ["Duration", "Light"]
    assert table["telescope"]["axisrates"]["GET"]["params"] == {"Axis": "integer"}


def test_every_response_the_table_names_has_a_described_value() -> None:
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    names = {op["response"] for members in table.values() for ops in members.values()
             for op in ops.values()}
    assert names == set(VALUES)
