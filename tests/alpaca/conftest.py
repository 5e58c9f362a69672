"""Fixtures shared by the Alpaca tests: the default configuration and a stopped clock."""

from __future__ import annotations

import pytest

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.config import Config

START = "2026-12-15T08:00:00Z"


@pytest.fixture(scope="module")
def config() -> Config:
    return Config.load(None, load_local=False, environ={})


@pytest.fixture
def clock():
    clock = SimClock(START, speed=0)
    with use_clock(clock):
        yield clock
