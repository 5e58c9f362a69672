"""A small offline catalogue of bright objects, for fields given by name.

Positions are never looked up on the network: a name is resolved from
``catalog.yaml`` shipped with the package (bright Messier and NGC objects, J2000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    ra_deg: float
    dec_deg: float
    aliases: tuple[str, ...] = ()


_MESSIER = re.compile(r"^MESSIER(?=\d)")


def normalize_name(name: str) -> str:
    """``"Messier 42"``, ``"m 42"``, ``"M-42"`` → ``"M42"``; case, spaces and hyphens ignored."""
    key = re.sub(r"[\s\-_']+", "", name).upper()
    return _MESSIER.sub("M", key)


def _sexagesimal(text: str, scale: float) -> float:
    """``"05 34 31.94"`` → 5.5755… × ``scale`` (15 for hours → degrees, 1 for degrees)."""
    parts = str(text).split()
    sign = -1.0 if parts[0].startswith("-") else 1.0
    whole, minutes, seconds = (abs(float(p)) for p in ([*parts, "0", "0"])[:3])
    return sign * (whole + minutes / 60.0 + seconds / 3600.0) * scale


@cache
def _entries() -> dict[str, CatalogEntry]:
    from ruamel.yaml import YAML

    text = resources.files("nocturna.scheduler").joinpath("catalog.yaml").read_text("utf-8")
    index: dict[str, CatalogEntry] = {}
    for item in YAML(typ="safe", pure=True).load(text):
        entry = CatalogEntry(str(item["name"]), _sexagesimal(item["ra"], 15.0),
                             _sexagesimal(item["dec"], 1.0),
                             tuple(str(a) for a in item.get("aliases") or ()))
        for name in (entry.name, *entry.aliases):
            index[normalize_name(name)] = entry
    return index


def lookup(name: str) -> CatalogEntry | None:
    """The catalogue entry for ``name`` (or one of its aliases), or None."""
    return _entries().get(normalize_name(name))


def known_names() -> list[str]:
    """The primary names in the catalogue, in catalogue order."""
    seen: dict[str, None] = {}
    for entry in _entries().values():
        seen.setdefault(entry.name, None)
    return list(seen)
