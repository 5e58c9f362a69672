"""INDI filter wheel client (an INDI device with the filter interface).

Properties: ``FILTER_SLOT`` (``FILTER_SLOT_VALUE``, the slot numbered from 1; its
maximum is the number of slots), ``FILTER_NAME`` (``FILTER_SLOT_NAME_1`` …
``FILTER_SLOT_NAME_n``; libindi's filter interface defines it with the slot, and a
connect waits for both). nocturna numbers slots from 0, so slot ``k`` of
nocturna is ``FILTER_SLOT_VALUE`` ``k + 1``. The wheel is turning while ``FILTER_SLOT``
is Busy. INDI has no focus offsets: they read 0 (focus offsets per filter are kept by
the client). A slot named "Dark" (any case) is the dark slot.
"""

from __future__ import annotations

from nocturna.core.errors import InvalidValueError
from nocturna.devices.filterwheel import FilterWheel, FilterWheelInfo, FilterWheelStatus
from nocturna.devices.indi.device import IndiDevice

SLOT = "FILTER_SLOT"
NAMES = "FILTER_NAME"
DARK_NAMES = frozenset({"dark"})


class IndiFilterWheel(IndiDevice, FilterWheel):
    """A filter wheel on an INDI server; the names are read whenever asked (a client
    may rename the slots)."""

    required = ("CONNECTION", SLOT, NAMES)

    def _slots(self) -> int:
        maximum = self.vector(SLOT).elements["FILTER_SLOT_VALUE"].maximum
        return int(maximum) if maximum is not None and maximum >= 1 else 0

    async def _read_info(self) -> FilterWheelInfo:
        count = self._slots()
        given = self.vector(NAMES).values()
        names = [str(given.get(f"FILTER_SLOT_NAME_{slot}") or f"Filter {slot}")
                 for slot in range(1, count + 1)]
        dark = [i for i, name in enumerate(names) if name.lower() in DARK_NAMES]
        return FilterWheelInfo(names=names, focus_offsets=[0] * count,
                               dark_position=dark[0] if dark else None)

    async def info(self) -> FilterWheelInfo:
        return await self._read_info()

    async def state(self) -> FilterWheelStatus:
        slot = self.vector(SLOT)
        names = (await self._read_info()).names
        position = round(slot["FILTER_SLOT_VALUE"]) - 1
        if slot.state == "Busy" or not 0 <= position < len(names):
            return FilterWheelStatus(position=-1, name=None)
        return FilterWheelStatus(position=position, name=names[position])

    async def set_position(self, position: int) -> None:
        count = self._slots()
        if isinstance(position, bool) or not isinstance(position, int) \
                or not 0 <= position < count:
            raise InvalidValueError(f"filter position {position!r} is not in 0..{count - 1}")
        await self.send(SLOT, {"FILTER_SLOT_VALUE": position + 1}, wait=True, busy_ok=True)
