"""Shared fixtures: the demo site, its test night, and schedulers built once per module."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

import nocturna.core.astro  # noqa: F401  (offline astropy before astroplan or any time work)
from nocturna.core.config import Config

NIGHT = date(2026, 12, 14)  # local evening (US/Hawaii) of the test night
NIGHT_START = datetime(2026, 12, 15, 4, 0, tzinfo=UTC)
NIGHT_END = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)


def _config(overrides: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    return Config.load(None, load_local=False, environ={}, overrides=overrides or {}).model


@pytest.fixture(scope="session")
def make_config():  # type: ignore[no-untyped-def]
    """The built-in configuration (no files, no environment) with key overrides."""
    return _config


@pytest.fixture(scope="session")
def config():  # type: ignore[no-untyped-def]
    return _config()


@pytest.fixture(scope="session")
def site(config):  # type: ignore[no-untyped-def]
    return config.site


@pytest.fixture(scope="module", autouse=True)
def _no_network():  # type: ignore[no-untyped-def]
    """Nothing here may download (IERS tables, ephemerides, name look-ups): any attempt
    to open a network connection fails the test."""
    import socket

    def refuse(self, address, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError(f"network access attempted from a scheduler test: {address!r}")

    patch = pytest.MonkeyPatch()
    patch.setattr(socket.socket, "connect", refuse)
    patch.setattr(socket.socket, "connect_ex", refuse)
    yield
    patch.undo()
