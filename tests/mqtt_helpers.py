"""A real Mosquitto broker (Debian's ``mosquitto``) for the network tests, on 127.0.0.1.

``with Mosquitto(tmp_path, users={"pan001": "pw1", "operator": "pw0"}) as broker:``
starts ``mosquitto`` on a free port with a password file (``mosquitto_passwd``), an ACL
file and persistence (so a persistent session's queued messages and retained messages
survive :meth:`Mosquitto.restart`), and waits until it accepts connections.

The ACL is the one ``docs/mosquitto/`` documents for a fleet: a unit (any user but the
operators) reads and writes only under ``nocturna/<its user name>/``; operators (users
listed in ``operators``) read everything and may publish commands
(``nocturna/+/command``); the ingest user (``ingest``) reads everything. With ``tls=True``
a second listener speaks TLS with a certificate for 127.0.0.1 from a ``trustme`` test
CA (``broker.ca_file``).

``broker.url(user)`` gives ``mqtt://user:password@127.0.0.1:PORT`` (``mqtts://`` on the
TLS port with ``tls=True``). :meth:`Mosquitto.kill` stops it hard, :meth:`start` brings it
back on the same ports.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Self

import pytest

START_TIMEOUT_S = 15.0


def need_mosquitto() -> None:
    """Fail (not skip) when mosquitto is missing: CI installs it (``.ci/run``)."""
    for program in ("mosquitto", "mosquitto_passwd"):
        if shutil.which(program) is None and not Path(f"/usr/sbin/{program}").exists():
            pytest.fail(f"{program} is not installed (apt-get install mosquitto)")


def _program(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mosquitto:
    """A mosquitto process with users, an ACL and persistence (see the module docstring)."""

    def __init__(self, home: Path, *, users: dict[str, str],
                 operators: tuple[str, ...] = ("operator",), tls: bool = False) -> None:
        need_mosquitto()
        self.home = Path(home) / "mosquitto"
        self.users = dict(users)
        self.operators = operators
        self.tls = tls
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.home / "mosquitto.log"
        self.ca_file: Path | None = None
        self._write_files()

    # ------------------------------------------------------------ files
    def _write_files(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "data").mkdir(exist_ok=True)
        passwords = self.home / "passwords"
        passwords.write_text("")
        for user, password in self.users.items():
            subprocess.run([_program("mosquitto_passwd"), "-b", str(passwords), user, password],
                           check=True, capture_output=True)
        acl = ["# operators: everything", *(f"user {name}\ntopic readwrite #"
                                              for name in self.operators),
               "user ingest", "topic read nocturna/#", "topic write $SYS/#",
               "# every other user: its own subtree only",
               "pattern readwrite nocturna/%u/#"]
        (self.home / "acl").write_text("\n".join(acl) + "\n")
        import pwd

        me = pwd.getpwuid(os.geteuid()).pw_name  # as root it would drop to "mosquitto"
        lines = [f"user {me}", "per_listener_settings false", "allow_anonymous false",
                 f"password_file {passwords}", f"acl_file {self.home / 'acl'}",
                 "persistence true", f"persistence_location {self.home / 'data'}/",
                 "autosave_interval 1", "max_queued_messages 100000",
                 f"listener {self.port} 127.0.0.1"]
        if self.tls:
            import trustme

            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1", "localhost")
            self.ca_file = self.home / "ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_file))
            cert.private_key_pem.write_to_path(str(self.home / "key.pem"))
            cert.cert_chain_pems[0].write_to_path(str(self.home / "cert.pem"))
            lines += [f"listener {self.tls_port} 127.0.0.1",
                      f"cafile {self.ca_file}", f"certfile {self.home / 'cert.pem'}",
                      f"keyfile {self.home / 'key.pem'}"]
        (self.home / "mosquitto.conf").write_text("\n".join(lines) + "\n")

    # ------------------------------------------------------------ addresses
    def url(self, user: str, *, tls: bool = False) -> str:
        """The broker URL with ``user``'s credentials (TLS listener with ``tls``)."""
        password = self.users[user]
        if tls:
            if self.tls_port is None:
                raise ValueError("this broker was started without tls=True")
            return f"mqtts://{user}:{password}@127.0.0.1:{self.tls_port}"
        return f"mqtt://{user}:{password}@127.0.0.1:{self.port}"

    # ------------------------------------------------------------ life
    def start(self) -> Self:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [_program("mosquitto"), "-c", str(self.home / "mosquitto.conf")],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "HOME": str(self.home)})
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited ({self.process.returncode}): "
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within "
                           f"{START_TIMEOUT_S:g} s")

    def stop(self) -> None:
        """Stop it cleanly (SIGTERM: it saves its persistence file)."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """Stop it hard (SIGKILL: what the last autosave kept survives)."""
        self._signal(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _signal(self, which: signal.Signals) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(which)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
