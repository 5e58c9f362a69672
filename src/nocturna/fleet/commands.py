"""Operator commands across the network (``nocturna fleet park``).

The command goes to ``nocturna/<unit>/command`` as ``{"v": 1, "id", "command", "by",
"time"}`` (QoS 1) with the operator's broker credentials (the broker's ACL lets only
operators publish there); the unit executes it with the same rules as a local command
and answers on ``nocturna/<unit>/command/ack`` with ``{"command_id", "accepted",
"category", "message"}`` in an envelope. ``--all`` means the units whose retained
``online`` message says they are online; the ones it says are offline are listed and
not sent anything (their retained ``online`` is a last will: nobody would execute it).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from nocturna.core.errors import NocturnaError
from nocturna.fleet.broker import make_client
from nocturna.fleet.envelope import BadMessage, iso, new_id, parse
from nocturna.network.broker import BrokerAddress

CONNECT_TIMEOUT_S = 10.0
RETAINED_QUIET_S = 0.5
"""--all: the retained ``online`` messages are taken as complete after this long without
a new one (the broker sends them right after the subscription)."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """One unit's answer: ``accepted`` None means no answer, ``sent`` False offline."""

    unit: str
    sent: bool
    accepted: bool | None = None
    category: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.sent or self.accepted is True


class CommandSender:
    """A short-lived operator connection that sends commands and collects acks."""

    def __init__(self, address: BrokerAddress, *, ca_file: Path | None = None) -> None:
        self.address = address
        self._client = make_client(address, f"nocturna-fleet-{new_id()[:12]}", ca_file=ca_file)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._acks: dict[str, dict[str, Any]] = {}
        self._online: dict[str, bool] = {}
        self._last_online = time.monotonic()
        self._connected: Any = None
        self._subscribed = 0
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # ------------------------------------------------------------ paho's thread
    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        with self._changed:
            self._connected = reason
            self._changed.notify_all()

    def _on_subscribe(self, *_args: Any) -> None:
        with self._changed:
            self._subscribed += 1
            self._changed.notify_all()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            envelope = parse(message.topic, message.payload)
        except BadMessage:
            return
        with self._changed:
            if envelope.kind == "online":
                self._online[envelope.unit] = envelope.data["online"]
                self._last_online = time.monotonic()
            elif envelope.kind == "ack":
                self._acks[envelope.data["command_id"]] = {"unit": envelope.unit,
                                                           **envelope.data}
            self._changed.notify_all()

    # ------------------------------------------------------------ the caller's thread
    def __enter__(self) -> CommandSender:
        try:
            self._client.connect(self.address.host, self.address.port, 30)
        except OSError as exc:
            raise NocturnaError(f"cannot reach the broker {self.address}: {exc}") from exc
        self._client.loop_start()
        with self._changed:
            if not self._changed.wait_for(lambda: self._connected is not None,
                                          CONNECT_TIMEOUT_S):
                self._stop()
                raise NocturnaError(f"the broker {self.address} did not answer in "
                                    f"{CONNECT_TIMEOUT_S:g} s")
        if self._connected.is_failure:
            self._stop()
            raise NocturnaError(f"the broker {self.address} refused us: {self._connected}")
        self._subscribe("nocturna/+/command/ack")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _subscribe(self, topic: str) -> None:
        with self._changed:
            before = self._subscribed
            self._client.subscribe(topic, qos=1)
            if not self._changed.wait_for(lambda: self._subscribed > before,
                                          CONNECT_TIMEOUT_S):
                raise NocturnaError(f"the broker {self.address} did not confirm the "
                                    f"subscription to {topic}")

    def known_units(self) -> dict[str, bool]:
        """Every unit with a retained ``online`` message: unit → online."""
        self._subscribe("nocturna/+/online")
        with self._changed:
            self._last_online = time.monotonic()
            while (left := self._last_online + RETAINED_QUIET_S - time.monotonic()) > 0:
                self._changed.wait(left)
            return dict(sorted(self._online.items()))

    def send(self, units: list[str], command: str, by: str,
             timeout_s: float) -> dict[str, CommandResult]:
        """Send ``command`` to each unit and wait (up to ``timeout_s``) for every ack."""
        ids: dict[str, str] = {}
        for unit in units:
            ids[unit] = new_id()
            payload = {"v": 1, "id": ids[unit], "command": command, "by": by,
                       "time": iso(datetime.now(UTC))}
            info = self._client.publish(f"nocturna/{unit}/command",
                                        json.dumps(payload).encode(), qos=1)
            info.wait_for_publish(CONNECT_TIMEOUT_S)
            if not info.is_published():
                raise NocturnaError(f"the broker {self.address} did not take the command "
                                    f"for {unit}")
        deadline = time.monotonic() + timeout_s
        with self._changed:
            self._changed.wait_for(lambda: all(i in self._acks for i in ids.values()),
                                   max(0.0, deadline - time.monotonic()))
            acks = {unit: self._acks.get(i) for unit, i in ids.items()}
        results = {}
        for unit, ack in acks.items():
            if ack is None:
                results[unit] = CommandResult(unit, True, None, None,
                                              f"no answer within {timeout_s:g} s")
            else:
                results[unit] = CommandResult(unit, True, bool(ack["accepted"]),
                                              ack.get("category"), str(ack.get("message", "")))
        return results


def command_units(address: BrokerAddress, command: str, units: list[str] | None, *,
                  by: str, timeout_s: float,
                  ca_file: Path | None = None) -> list[CommandResult]:
    """Send ``command`` to ``units`` (None: every online unit); one result per unit."""
    with CommandSender(address, ca_file=ca_file) as sender:
        offline: list[str] = []
        if units is None:
            known = sender.known_units()
            units = [unit for unit, online in known.items() if online]
            offline = [unit for unit, online in known.items() if not online]
        sent = sender.send(units, command, by, timeout_s)
    results = [*sent.values(), *(CommandResult(u, False) for u in offline)]
    return sorted(results, key=lambda r: r.unit)
