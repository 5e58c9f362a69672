"""The publisher: the unit's events to the broker, through the outbox, never in the
night's way.

:class:`Publisher` taps the unit's event bus. On the unit's loop it only hands each
event over to its own thread (``call_soon_threadsafe``; a status event with the status
board's JSON bytes of that moment), like the notifier's sender: nothing there waits
for the broker or for the outbox. On its thread, with its own real-time asyncio loop,
it turns events into messages (:mod:`.messages`) and keeps each in the outbox (a table
of the unit's own database, written and read only on this thread) before anything is
sent:

* ``unit.state`` → ``transition``; ``component.state`` → ``component``;
* ``unit.frame`` → ``frame`` (from the exposure's row: exposure id, path, SHA-256 …);
* ``unit.night.summary`` → ``summary``; ``notify.notification`` → ``notification``;
* ``unit.status`` → ``status`` (retained; at most one per ``network.status_interval``
  real seconds, a state change at once; only the newest unsent one is kept) and
  ``weather`` (from the same snapshot, one per ``network.weather_interval`` clock
  seconds);
* commands on ``nocturna/<u>/command`` → run on the unit's loop (:mod:`.commands`),
  answered on ``command/ack``.

The connection (aiomqtt, see :mod:`.broker`) sets the last will ``online`` =
``{"online": false}`` (retained), announces ``{"online": true}`` (retained) on every
connect, subscribes to its commands and sends the unsent messages oldest first, one
at a time with QoS 1: a row is marked sent on the broker's PUBACK, so a broker outage
or a restart of the unit sends the backlog in order once it can (a message may go
twice, with the same id). A lost connection is tried again after 0.5 s, doubling up
to :data:`MAX_BACKOFF_S`. At the end of the run :meth:`Publisher.stop` sends what it
can within ``network.flush_timeout`` (the rest waits in the outbox for the next run)
and says ``{"online": false}`` itself. Sent rows older than :data:`KEEP_SENT` are
pruned when the publisher starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from nocturna.core.dayobs import observing_day
from nocturna.core.errors import ConfigError
from nocturna.core.events import Event, EventBus, get_event_bus
from nocturna.network import messages
from nocturna.network.broker import Broker
from nocturna.network.commands import CommandRunner
from nocturna.network.messages import CommandInvalid, Envelope, parse_command

if TYPE_CHECKING:
    from nocturna.core.config import Config
    from nocturna.core.config.network import NetworkConfig
    from nocturna.core.storage import Storage

log = logging.getLogger(__name__)

TOPICS = ("unit.state", "unit.status", "unit.frame", "unit.night.summary",
          "component.state", "notify.notification")
"""The bus topics the publisher reads."""
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
"""Waits between connection attempts: 0.5 s, doubled after each failure, up to this."""
BATCH = 100
"""Unsent rows read from the outbox at a time."""
KEEP_SENT = timedelta(days=7)
"""Sent messages are kept this long (real time) before they are pruned."""
FLUSH_POLL_S = 0.02


def _seconds(quantity: Any) -> float:
    return float(quantity.to_value("s"))


def _now() -> datetime:
    return datetime.now(UTC)


class Publisher:
    """Publishes one unit's events to the broker (see the module docstring)."""

    def __init__(self, settings: NetworkConfig, *, unit_id: str, storage: Storage,
                 timezone: str | None = None, bus: EventBus | None = None) -> None:
        self.settings = settings
        self.unit_id = unit_id
        self.storage = storage
        self.timezone = timezone
        self.bus = bus or get_event_bus()
        self.broker = Broker.from_settings(settings) if settings.broker else None
        self.commands = CommandRunner()
        self.board: Any | None = None  # the status board, once the night has one
        self.connected = threading.Event()  # set while connected to the broker
        self.kept = 0  # messages kept in the outbox by this run
        self.sent = 0  # messages acknowledged by the broker in this run
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._attached = False
        # the publisher's thread only:
        self._wake: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._client: Any | None = None
        self._pending_status: tuple[dict[str, Any], datetime] | None = None
        self._status_timer: asyncio.TimerHandle | None = None
        self._status_state: Any = object()
        self._status_at = float("-inf")
        self._weather_at: datetime | None = None

    @classmethod
    def from_config(cls, config: Config, storage: Storage, *,
                    bus: EventBus | None = None) -> Publisher:
        """The publisher of ``config``'s ``network:`` section (disabled without a broker;
        a ConfigError for a unit id or TLS file that cannot be used)."""
        model = config.model
        settings = model.network
        try:
            unit_id = settings.effective_unit_id(model.name)
        except ValueError as exc:
            raise ConfigError(f"network.unit_id is not set and the unit's name cannot be "
                              f"used: {exc}; set network.unit_id") from None
        return cls(settings, unit_id=unit_id, storage=storage,
                   timezone=model.site.timezone, bus=bus)

    @property
    def enabled(self) -> bool:
        return self.broker is not None

    def topic(self, kind: str) -> str:
        return messages.topic(self.unit_id, kind)

    # ------------------------------------------------------------ the unit's loop
    async def start(self) -> None:
        """Start the thread and tap the bus (no waiting for the broker)."""
        if not self.enabled or self._thread is not None:
            return
        assert self.broker is not None
        if self.broker.username is not None and self.broker.username != self.unit_id:
            log.warning("network: the broker user %r is not the unit id %r: a broker with "
                        "the documented ACL drops what this unit publishes",
                        self.broker.username, self.unit_id)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(ready,), daemon=True,
                                        name="nocturna-network")
        self._thread.start()
        ready.wait()
        self.bus.attach(self)
        self._attached = True
        log.info("network: publishing to %s as nocturna/%s/", self.broker.address,
                 self.unit_id)

    def attach(self, control: Any, operator: Callable[[str], Any]) -> None:
        """Publish ``control``'s status board and take commands for it (on the unit's
        loop, once the night has its control); ``operator(name)`` is who sent one."""
        self.board = control.board
        self.commands.attach(control, asyncio.get_running_loop(), operator)

    async def final_status(self) -> None:
        """Refresh the status board once more: the last status published is the end's."""
        board = self.board
        if board is None or not self._attached:
            return
        try:
            await board.refresh()
        except Exception:
            log.exception("network: the last status could not be taken")

    async def stop(self) -> None:
        """Stop taking events and commands, send what can be sent within
        ``network.flush_timeout``, say offline, end the thread."""
        if self._thread is None:
            return
        if self._attached:
            self.bus.unsubscribe(self)
            self._attached = False
        self.commands.detach()
        timeout_s = _seconds(self.settings.flush_timeout)
        await asyncio.get_running_loop().run_in_executor(None, self.close, timeout_s)

    async def __aenter__(self) -> Publisher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.shield(self.stop())

    # The bus's side: called on the unit's loop, only hands over.
    def matches(self, topic: str) -> bool:
        return topic in TOPICS

    def offer(self, event: Event) -> None:
        board = self.board
        snapshot = board.json_bytes if event.topic == "unit.status" and board else None
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the thread has ended
            loop.call_soon_threadsafe(self._receive, event, snapshot)

    # ------------------------------------------------------------ any thread
    def close(self, timeout_s: float) -> None:
        """Flush for at most ``timeout_s``, then end the thread (blocks)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):
            done = asyncio.run_coroutine_threadsafe(self._finish(timeout_s), loop)
            with contextlib.suppress(Exception):
                done.result(timeout_s + 15.0)
        thread.join(15.0)
        self._loop = None
        self._thread = None

    # ------------------------------------------------------------ the publisher's thread
    def _main(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._wake, self._stopping = asyncio.Event(), asyncio.Event()
        ready.set()
        try:
            loop.run_until_complete(self._serve())
        except Exception:
            log.exception("network: the publisher failed")
        finally:
            loop.close()

    async def _serve(self) -> None:
        assert self._stopping is not None
        with contextlib.suppress(Exception):
            pruned = self.storage.prune_outbox(_now() - KEEP_SENT)
            if pruned:
                log.info("network: %d sent message(s) older than %s pruned from the outbox",
                         pruned, KEEP_SENT)
        backlog = self._unsent(BATCH)
        if backlog:
            log.info("network: %s unsent message(s) from before wait in the outbox",
                     f"{len(backlog)}+" if len(backlog) == BATCH else len(backlog))
        connection = asyncio.ensure_future(self._connect_forever())
        await self._stopping.wait()
        connection.cancel()
        with contextlib.suppress(BaseException):
            await connection

    async def _finish(self, timeout_s: float) -> None:
        """Keep the last status, wait (bounded) for the outbox to empty, say offline."""
        assert self._stopping is not None
        self._flush_status()
        try:
            async with asyncio.timeout(timeout_s):
                while self._unsent(1):
                    await asyncio.sleep(FLUSH_POLL_S)
        except TimeoutError:
            left = len(self._unsent(None))
            log.warning("network: %d message(s) not sent after %g s at the end of the run: "
                        "they wait in the outbox for the next run", left, timeout_s)
        client = self._client
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.publish(
                    self.topic("online"), self._online(False), qos=1, retain=True), 2.0)
        self._stopping.set()

    def _unsent(self, limit: int | None) -> list[Any]:
        try:
            return self.storage.list_outbox_unsent(limit=limit)
        except Exception as exc:
            log.error("network: the outbox cannot be read: %s", exc)
            return []

    def _online(self, online: bool) -> str:
        return Envelope.new(self.unit_id, "online", {"online": online}, _now()).encode()

    # The connection.
    async def _connect_forever(self) -> None:
        import aiomqtt

        broker = self.broker
        assert broker is not None
        wait = FIRST_BACKOFF_S
        while True:
            will = aiomqtt.Will(self.topic("online"), self._online(False), qos=1, retain=True)
            client = broker.client(identifier=f"nocturna-unit-{self.unit_id}", will=will)
            try:
                async with client:
                    self._client = client
                    await client.publish(self.topic("online"), self._online(True), qos=1,
                                         retain=True)
                    await client.subscribe(self.topic("command"), qos=1)
                    self.connected.set()
                    wait = FIRST_BACKOFF_S
                    log.info("network: connected to %s", broker.address)
                    await _first_to_fail(self._send_forever(client), self._listen(client))
            except aiomqtt.MqttError as exc:
                log.warning("network: %s: %s; trying again in %g s", broker.address,
                            exc or type(exc).__name__, wait)
            finally:
                self._client = None
                self.connected.clear()
            await asyncio.sleep(wait)
            wait = min(MAX_BACKOFF_S, 2 * wait)

    async def _send_forever(self, client: Any) -> None:
        """Send the unsent rows oldest first, each marked sent on its PUBACK."""
        wake = self._wake
        assert wake is not None
        while True:
            wake.clear()
            rows = self._unsent(BATCH)
            if not rows:
                await wake.wait()
                continue
            sent: list[int] = []
            try:
                for row in rows:
                    await client.publish(row.topic, row.payload.encode(), qos=1,
                                         retain=row.retain)
                    sent.append(row.id)
            finally:
                self._mark_sent(sent)

    def _mark_sent(self, ids: list[int]) -> None:
        if not ids:
            return
        try:
            self.storage.mark_outbox_sent(ids, time=_now())
            self.sent += len(ids)
        except Exception as exc:  # sent again next time: harmless (same ids)
            log.error("network: %d sent message(s) not marked sent: %s", len(ids), exc)

    async def _listen(self, client: Any) -> None:
        command_topic = self.topic("command")
        async for message in client.messages:
            if message.topic.matches(command_topic):
                await self._command(bytes(message.payload))

    async def _command(self, payload: bytes) -> None:
        try:
            command = parse_command(payload)
        except CommandInvalid as exc:
            log.warning("network: a command was refused: %s", exc)
            self._keep("ack", messages.ack_data(exc.command_id, False, "invalid", str(exc)),
                       _now())
            return
        answer = await self.commands.run(command)
        self._keep("ack", messages.ack_data(command.id, answer.accepted, answer.category,
                                            answer.message), answer.time)

    # Events into the outbox.
    def _receive(self, event: Event, snapshot: bytes | None) -> None:
        try:
            self._translate(event, snapshot)
        except Exception:  # one odd event must not stop the others
            log.exception("network: the event %s could not be published", event.topic)

    def _translate(self, event: Event, snapshot: bytes | None) -> None:
        topic, data = event.topic, event.data
        if topic == "unit.state":
            self._keep("transition", messages.transition_data(data), event.time)
        elif topic == "component.state":
            self._keep("component", messages.component_data(event.source, data), event.time)
        elif topic == "unit.frame":
            self._frame(str(data["image_id"]), event.time)
        elif topic == "unit.night.summary":
            self._keep("summary", dict(data["summary"]), event.time)
        elif topic == "notify.notification":
            self._keep("notification", messages.notification_data(
                data["level"], data["subject"], data["text"]), event.time)
        elif topic == "unit.status" and snapshot is not None:
            self._status(json.loads(snapshot), event.time)

    def _frame(self, image_id: str, when: datetime) -> None:
        record = self.storage.get_exposure(image_id)
        if record is None:
            log.warning("network: frame %s has no exposure row: not published", image_id)
            return
        night = observing_day(record.start_time, self.timezone).isoformat()
        self._keep("frame", messages.frame_data(record, night), when)

    def _status(self, snapshot: dict[str, Any], when: datetime) -> None:
        weather = messages.weather_data(snapshot)
        every = _seconds(self.settings.weather_interval)
        if weather is not None and (self._weather_at is None or
                                    (when - self._weather_at).total_seconds() >= every):
            self._weather_at = when
            self._keep("weather", weather, when)
        self._pending_status = (snapshot, when)
        interval = _seconds(self.settings.status_interval)
        since = time.monotonic() - self._status_at
        if snapshot.get("state") != self._status_state or since >= interval:
            self._flush_status()
        elif self._status_timer is None:
            assert self._loop is not None
            self._status_timer = self._loop.call_later(interval - since, self._flush_status)

    def _flush_status(self) -> None:
        if self._status_timer is not None:
            self._status_timer.cancel()
            self._status_timer = None
        pending, self._pending_status = self._pending_status, None
        if pending is None:
            return
        snapshot, when = pending
        self._status_state, self._status_at = snapshot.get("state"), time.monotonic()
        self._keep("status", snapshot, when, retain=True, coalesce=True)

    def _keep(self, kind: str, data: dict[str, Any], when: datetime, *, retain: bool = False,
              coalesce: bool = False) -> None:
        """Keep a message in the outbox (then it is sent)."""
        envelope = Envelope.new(self.unit_id, kind, data, when)
        try:
            self.storage.add_outbox(envelope.id, envelope.topic, envelope.encode(),
                                    retain=retain, replace_unsent=coalesce, time=_now())
        except Exception as exc:
            log.error("network: a %s message could not be kept in the outbox: %s", kind, exc)
            return
        self.kept += 1
        if self._wake is not None:
            self._wake.set()


async def _first_to_fail(*work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` together until one ends or fails; the others are cancelled."""
    tasks = [asyncio.ensure_future(item) for item in work]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
