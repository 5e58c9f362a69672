"""A real simulated night serving its API and dashboard on 127.0.0.1 (``nocturna run
--simulate --api-port 0`` as a process), with an operator and a viewer token."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from unit_helpers import FOCUSED, LOOPS_OFF, SMALL_CAMERA

NIGHT_START = "2026-12-15T07:00:00Z"  # 21:00 in Hawaii: dark, fields up
URL_LINE = re.compile(rb"API and dashboard: (http://127\.0\.0\.1:\d+)/")


@dataclass
class Night:
    """The running night: its process, the API's URL and the two tokens."""

    process: subprocess.Popen[bytes]
    url: str
    operator: str
    viewer: str
    log: Path

    def get(self, path: str, token: str | None = None) -> Any:
        """GET ``/api/<path>`` as JSON (the operator's token unless told)."""
        request = urllib.request.Request(f"{self.url}/api/{path}", headers={
            "Authorization": f"Bearer {token or self.operator}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def wait_for(self, condition, what: str, timeout_s: float = 180) -> Any:
        """Poll ``condition()`` until it gives something true; fail if the night ends first
        or nothing comes within ``timeout_s`` (a bound on waiting, not on speed)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"the night ended (exit {self.process.returncode}) "
                                     f"before {what}:\n{self.log.read_text()[-3000:]}")
            try:
                found = condition()
            except (urllib.error.URLError, ConnectionError):
                found = None
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout_s:g} s")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # parks, closes and exits
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _token_entry(name: str, role: str, secret: str) -> dict[str, str]:
    return {"name": name, "role": role,
            "hash": "sha256:" + hashlib.sha256(secret.encode()).hexdigest()}


def start_night(root: Path, *args: str, speed: float = 30.0, start: str | None = NIGHT_START,
                open_viewer: bool = True, small: bool = True) -> Night:
    """Start ``nocturna run --simulate`` with the API on a free port; wait until it serves.
    ``small``: the small camera in focus and the closed loops off (a fast night);
    ``start`` None: the simulated default (before the evening twilight)."""
    operator, viewer = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    site: dict[str, Any] = {
        "data_dir": str(root / "data"),
        "api": {"port": 0, "open_viewer": open_viewer,
                "tokens": [_token_entry("alice", "operator", operator),
                           _token_entry("bob", "viewer", viewer)]}}
    if small:
        site |= {"cameras": [SMALL_CAMERA], "focusers": [FOCUSED], "observatory": LOOPS_OFF}
    path = root / "site.yaml"
    YAML(typ="safe", pure=True).dump(site, path)
    log = root / "run.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "nocturna.cli.main", "--config", str(path), "run",
             "--simulate", *(["--start", start] if start else []), "--speed", str(speed),
             *args],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"})
    night = Night(process, "", operator, viewer, log)
    found = night.wait_for(lambda: URL_LINE.search(log.read_bytes()), "the API's address")
    night.url = found.group(1).decode()
    night.wait_for(lambda: night.get("status").get("state"), "a status from the API")
    return night
