"""Site-file entries written for people to paste (``nocturna alpaca discover``,
``nocturna indi list``): one YAML flow mapping per device, grouped under its site key."""

from __future__ import annotations

import json

SINGLE_KEYS = frozenset({"mount", "dome"})
"""Site keys that take one device rather than a list."""


def flow_entry(fields: dict[str, str | int], comment: str = "") -> str:
    """One entry as a YAML flow mapping: strings JSON-quoted (YAML reads them back
    unchanged) except the ``driver`` word, numbers as they are; ``comment`` after it."""
    plain = {key: value if key == "driver" or isinstance(value, int) else json.dumps(value)
             for key, value in fields.items()}
    text = ", ".join(f"{key}: {value}" for key, value in plain.items())
    return f"{{{text}}}" + (f"  # {comment}" if comment else "")


def unique_name(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``... the first not in ``taken`` (added)."""
    name, count = wanted, 1
    while name in taken:
        count += 1
        name = f"{wanted}-{count}"
    taken.add(name)
    return name


def site_fragment(comments: list[str], groups: dict[str, list[str]]) -> str:
    """``comments`` as ``#`` lines, then each site key with its entries; a second
    mount or dome is left commented out, since a unit has one of each."""
    lines = [f"# {comment}" for comment in comments]
    for key, entries in groups.items():
        if not entries:
            continue
        if key in SINGLE_KEYS:
            lines.append(f"{key}: {entries[0]}")
            lines += [f"# {key}: {entry}" for entry in entries[1:]]
        else:
            lines.append(f"{key}:")
            lines += [f"  - {entry}" for entry in entries]
    return "\n".join(lines) + "\n"
