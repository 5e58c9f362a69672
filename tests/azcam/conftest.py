"""Fixtures of the azcam tests: a directory to receive into, a running image server;
and the event loops the protocol tests run on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from command_helpers import event_loops

from nocturna.azcam.imageserver import ImageServer

_ON_EVERY_LOOP = {"test_command_server.py", "test_sendimage.py", "test_imageserver.py",
                  "test_parameters_tool.py"}
"""Test files about sockets whose async tests run on asyncio's default loop and on the
loop nocturna's servers and CLI run (uvloop when installed): their transports differ
(uvloop has no ``sendfile``, for one). The fuzz test's server thread does the same."""


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item
                                  ) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]] | None:
    if item.get_closest_marker("virtual_time") is not None:
        return None  # the root conftest's virtual-time loop
    loops = event_loops()
    return loops if item.path.name in _ON_EVERY_LOOP else {"asyncio": loops["asyncio"]}


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "images"
    directory.mkdir()
    return directory


@pytest.fixture
async def server(image_dir: Path):
    async with ImageServer(image_dir, port=0) as running:
        yield running
