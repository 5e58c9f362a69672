"""Proof against software nocturna did not write: azcam's own socket client drives
``nocturna azcam serve --simulate`` (a real process on 127.0.0.1), and azcam's own
image reader opens the file the exposure wrote."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from astropy.io import fits
from azcam_env import run_azcam


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(data: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOCTURNA_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "nocturna", "--data", str(data), "azcam", "serve",
         "--simulate", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {process.stdout.read()}") from None
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the azcam server did not start within 60 s")


def test_azcams_socket_client_drives_nocturnas_command_server(tmp_path: Path) -> None:
    port = _free_port()
    server = _start_server(tmp_path / "data", port)
    try:
        result = run_azcam("command_client.py", port, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
        replies = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert "azcam command server stopped" in output

    # azcam's client splits replies shell-style: ["OK", payload...]
    assert replies["open"] is True
    assert replies["set_par"] == ["OK"]
    # a string payload goes out as is (the protocol's rule), so azcam's client splits
    # its words as it does for azcam's own server
    assert replies["get_par"] == ["OK", "azcam", "proof"]
    assert replies["get_par_version"][0] == "OK" and len(replies["get_par_version"]) == 2
    assert replies["expose"] == ["OK"]
    status_line = replies["get_status"][0]
    assert status_line.startswith("OK ")
    status = json.loads(status_line[3:])
    assert status["state"] == "idle" and status["image_count"] == 1
    assert status["exposure_time"] == 0.5
    assert replies["bad"][0] == "ERROR"
    assert replies["echo"] == ["OK", "still", "here"]

    path = Path(replies["lastfilename"][1])
    assert path.parent == tmp_path / "data" / "azcam" and path.exists()
    with fits.open(path, checksum=True) as hdus:
        header = hdus[0].header
        assert header["IMAGETYP"] == "OBJECT" and header["OBJECT"] == "M 31 field"
        assert header["EXPTIME"] == 0.5 and header["NAMPS"] == 4
        data = hdus[0].data.astype(np.float64)
    # azcam's reader sees the same pixels nocturna wrote
    assert replies["azcam_image"]["shape"][-2:] == list(data.shape)
    assert abs(replies["azcam_image"]["mean"] - data.mean()) < 1e-6 * data.mean()
