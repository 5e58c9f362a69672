"""The member tables of every ASCOM device type (one module per type, plus ``common``).

Each module follows the contract in :mod:`nocturna.alpaca.kinds.base`. This package
maps a device type to its module and gives the complete handler table of a type
(the common members and its own).
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from types import ModuleType

from nocturna.alpaca.kinds.base import HandlerTable
from nocturna.alpaca.members import KINDS

log = logging.getLogger(__name__)


@cache
def module_for(kind: str) -> ModuleType:
    """The module of device type ``kind`` (``ModuleNotFoundError`` if it has none)."""
    if kind not in KINDS:
        raise ModuleNotFoundError(f"no Alpaca device type {kind!r}")
    return importlib.import_module(f"{__name__}.{kind}")


def available_kinds() -> list[str]:
    """The device types whose modules exist (a missing one is logged and left out)."""
    found = []
    for kind in KINDS:
        try:
            module_for(kind)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{kind}":
                raise
            log.warning("Alpaca device type %s has no member table yet; not served", kind)
            continue
        found.append(kind)
    return found


def handlers_for(kind: str) -> HandlerTable:
    """Every handler of ``kind``: the common members and its own."""
    from nocturna.alpaca.kinds import common

    return {**common.HANDLERS, **module_for(kind).HANDLERS}
