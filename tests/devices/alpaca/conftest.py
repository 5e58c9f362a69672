"""Servers for the Alpaca client tests.

* ``alpaca_sim``: the alpaca-simulators package (PyPI) run as a subprocess on a free
  127.0.0.1 port, once per test module, with its template configuration adjusted:
  a small non-square camera (320 × 240, so a transposed image would show), a fast
  telescope, a cover calibrator that has a light, a focuser (number 1) new enough for
  ``DeviceState`` and an unsafe safety monitor (number 1).
* ``fake_alpaca``: a tiny in-process aiohttp server whose replies a test scripts, for
  what a well-behaved server never does (wrong transaction ids, HTTP errors...).
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import alpaca_simulators
import pytest
import yaml
from aiohttp import web

_LAUNCH = """
import os, sys
from pathlib import Path
import alpaca_simulators.config as config
config.Config.CONFIG_DIR = Path(sys.argv[1])
os.environ["ASTRA_SIMULATORS_CONFIG"] = "config.yaml"
import uvicorn
uvicorn.run("alpaca_simulators.main:app", host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", timeout_keep_alive=300)
"""
STARTUP_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _simulator_config() -> dict[str, Any]:
    template = Path(alpaca_simulators.__file__).parent / "config" / "template.yaml"
    config = yaml.safe_load(template.read_text(encoding="utf-8"))
    devices = config["devices"]
    devices["camera"][0].update(cameraxsize=320, cameraysize=240, numx=320, numy=240)
    devices["telescope"][0].update(slew_rate=180.0)
    devices["covercalibrator"][0].update(calibratorstate=1)  # a light, now off
    devices["focuser"][1] = {**devices["focuser"][0], "name": "Platform 7 Focuser",
                             "interfaceversion": 4, "position": 2000}
    devices["safetymonitor"][1] = {**devices["safetymonitor"][0], "issafe": False}
    return config


@pytest.fixture(scope="module")
def alpaca_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``"127.0.0.1:PORT"`` of a running alpaca-simulators server."""
    directory = tmp_path_factory.mktemp("alpaca_simulators")
    (directory / "config.yaml").write_text(yaml.safe_dump(_simulator_config()),
                                           encoding="utf-8")
    port = free_port()
    log_path = directory / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-c", _LAUNCH, str(directory), str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(process, port, log_path)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    url = f"http://127.0.0.1:{port}/api/v1/camera/0/name"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"alpaca-simulators exited: {log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as reply:
            if reply.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"alpaca-simulators did not serve within {STARTUP_S:g} s: "
                       f"{log.read_text(errors='replace')}")


# ------------------------------------------------------------- scripted server
@dataclass
class Seen:
    """One request the fake server received."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    request: web.Request  # for replies that stream


Reply = Callable[[Seen], Any]  # a response, or an awaitable of one


@dataclass
class FakeAlpaca:
    """A server answering every request with ``reply(seen)`` (default: echo Value 1)."""

    address: str = ""
    requests: list[Seen] = field(default_factory=list)
    reply: Reply | None = None

    @staticmethod
    def ok(seen: Seen, value: Any = 1, **fields: Any) -> web.Response:
        """A well-formed JSON reply echoing the transaction id."""
        tid = seen.query.get("ClientTransactionID") or seen.form.get("ClientTransactionID")
        body = {"ClientTransactionID": int(tid or 0), "ServerTransactionID": 7,
                "ErrorNumber": 0, "ErrorMessage": "", **fields}
        if value is not None:
            body["Value"] = value
        return web.json_response(body)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        form = dict(await request.post()) if request.method == "PUT" else {}
        seen = Seen(request.method, request.path, dict(request.query),
                    {k: str(v) for k, v in form.items()}, dict(request.headers), request)
        self.requests.append(seen)
        reply = (self.reply or self.ok)(seen)
        return await reply if inspect.isawaitable(reply) else reply


@pytest.fixture
async def fake_alpaca() -> AsyncIterator[FakeAlpaca]:
    fake = FakeAlpaca()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.address = f"127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
