"""azcam's instrument tool ("instrument"): filters, focus, comparison lamps, wavelength.

Built on a nocturna :class:`~nocturna.instrument.instrument.Instrument`: filters go
through :meth:`Instrument.setup_instrument` (so the focuser follows the filters' focus
offsets), focus through the instrument's focuser. Mechanism ids (``filter_id``,
``focus_id``, ``wavelength_id``) exist for azcam compatibility; nocturna instruments
have one of each, id 0.

Comparison lamps are :class:`Lamp` objects by name: :class:`SwitchLamp` drives one
channel of a nocturna :class:`~nocturna.devices.switch.Switch` (a simulated unit gives
its sim switch a channel per lamp), :class:`SimLamp` only remembers its state (a
simulated instrument without a switch). ``set_comps`` selects lamps, ``comps_on`` /
``comps_off`` switch the selection; the exposure tool lights them for comparison images
through :meth:`InstrumentTool.lamps_lit`, which always turns them off afterwards.

Wavelength: nocturna's spectrograph has no central-wavelength mechanism; its grating
wheel stands for it, so ``get_wavelengths`` lists the gratings and ``set_wavelength``
selects one (by name or slot). Without a spectrograph these raise
:class:`NotImplementedByDeviceError`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from nocturna.azcam.remote import remote
from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    NotImplementedByDeviceError,
)
from nocturna.devices.switch import Switch
from nocturna.instrument.instrument import Instrument

log = logging.getLogger(__name__)

FOCUS_TYPES = ("absolute", "step")
COMP_IMAGE_TYPE = "comp"


class Lamp(Protocol):
    """A comparison lamp that can be switched on and off."""

    async def turn_on(self) -> None: ...

    async def turn_off(self) -> None: ...

    async def is_on(self) -> bool: ...


class SimLamp:
    """A lamp with no hardware: remembers its state and every switch (``history``)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock
        self.on = False
        self.history: list[tuple[Any, bool]] = []  # (clock time, on)

    def _set(self, on: bool) -> None:
        self.on = on
        self.history.append(((self._clock or get_clock()).now(), on))

    async def turn_on(self) -> None:
        self._set(True)

    async def turn_off(self) -> None:
        self._set(False)

    async def is_on(self) -> bool:
        return self.on


class SwitchLamp:
    """A lamp on one channel of a switch, given by number or by channel name."""

    def __init__(self, switch: Switch, channel: int | str) -> None:
        self.switch = switch
        self.channel = channel

    async def _index(self) -> int:
        if isinstance(self.channel, int) and not isinstance(self.channel, bool):
            return self.channel
        names = [c.name for c in (await self.switch.info()).channels]
        for i, name in enumerate(names):
            if name.lower() == str(self.channel).lower():
                return i
        raise InvalidValueError(f"switch {self.switch.name!r} has no channel named "
                                f"{self.channel!r} (channels: {', '.join(names)})")

    async def turn_on(self) -> None:
        await self.switch.set_switch(await self._index(), True)

    async def turn_off(self) -> None:
        await self.switch.set_switch(await self._index(), False)

    async def is_on(self) -> bool:
        return (await self.switch.state()).is_on(await self._index())


def _split_names(comp_names: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if comp_names is None:
        return []
    if isinstance(comp_names, str):
        return [n for n in re.split(r"[\s,]+", comp_names) if n]
    return [str(n).strip() for n in comp_names if str(n).strip()]


class InstrumentTool:
    """The azcam "instrument" tool; see the module docstring."""

    name = "instrument"

    def __init__(self, instrument: Instrument, lamps: Mapping[str, Lamp] | None = None, *,
                 comp_warmup_s: float = 0.0, clock: Clock | None = None) -> None:
        if not (math.isfinite(comp_warmup_s) and comp_warmup_s >= 0):
            raise InvalidValueError(f"comp_warmup_s must be >= 0, got {comp_warmup_s!r}")
        self.instrument = instrument
        self.lamps: dict[str, Lamp] = dict(lamps or {})
        lowered = [name.lower() for name in self.lamps]
        if len(set(lowered)) != len(lowered) or COMP_IMAGE_TYPE in lowered:
            raise InvalidValueError(f"lamp names must be unique (case-insensitive) and not "
                                    f"{COMP_IMAGE_TYPE!r}: {list(self.lamps)}")
        self.comp_warmup_s = float(comp_warmup_s)
        self.active_comps: list[str] = []
        self._clock = clock

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else get_clock()

    @staticmethod
    def _only_zero(what: str, value: int) -> None:
        if value != 0:
            raise InvalidValueError(f"{what} {value!r}: this instrument has one mechanism, "
                                    f"{what} 0")

    # ----------------------------------------------------------------- filters
    @remote
    async def get_filters(self, filter_id: int = 0) -> list[str]:
        """The filter names, by slot."""
        self._only_zero("filter_id", filter_id)
        return list((await self.instrument.get_available_setup())[0])

    @remote
    async def get_filter(self, filter_id: int = 0) -> str:
        """The filter in the beam."""
        filters = await self.get_filters(filter_id)
        if not filters:
            raise InvalidOperationError(f"instrument {self.instrument.name!r} has no filters")
        name = (await self.instrument.get_setup())[0]
        if name is None:
            raise InvalidOperationError(f"instrument {self.instrument.name!r}: the filter "
                                        "wheel is turning; ask again when it stops")
        return name

    @remote
    async def set_filter(self, filter_name: str, filter_id: int = 0) -> None:
        """Put a filter in the beam, by name, unique prefix or slot number; waits."""
        filters = await self.get_filters(filter_id)
        wanted: str | int = filter_name
        if isinstance(filter_name, str) and filter_name.strip().isdigit() and \
                filter_name.strip().lower() not in (f.lower() for f in filters):
            wanted = int(filter_name)
        await self.instrument.setup_instrument(filter=wanted)

    # ------------------------------------------------------------------- focus
    def _focuser(self) -> Any:
        focuser = self.instrument.context.focuser
        if focuser is None:
            raise InvalidOperationError(f"instrument {self.instrument.name!r} has no focuser")
        return focuser

    @remote
    async def get_focus(self, focus_id: int = 0) -> int:
        """The focuser position, steps."""
        self._only_zero("focus_id", focus_id)
        return int((await self._focuser().state()).position)

    @remote
    async def set_focus(self, focus_position: float, focus_id: int = 0,
                        focus_type: str = "absolute") -> None:
        """Move the focuser to ``focus_position`` ("absolute") or by it ("step"); waits."""
        self._only_zero("focus_id", focus_id)
        await move_focuser(self._focuser(), focus_position, focus_type)

    # ------------------------------------------------------------- comparisons
    def _lamp_name(self, name: str) -> str:
        for known in self.lamps:
            if known.lower() == name.lower():
                return known
        known_names = ", ".join(self.lamps) or "none configured"
        raise InvalidValueError(f"no comparison lamp named {name!r} (lamps: {known_names})")

    @remote
    def get_all_comps(self) -> list[str]:
        """Every comparison lamp's name."""
        return list(self.lamps)

    @remote
    def get_comps(self) -> list[str]:
        """The selected comparison lamps (those ``comps_on`` switches on)."""
        return list(self.active_comps)

    @remote
    def set_comps(self, comp_names: str = "") -> None:
        """Select lamps: one name or a comma/space separated list ("" selects none)."""
        names = [self._lamp_name(n) for n in _split_names(comp_names)]
        self.active_comps = list(dict.fromkeys(names))

    @remote
    async def comps_on(self) -> None:
        """Switch the selected lamps on."""
        for name in self.active_comps:
            await self.lamps[name].turn_on()

    @remote
    async def comps_off(self) -> None:
        """Switch the selected lamps off."""
        for name in self.active_comps:
            await self.lamps[name].turn_off()

    @remote
    async def comps_delay(self, delay_time: float = 0) -> None:
        """Wait ``delay_time`` seconds (on the clock) for the lamps to warm up."""
        if isinstance(delay_time, bool) or not isinstance(delay_time, int | float) \
                or not math.isfinite(delay_time) or delay_time < 0:
            raise InvalidValueError(f"delay_time {delay_time!r} must be a number of seconds "
                                    ">= 0")
        await self.clock.sleep(float(delay_time))

    def is_comp(self, imagetype: str) -> bool:
        """True for the image type "comp" and for a lamp's name (case-insensitive)."""
        lowered = imagetype.strip().lower()
        return lowered == COMP_IMAGE_TYPE or any(n.lower() == lowered for n in self.lamps)

    def comps_for(self, imagetype: str | None = None) -> list[str]:
        """The lamps a comparison image of ``imagetype`` lights: the lamp it names, or
        the selection (for "comp" or None)."""
        if imagetype is not None and imagetype.strip().lower() != COMP_IMAGE_TYPE:
            return [self._lamp_name(imagetype.strip())]
        if not self.active_comps:
            raise InvalidOperationError("a comparison image needs lamps: none is selected "
                                        f"(set_comps one of: {', '.join(self.lamps) or '-'})")
        return list(self.active_comps)

    @contextlib.asynccontextmanager
    async def lamps_lit(self, imagetype: str | None = None) -> AsyncIterator[list[str]]:
        """Light the lamps of a comparison image (see :meth:`comps_for`) for the block,
        after ``comp_warmup_s``; they are switched off on leaving, whatever happens.
        Yields the lamp names."""
        names = self.comps_for(imagetype)
        lit: list[str] = []
        try:
            for name in names:
                lit.append(name)
                await self.lamps[name].turn_on()
            if self.comp_warmup_s:
                await self.clock.sleep(self.comp_warmup_s)
            yield names
        finally:
            for name in lit:
                try:
                    await self.lamps[name].turn_off()
                except Exception:
                    log.exception("comparison lamp %s did not switch off", name)

    # --------------------------------------------------------------- wavelength
    def _spectrograph(self) -> Any:
        spectrograph = self.instrument.spectrograph
        if spectrograph is None:
            raise NotImplementedByDeviceError(
                f"instrument {self.instrument.name!r} has no spectrograph grating, so no "
                "wavelength to get or set")
        return spectrograph

    @remote
    async def get_wavelengths(self, wavelength_id: int = 0) -> list[str]:
        """The gratings (nocturna's stand-in for wavelengths; see the module docstring)."""
        self._only_zero("wavelength_id", wavelength_id)
        return list((await self._spectrograph().info()).gratings)

    @remote
    async def get_wavelength(self, wavelength_id: int = 0) -> str:
        """The grating in the beam."""
        self._only_zero("wavelength_id", wavelength_id)
        name = (await self._spectrograph().state()).grating_name
        if name is None:
            raise InvalidOperationError("the grating wheel is turning; ask again when it stops")
        return name

    @remote
    async def set_wavelength(self, wavelength: str, wavelength_id: int = 0) -> None:
        """Select the grating ``wavelength`` (name or slot number); waits."""
        gratings = await self.get_wavelengths(wavelength_id)
        wanted: str | int = wavelength
        text = str(wavelength).strip()
        if text.isdigit() and text.lower() not in (g.lower() for g in gratings):
            wanted = int(text)
        await self.instrument.setup_instrument(grating=wanted)

    # ------------------------------------------------------------------ header
    async def header_cards(self) -> dict[str, tuple[Any, str]]:
        """FILTER, INSFOCUS, GRATING (when present) and LAMPS (lamps on now)."""
        cards: dict[str, tuple[Any, str]] = {}
        filter_name, grating, _ = await self.instrument.get_setup()
        if filter_name is not None:
            cards["FILTER"] = (filter_name, "filter")
        if grating is not None:
            cards["GRATING"] = (grating, "grating")
        focuser = self.instrument.context.focuser
        if focuser is not None and focuser.connected:
            cards["INSFOCUS"] = ((await focuser.state()).position,
                                 "[step] instrument focus position")
        lit = [name for name, lamp in self.lamps.items() if await lamp.is_on()]
        cards["LAMPS"] = (",".join(lit) if lit else "none", "comparison lamps on")
        return cards


async def move_focuser(focuser: Any, focus_position: float, focus_type: str = "absolute",
                       *, timeout_s: float = 600.0) -> int:
    """Move ``focuser`` to or (``focus_type`` "step") by ``focus_position`` steps, rounded
    to a whole step, and wait; returns where it stopped. Limits are the focuser's."""
    kind = str(focus_type).strip().lower()
    if kind not in FOCUS_TYPES:
        raise InvalidValueError(f"focus_type {focus_type!r} is not one of "
                                f"{', '.join(FOCUS_TYPES)}")
    if isinstance(focus_position, bool) or not isinstance(focus_position, int | float) \
            or not math.isfinite(focus_position):
        raise InvalidValueError(f"focus_position {focus_position!r} is not a finite number")
    target = round(focus_position)
    if kind == "step":
        target += (await focuser.state()).position
    status = await focuser.move_and_wait(int(target), timeout_s=timeout_s)
    return int(status.position)
