"""Fixtures of the image server tests: a directory to receive into, a running server."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocturna.azcam.imageserver import ImageServer


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "images"
    directory.mkdir()
    return directory


@pytest.fixture
async def server(image_dir: Path):
    async with ImageServer(image_dir, port=0) as running:
        yield running
