"""Shared fixtures: an isolated environment for every test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest

from nocturna.core.virtualtime import VirtualTimeLoop

_TEST_SETTINGS = ("NOCTURNA_TEST_PG", "NOCTURNA_AZCAM_PYTHON")  # for the tests, not nocturna


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    """No NOCTURNA_* configuration leaks in from the developer's shell or CI."""
    import os

    for name in list(os.environ):
        if name.startswith("NOCTURNA_") and name not in _TEST_SETTINGS:
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _nocturna_logs_reach_caplog(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI run in an earlier test sets up nocturna's logging without propagation to
    the root logger (where caplog listens): every test starts with it propagating."""
    import logging

    monkeypatch.setattr(logging.getLogger("nocturna"), "propagate", True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "virtual_time: run the async test (and its async fixtures) on a "
        "VirtualTimeLoop: asyncio time jumps when nothing can run, so no real-time race "
        "depends on the machine's load (give it a VirtualClock in an async fixture)")


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item
                                  ) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The event loop of an async test: virtual time where marked ``virtual_time``."""
    if item.get_closest_marker("virtual_time") is not None:
        return {"virtual": VirtualTimeLoop}
    return {"asyncio": asyncio.new_event_loop}
