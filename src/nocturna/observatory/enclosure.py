"""Opening up and shutting down: mount, dome or roof, dust cover.

:func:`park_and_close` is what every unsafe moment ends in, so it tries every step
even when one fails (a dome that will not close must not stop the mount parking) and
runs the mount and the dome at the same time. It raises at the end if a step failed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from nocturna.core.errors import NocturnaError
from nocturna.devices.base import safety_override
from nocturna.devices.types import CoverState, ShutterState

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)


async def open_up(unit: Observatory) -> None:
    """Unpark the mount, open the dome and slave it, open the dust cover."""
    mount, dome = unit.mount, unit.dome
    steps = []
    if mount is not None:
        steps.append(_unpark(mount))
    if dome is not None:
        steps.append(_open_dome(dome))
    for calibrator in unit.devices.cover_calibrators.values():
        steps.append(open_cover(calibrator))
    await asyncio.gather(*steps)
    await align_dome(unit)
    unit.publish("opened")


async def align_dome(unit: Observatory) -> None:
    """Make an open rotating dome face the mount, and wait until it does.

    A slaved dome is given the time to follow. One that still does not face the mount
    (a network dome whose driver only records ``Slaved`` and leaves following to the
    client, as ASCOM allows) is unslaved and turned by nocturna from then on. Roofs,
    parked mounts and domes that cannot be turned are left as they are.
    """
    dome, mount = unit.dome, unit.mount
    if dome is None or mount is None:
        return
    status = await dome.state()
    if status.slaved:
        status = await dome.wait_until(lambda s: not s.slewing, timeout_s=300.0,
                                       what="following the mount")
    if status.azimuth_deg is None or status.shutter_status != ShutterState.OPEN:
        return
    pointing = await mount.state()
    if pointing.at_park:
        return
    limit = unit.settings.safety.max_dome_offset.to_value("deg")
    offset = abs((status.azimuth_deg - pointing.az_deg + 180.0) % 360.0 - 180.0)
    if offset <= limit / 2 or not (await dome.info()).can_set_azimuth:
        return
    if status.slaved:
        log.warning("dome %s is slaved but %.1f° from the mount: nocturna turns it from now on",
                    dome.name, offset)
        await dome.set_slaved(False)
    await dome.slew_to_azimuth(pointing.az_deg % 360.0)
    await dome.wait_until(lambda s: not s.slewing, timeout_s=300.0, what="turning to the mount")


async def _unpark(mount: Any) -> None:
    if (await mount.state()).at_park:
        await mount.unpark()


async def _open_dome(dome: Any) -> None:
    status = await dome.state()
    if status.shutter_status != ShutterState.OPEN:
        await dome.open_and_wait()
    info = await dome.info()
    if info.can_slave and not (await dome.state()).slaved:
        await dome.set_slaved(True)


async def open_cover(calibrator: Any) -> None:
    """Open a cover calibrator's dust cover (the panel off first) and wait until open."""
    status = await calibrator.state()
    if status.cover_state in (CoverState.NOT_PRESENT, CoverState.OPEN):
        return
    if status.calibrator_state.name in ("READY", "NOT_READY"):
        await calibrator.calibrator_off()
    await calibrator.open_cover()
    await calibrator.wait_until(lambda s: s.cover_state == CoverState.OPEN, timeout_s=300.0,
                                what="opening the cover")


async def park_and_close(unit: Observatory) -> None:
    """Park the mount and close the dome (together), then close the dust cover.

    Runs under :func:`~nocturna.devices.base.safety_override`: a component in FAULT does
    not stop the unit from trying to make itself safe.
    """
    with safety_override():
        await _park_and_close(unit)


async def _park_and_close(unit: Observatory) -> None:
    steps: list[tuple[str, Any]] = []
    if unit.mount is not None:
        steps.append(("park the mount", _park_mount(unit.mount)))
    if unit.dome is not None:
        steps.append(("close the dome", _close_dome(unit.dome)))
    for calibrator in unit.devices.cover_calibrators.values():
        steps.append((f"close the cover of {calibrator.name}", close_cover(calibrator)))
    results = await asyncio.gather(*(step for _, step in steps), return_exceptions=True)
    failures = []
    for (what, _), result in zip(steps, results, strict=True):
        if isinstance(result, asyncio.CancelledError):
            raise result
        if isinstance(result, BaseException):
            log.error("could not %s: %s", what, result)
            failures.append(f"could not {what}: {result}")
    unit.nightlog.closed(unit.clock.now())
    unit.publish("closed", failures=failures)
    unit.publish("parked", confirmed=not failures, failures=failures)
    if failures:
        raise NocturnaError("; ".join(failures))


async def _park_mount(mount: Any) -> None:
    status = await mount.state()
    if status.at_park:
        return
    if status.slewing:
        await mount.abort_slew()
    await mount.park()
    await mount.wait_until(lambda s: s.at_park and not s.slewing, timeout_s=600.0,
                           what="parking")


async def _close_dome(dome: Any) -> None:
    if (await dome.state()).slaved:
        await dome.set_slaved(False)
    await dome.close_and_wait()


async def close_cover(calibrator: Any) -> None:
    status = await calibrator.state()
    if status.cover_state in (CoverState.NOT_PRESENT, CoverState.CLOSED):
        return
    await calibrator.close_cover()
    await calibrator.wait_until(lambda s: s.cover_state == CoverState.CLOSED, timeout_s=300.0,
                                what="closing the cover")


async def is_closed(unit: Observatory) -> bool:
    """Whether the mount is parked and the dome closed."""
    if unit.mount is not None and not (await unit.mount.state()).at_park:
        return False
    return unit.dome is None or \
        (await unit.dome.state()).shutter_status == ShutterState.CLOSED
