"""``nocturna imageserver serve`` as a real process."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nocturna.azcam.sendimage import SendImage
from nocturna.cli.context import CliContext
from nocturna.cli.imageserver_cmd import app
from nocturna.core.errors import InvalidValueError
from nocturna.core.storage import Storage


def read_listening_port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if match is None:
        process.kill()
        raise AssertionError(f"no listening line: {line!r} {process.stderr.read()!r}")
    return int(match.group(1))


async def test_serve_receives_records_and_stops_on_sigterm(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "nocturna", "--data", str(data_dir), "imageserver", "serve",
         "--port", "0", "--dir", str(images)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = read_listening_port(process)
        source = tmp_path / "local.fits"
        source.write_bytes(os.urandom(2_000_003))
        client = SendImage(timeout_s=30)
        client.set_remote_imageserver("127.0.0.1", port, "azcam")
        await client.send_image(source, "/night/one.fits")
        assert (images / "night" / "one.fits").read_bytes() == source.read_bytes()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "image server stopped" in out
    with Storage.open(data_dir=data_dir) as storage:
        [row] = storage.list_telemetry("imageserver")
    assert row.data["path"] == str(images / "night" / "one.fits")
    assert row.data["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_other_hosts_than_loopback_need_allow_remote(tmp_path, host):
    result = CliRunner().invoke(app, ["serve", "--host", host, "--dir", str(tmp_path)],
                                obj=CliContext(data_dir=tmp_path))
    assert isinstance(result.exception, InvalidValueError)
    assert f"--host {host}" in str(result.exception) and "--allow-remote" in str(
        result.exception)


def test_missing_directory_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["serve", "--dir", str(tmp_path / "nowhere")],
                                obj=CliContext(data_dir=tmp_path))
    assert isinstance(result.exception, InvalidValueError)
    assert "nowhere" in str(result.exception)


def test_the_directory_is_required(tmp_path: Path):
    result = CliRunner().invoke(app, ["serve"], obj=CliContext(data_dir=tmp_path))
    assert result.exit_code == 2 and "--dir" in result.output
