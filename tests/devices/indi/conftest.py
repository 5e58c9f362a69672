"""One real indiserver with all eight simulators for the INDI driver tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from indi_helpers import IndiServer


@pytest.fixture(scope="module")
def indi_server(tmp_path_factory) -> Iterator[IndiServer]:
    with IndiServer(tmp_path_factory.mktemp("indi")) as server:
        yield server
