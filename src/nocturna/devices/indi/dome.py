"""INDI dome client (an INDI device with the dome interface).

Properties used:

* ``DOME_SHUTTER`` (``SHUTTER_OPEN``/``SHUTTER_CLOSE``): the switch that is on says
  where the shutter goes or is; Busy while it moves (OPENING/CLOSING), Alert after a
  failed or aborted move (ERROR). A dome without it is reported open, as the Alpaca
  client does (nothing covers the telescope).
* ``ABS_DOME_POSITION`` (``DOME_ABSOLUTE_POSITION``, degrees): azimuth and slews; Busy
  while turning. A dome without it is taken for a roll-off roof (no azimuth).
* ``DOME_ABORT_MOTION`` (``ABORT``): stops everything; a shutter stopped part-way then
  reports ERROR until it is opened or closed again.
* ``DOME_PARK`` (``PARK``/``UNPARK``; at park = ``PARK`` on and not Busy),
  ``DOME_PARK_OPTION`` (``PARK_CURRENT``) for set_park.
* ``DOME_AUTOSYNC`` (``DOME_AUTOSYNC_ENABLE``/``_DISABLE``): slaving. The dome driver
  follows the mount it snoops (its ``ACTIVE_DEVICES``), so nocturna only switches it.
* ``DOME_MOTION`` (Busy while turning by hand) counts as slewing.

Parking: an INDI dome refuses to turn while parked ("Please unpark"), and unparking it
may open the shutter (the driver's ``DOME_SHUTTER_PARK_POLICY``; Debian's dome simulator
always does). nocturna's dome interface has no unpark (ASCOM domes leave park by
moving), so: opening the shutter of a parked dome unparks it, and a slew or slaving
of a parked dome unparks it first only when the shutter is already open; with the
shutter closed it is refused with :class:`InvalidWhileParkedError`, never an implicit
opening.
"""

from __future__ import annotations

import math

from nocturna.core.errors import (
    InvalidValueError,
    InvalidWhileParkedError,
    InvalidWhileSlavedError,
)
from nocturna.devices.dome import Dome, DomeInfo, DomeStatus
from nocturna.devices.indi.device import IndiDevice
from nocturna.devices.indi.properties import Vector
from nocturna.devices.types import ShutterState

SHUTTER = "DOME_SHUTTER"
AZIMUTH = "ABS_DOME_POSITION"
PARK = "DOME_PARK"
SLAVING = "DOME_AUTOSYNC"
ARRIVED_DEG = 0.01
"""An azimuth this close to the one asked for counts as reached."""
UNPARK_S = 120.0
"""The longest an implicit unpark may take (real seconds; some drivers open the shutter)."""


class IndiDome(IndiDevice, Dome):
    """A dome (or a roof) on an INDI server; see the module docstring."""

    required = ("CONNECTION",)

    async def _connect_device(self) -> None:
        await super()._connect_device()
        await self.connection.wait_for(
            lambda: any(self.has(n) for n in (SHUTTER, AZIMUTH, PARK)),
            self.connect_timeout_s,
            f"a shutter, azimuth or park property of INDI device {self.indi_device!r}")

    async def _read_info(self) -> DomeInfo:
        rotating = self.has(AZIMUTH)
        return DomeInfo(
            is_roof=not rotating, can_find_home=False, can_park=self.has(PARK),
            can_set_altitude=False, can_set_azimuth=rotating,
            can_set_park=self.has("DOME_PARK_OPTION"), can_set_shutter=self.has(SHUTTER),
            can_slave=rotating and self.has(SLAVING), can_sync_azimuth=False,
        )

    # ---------------------------------------------------------------- reading
    def _busy(self, name: str) -> bool:
        return self.has(name) and self.vector(name).state == "Busy"

    def _parked(self) -> bool:
        if not self.has(PARK):
            return False
        vector = self.vector(PARK)
        return vector["PARK"] is True and vector.state != "Busy"

    def _shutter(self) -> ShutterState:
        if not self.has(SHUTTER):
            return ShutterState.OPEN
        vector = self.vector(SHUTTER)
        on = vector.on()
        if vector.state == "Alert" or len(on) != 1:
            return ShutterState.ERROR
        opening = on[0] == "SHUTTER_OPEN"
        if vector.state == "Busy":
            return ShutterState.OPENING if opening else ShutterState.CLOSING
        return ShutterState.OPEN if opening else ShutterState.CLOSED

    async def state(self) -> DomeStatus:
        shutter = self._shutter()
        return DomeStatus(
            shutter_status=shutter,
            azimuth_deg=self.value(AZIMUTH, "DOME_ABSOLUTE_POSITION", None),
            altitude_deg=None, at_home=False, at_park=self._parked(),
            slewing=any(self._busy(n) for n in (AZIMUTH, "DOME_MOTION", PARK))
            or shutter in (ShutterState.OPENING, ShutterState.CLOSING),
            slaved=bool(self.value(SLAVING, "DOME_AUTOSYNC_ENABLE", False)),
        )

    # ---------------------------------------------------------------- shutter
    async def open_shutter(self) -> None:
        """Start opening (a parked dome is unparked: INDI's way of opening it)."""
        if self._parked():
            await self.send(PARK, {"PARK": False, "UNPARK": True}, wait=True, busy_ok=True,
                            done=lambda v: v["UNPARK"] is True)
        await self._shutter_to("SHUTTER_OPEN")

    async def close_shutter(self) -> None:
        await self._shutter_to("SHUTTER_CLOSE")

    async def _shutter_to(self, end: str) -> None:
        await self.send(SHUTTER, {"SHUTTER_OPEN": end == "SHUTTER_OPEN",
                                  "SHUTTER_CLOSE": end == "SHUTTER_CLOSE"},
                        wait=True, busy_ok=True, done=lambda v: v[end] is True)

    async def abort_slew(self) -> None:
        await self.send("DOME_ABORT_MOTION", {"ABORT": True})
        await self.connection.wait_for(
            lambda: not any(self._busy(n) for n in (AZIMUTH, "DOME_MOTION", SHUTTER)),
            self.timeout_s, f"{self.indi_device!r} stopping")

    # ---------------------------------------------------------------- azimuth
    def _rotating(self, what: str) -> None:
        if not self.has(AZIMUTH):
            raise self.not_implemented(f"{what} (no {AZIMUTH}: a roof)")

    async def _leave_park(self, what: str) -> None:
        """Unpark before a motion, only if that cannot open a closed shutter."""
        if not self._parked():
            return
        if self._shutter() != ShutterState.OPEN:
            raise InvalidWhileParkedError(
                f"{self.kind} {self.name!r} is parked: cannot {what}. INDI turns a dome "
                "only once unparked, and unparking may open its shutter: open the shutter "
                "(that unparks it) first")
        await self.send(PARK, {"PARK": False, "UNPARK": True}, wait=True, timeout_s=UNPARK_S,
                        done=lambda v: v["UNPARK"] is True)

    async def slew_to_azimuth(self, azimuth_deg: float) -> None:
        self._rotating("slew_to_azimuth")
        if isinstance(azimuth_deg, bool) or not isinstance(azimuth_deg, int | float) \
                or not math.isfinite(azimuth_deg) or not 0.0 <= azimuth_deg < 360.0:
            raise InvalidValueError(f"azimuth {azimuth_deg!r}° is not in [0, 360)")
        if self.value(SLAVING, "DOME_AUTOSYNC_ENABLE", False):
            raise InvalidWhileSlavedError(f"{self.kind} {self.name!r} is slaved to the mount: "
                                          "cannot slew by hand")
        await self._leave_park("slew")
        def there(vector: Vector) -> bool:  # a driver may arrive within one poll
            gap = (vector["DOME_ABSOLUTE_POSITION"] - azimuth_deg + 180.0) % 360.0 - 180.0
            return abs(gap) < ARRIVED_DEG

        await self.send(AZIMUTH, {"DOME_ABSOLUTE_POSITION": float(azimuth_deg)}, wait=True,
                        busy_ok=True, done=there)

    async def park(self) -> None:
        """Start parking (returns at once; ``at_park`` once there). Some INDI domes also
        close the shutter (``DOME_SHUTTER_PARK_POLICY``)."""
        if self._parked():
            return
        if self.value(SLAVING, "DOME_AUTOSYNC_ENABLE", False):
            raise InvalidWhileSlavedError(f"{self.kind} {self.name!r} is slaved to the mount: "
                                          "cannot park")
        await self.send(PARK, {"PARK": True, "UNPARK": False}, wait=True, busy_ok=True,
                        done=lambda v: v["PARK"] is True)

    async def set_park(self) -> None:
        """Make the current azimuth the park position."""
        await self.send("DOME_PARK_OPTION", {"PARK_CURRENT": True}, wait=True)

    async def set_slaved(self, slaved: bool) -> None:
        """Switch the driver's following of its mount (``DOME_AUTOSYNC``)."""
        self._rotating("set_slaved")
        if slaved:
            await self._leave_park("follow the mount")
        await self.send(SLAVING, {"DOME_AUTOSYNC_ENABLE": bool(slaved),
                                  "DOME_AUTOSYNC_DISABLE": not slaved}, wait=True,
                        done=lambda v: v["DOME_AUTOSYNC_ENABLE"] is bool(slaved))
