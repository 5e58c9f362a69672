"""The options a network driver (Alpaca, INDI) takes from its device entry.

A device entry holds the driver's own options, keys other layers read (links, optics:
ignored here) and nothing else. :func:`driver_options` checks the options and collects
every problem, each naming its key, so one ConfigError lists them all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


def driver_options(name: str, driver: str, extra: Mapping[str, Any], *,
                   options: Collection[str], ignored: Collection[str],
                   listed: str) -> tuple[dict[str, Any], list[str]]:
    """(the options as keyword arguments, the problems found) for entry ``name``.

    Options ending in ``_s`` are seconds > 0; ``description`` is a string. ``listed``
    is how the error for an unknown key names the driver's options.
    """
    kwargs: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in extra.items():
        if key in ignored:
            continue
        if key not in options:
            problems.append(f"{name}.{key}: not an option of the {driver} driver "
                            f"(options: {listed})")
        elif key.endswith("_s") and (isinstance(value, bool) or not isinstance(
                value, int | float) or not value > 0):
            problems.append(f"{name}.{key}: expected a number of seconds > 0, "
                            f"got {value!r}")
        elif key == "description" and not isinstance(value, str):
            problems.append(f"{name}.description: expected a string, got {value!r}")
        else:
            kwargs[key] = value
    return kwargs, problems
