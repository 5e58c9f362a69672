"""A unit's devices for one CLI command: clock, construction, connection, clean-up."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import typer

from nocturna.cli.context import CliContext
from nocturna.cli.output import console
from nocturna.components import ComponentGroup
from nocturna.core.clock import SimClock, parse_instant, use_clock
from nocturna.core.config import Config
from nocturna.core.errors import InvalidValueError
from nocturna.core.storage import Storage
from nocturna.devices.factory import DeviceSet, build_devices
from nocturna.devices.mount import Mount
from nocturna.instrument.build import build_instrument
from nocturna.instrument.instrument import Instrument, instrument_components


def parse_start(value: str | None) -> datetime | None:
    """``--start`` text as an aware UTC datetime (a clear error if it is not ISO 8601)."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except InvalidValueError as exc:
        raise InvalidValueError(f"--start: {exc}") from None


def default_start(state: CliContext, *, simulate: bool, start: datetime | None,
                  target: tuple[float, float] | None = None) -> datetime | None:
    """``--start`` if given; else, for a simulated unit with no configured clock start,
    now if the sky is dark and ``target`` is up, or else the first moment both hold
    (see :mod:`nocturna.cli.night_start`), said in one line on stderr."""
    from nocturna.cli.night_start import simulated_start

    config = state.config()
    clock = config.model.clock
    if start is not None or clock.start is not None or not (simulate or
                                                            clock.mode == "simulated"):
        return start
    chosen = simulated_start(config.model.site, datetime.now(UTC), target)
    if chosen.reason is not None:
        typer.echo(f"nocturna: {chosen.note()}", err=True)
    return chosen.instant


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


async def point_mount(mount: Mount, ra_hours: float, dec_deg: float) -> None:
    """Unpark if needed, track, slew to (RA, Dec) and wait."""
    if (await mount.state()).at_park:
        await mount.unpark()
    await mount.set_tracking(True)
    console.print(f"slewing to RA {ra_hours:.4f} h, Dec {dec_deg:.4f}°")
    await mount.slew_and_wait(ra_hours, dec_deg)


@dataclass
class InstrumentSession:
    """What ``take`` and ``components`` work with: devices, storage, instrument, group."""

    config: Config
    devices: DeviceSet
    storage: Storage
    instrument: Instrument
    components: ComponentGroup


@contextlib.asynccontextmanager
async def instrument_session(state: CliContext, *, simulate: bool,
                             start: datetime | None = None, speed: float = 1.0,
                             camera: str | None = None, all_devices: bool = False,
                             heartbeat_interval_s: float = 1.0) -> AsyncIterator[InstrumentSession]:
    """The devices, the storage and the instrument of ``camera``, every component ENABLED.

    The group holds the instrument, its devices and the mount (or, with
    ``all_devices``, every device of the unit). On the way out the components go
    back to STANDBY (their devices disconnect) and the storage closes.
    """
    async with device_session(state, simulate=simulate, start=start, speed=speed) as devices:
        config = state.config()
        storage = Storage.open(config.model.storage.url, data_dir=config.data_dir)
        group: ComponentGroup | None = None
        try:
            instrument = build_instrument(devices, config, storage, camera=camera)
            others = list(devices) if all_devices else \
                [d for d in (devices.mount,) if d is not None]
            group = instrument_components(instrument, others,
                                          heartbeat_interval_s=heartbeat_interval_s)
            await group.enable()
            yield InstrumentSession(config, devices, storage, instrument, group)
        finally:
            if group is not None:
                with contextlib.suppress(Exception):
                    await group.standby()
                await group.close()
            storage.close()
