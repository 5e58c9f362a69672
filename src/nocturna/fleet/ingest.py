"""The ingest: every unit's messages from the broker into the central database.

It subscribes ``nocturna/+/#`` at QoS 1 in a **persistent session** (a fixed client id,
``clean_start`` off and a session that never expires), so the broker queues messages
while the ingest is away. paho-mqtt runs the connection in its own thread
(``loop_start``: it reconnects by itself when the broker goes away) and hands each
message to a queue; the ingest's thread takes whatever has arrived as one batch, checks
each message (:func:`~nocturna.fleet.envelope.parse`: a bad one is logged, counted and
skipped), writes the batch in one transaction and only then **acknowledges** its
messages to the broker (``manual_ack``). So:

* an ingest killed before its commit leaves the messages unacknowledged: the broker
  sends them again to the next ingest with the same client id;
* a database that is down makes the write fail: the batch is kept, unacknowledged, and
  retried with backoff until the database is back (while the broker holds the rest);
* a message delivered twice finds its id already written (:mod:`.store`).

Acknowledgements go only to the connection that delivered the messages (paho reuses
packet ids on a new connection; the broker resends what the old one left unacked).

Every ``report_every_s`` it logs and stores in ``fleet_ingest`` its figures over the
last period: messages/s, duplicates, rejected, the lag from the unit's event time to
receipt (virtual time in a simulated night makes this meaningless), from receipt to
commit, and the backlog (received, not yet committed).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from nocturna.fleet.broker import make_client
from nocturna.fleet.envelope import BadMessage, parse
from nocturna.fleet.store import FleetStore, Received
from nocturna.network.broker import BrokerAddress

log = logging.getLogger(__name__)

TOPIC = "nocturna/+/#"
DEFAULT_CLIENT_ID = "nocturna-ingest"
SESSION_EXPIRY_S = 0xFFFFFFFF
"""The session never expires: queued messages wait however long the ingest is away."""
RECEIVE_MAXIMUM = 1000
"""Unacknowledged messages the broker may have out to us (MQTT 5); bounds a batch."""
RETRY_MIN_S, RETRY_MAX_S = 0.2, 5.0
KEEPALIVE_S = 30


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message as paho delivered it, with the connection it came on."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    connection: int
    received_at: datetime


@dataclass(slots=True)
class Window:
    """What happened since the last report."""

    started: float = field(default_factory=time.monotonic)
    received: int = 0
    written: int = 0
    duplicates: int = 0
    rejected: int = 0
    event_lags: list[float] = field(default_factory=list)
    write_lags: list[float] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


class Ingest:
    """Runs the ingest (see the module docstring) until :meth:`stop`."""

    def __init__(self, address: BrokerAddress, store: FleetStore, *,
                 client_id: str = DEFAULT_CLIENT_ID, ca_file: Path | None = None,
                 report_every_s: float = 10.0, max_batch: int = RECEIVE_MAXIMUM,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.address = address
        self.store = store
        self.client_id = client_id
        self.report_every_s = report_every_s
        self.max_batch = max_batch
        self.now = now
        self.started_at = now()
        self.subscribed = threading.Event()
        self.totals = {"received": 0, "written": 0, "duplicates": 0, "rejected": 0}
        self._stop = threading.Event()
        self._deliveries: queue.Queue[Delivery] = queue.Queue()
        self._connection = 0
        self._connected = False
        self._in_hand = 0
        self._window = Window()
        self._client = make_client(address, client_id, ca_file=ca_file, manual_ack=True)
        self._client.reconnect_delay_set(RETRY_MIN_S, RETRY_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # ------------------------------------------------------------ paho's thread
    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any,
                    reason: Any, _properties: Any) -> None:
        if reason.is_failure:
            log.warning("ingest: the broker %s refused us: %s", self.address, reason)
            return
        self._connection += 1
        self._connected = True
        log.info("ingest: connected to %s as %s", self.address, self.client_id)
        client.subscribe(TOPIC, qos=1)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any,
                       reason: Any, _properties: Any) -> None:
        self._connected = False
        if not self._stop.is_set():
            log.warning("ingest: lost the broker %s (%s); reconnecting", self.address, reason)

    def _on_subscribe(self, *_args: Any) -> None:
        self.subscribed.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        self._deliveries.put(Delivery(message.topic, message.payload, message.mid, message.qos,
                                      self._connection, self.now()))

    # ------------------------------------------------------------ the ingest's thread
    def run(self) -> None:
        """Connect and ingest until :meth:`stop` (blocks; call it in one thread)."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(self.address.host, self.address.port, KEEPALIVE_S,
                                   clean_start=False, properties=properties)
        self._client.loop_start()
        next_report = time.monotonic()
        try:
            while not self._stop.is_set():
                batch = self._take()
                if batch:
                    self._ingest(batch)
                if time.monotonic() >= next_report:
                    self._report()
                    next_report = time.monotonic() + self.report_every_s
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            self._connected = False
            self._report()  # what is left in the queue stays unacked: the broker resends it

    def stop(self) -> None:
        """Finish the batch in hand (committed and acknowledged), then disconnect."""
        self._stop.set()

    def _take(self) -> list[Delivery]:
        try:
            first = self._deliveries.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                batch.append(self._deliveries.get_nowait())
            except queue.Empty:
                break
        return batch

    def _ingest(self, batch: list[Delivery]) -> None:
        self._in_hand = len(batch)
        good: list[Received] = []
        for delivery in batch:
            try:
                good.append(Received(parse(delivery.topic, delivery.payload),
                                     delivery.received_at))
            except BadMessage as exc:
                log.warning("ingest: skipped a bad message: %s", exc)
                self._count("rejected")
        self._count("received", len(batch))
        if good and not self._write_until_done(good):
            return  # stopping with the database down: the broker keeps them unacked
        committed = self.now()
        for delivery in batch:
            if delivery.connection == self._connection and delivery.qos > 0:
                self._client.ack(delivery.mid, delivery.qos)
        self._in_hand = 0
        window = self._window
        window.event_lags += [(r.received_at - r.envelope.time).total_seconds() for r in good]
        window.write_lags += [(committed - d.received_at).total_seconds() for d in batch]

    def _write_until_done(self, good: list[Received]) -> bool:
        """Write the batch, retrying while the database is unreachable; False if stopped."""
        delay = RETRY_MIN_S
        while True:
            try:
                self._write(good)
                if delay > RETRY_MIN_S:
                    log.warning("ingest: the database is back")
                return True
            except (OperationalError, InterfaceError) as exc:
                if delay == RETRY_MIN_S:
                    log.warning("ingest: cannot write to the database, keeping %d messages "
                                "unacknowledged and retrying: %s", len(good),
                                str(exc.orig or exc).splitlines()[0])
                if self._stop.wait(delay):
                    return False
                delay = min(delay * 2, RETRY_MAX_S)

    def _write(self, good: list[Received]) -> None:
        try:
            result = self.store.write(good)
        except (OperationalError, InterfaceError):
            raise
        except DBAPIError:
            if len(good) == 1:  # the database refuses this message itself: skip it
                log.warning("ingest: the database refused message %s from %s, skipped",
                            good[0].envelope.id, good[0].envelope.unit, exc_info=True)
                self._count("rejected")
                return
            for item in good:  # find the one it refuses; the others go in
                self._write([item])
            return
        self._count("written", result.written)
        self._count("duplicates", result.duplicates)

    def _count(self, what: str, n: int = 1) -> None:
        self.totals[what] += n
        setattr(self._window, what, getattr(self._window, what) + n)

    # ------------------------------------------------------------ the lag report
    def figures(self) -> dict[str, Any]:
        """The ``fleet_ingest`` row for the period since the last report."""
        window = self._window
        elapsed = max(time.monotonic() - window.started, 1e-9)
        return {"client_id": self.client_id, "started_at": self.started_at,
                "updated_at": self.now(), "connected": self._connected,
                **self.totals, "backlog": self._deliveries.qsize() + self._in_hand,
                "rate_per_s": window.received / elapsed,
                "event_lag_p50_s": _percentile(window.event_lags, 50),
                "event_lag_max_s": max(window.event_lags, default=None),
                "write_lag_p50_s": _percentile(window.write_lags, 50),
                "write_lag_p99_s": _percentile(window.write_lags, 99)}

    def _report(self) -> None:
        figures = self.figures()
        self._window = Window()

        def seconds(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f} s"

        log.info("ingest: %.1f messages/s, %d written, %d duplicates, %d rejected in all; "
                 "lag event→receipt p50 %s max %s, receipt→commit p50 %s p99 %s; "
                 "backlog %d", figures["rate_per_s"], figures["written"],
                 figures["duplicates"], figures["rejected"],
                 seconds(figures["event_lag_p50_s"]), seconds(figures["event_lag_max_s"]),
                 seconds(figures["write_lag_p50_s"]), seconds(figures["write_lag_p99_s"]),
                 figures["backlog"])
        try:
            self.store.report(figures)
        except DBAPIError as exc:
            log.debug("ingest: the report could not be stored: %s", exc)
