"""Shared fixtures: an isolated environment for every test."""

from __future__ import annotations

import pytest

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
