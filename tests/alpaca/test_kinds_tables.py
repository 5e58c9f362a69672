"""Every device kind's handlers answer exactly the members the shipped table lists."""

from __future__ import annotations

import importlib

import pytest
from kinds_helpers import members

KINDS = ("covercalibrator", "dome", "filterwheel", "focuser", "observingconditions", "rotator",
         "safetymonitor", "switch")


@pytest.mark.parametrize("kind", KINDS)
def test_handlers_cover_exactly_the_kind_members(kind):
    handlers = importlib.import_module(f"nocturna.alpaca.kinds.{kind}").HANDLERS
    assert set(handlers) == members(kind)
