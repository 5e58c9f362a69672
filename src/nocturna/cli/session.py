"""A unit's devices for one CLI command: clock, construction, connection, clean-up."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from nocturna.cli.context import CliContext
from nocturna.core.clock import SimClock, parse_instant, use_clock
from nocturna.core.errors import InvalidValueError
from nocturna.devices.factory import DeviceSet, build_devices


def parse_start(value: str | None) -> datetime | None:
    """``--start`` text as an aware UTC datetime (a clear error if it is not ISO 8601)."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except InvalidValueError as exc:
        raise InvalidValueError(f"--start: {exc}") from None


@contextlib.asynccontextmanager
async def device_session(state: CliContext, *, simulate: bool, start: datetime | None = None,
                         speed: float = 1.0) -> AsyncIterator[DeviceSet]:
    """Build and connect the configured devices (all simulated with ``simulate``).

    Simulated devices run on a simulated clock starting at ``start`` (default: the
    configured clock start, else now) and running ``speed`` times real time.
    """
    config = state.setup_logging()
    clock_settings = config.model.clock
    clock = None
    if simulate or clock_settings.mode == "simulated":
        begin = start or clock_settings.start or datetime.now().astimezone()
        clock = SimClock(begin, speed)
    with use_clock(clock) if clock is not None else contextlib.nullcontext():
        devices = build_devices(config, simulate=simulate)
        try:
            await devices.connect_all()
            yield devices
        finally:
            await devices.disconnect_all()
