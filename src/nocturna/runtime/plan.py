"""When a run starts and ends, on which time base, and which weather it sees.

:func:`plan_run` resolves ``--start``, ``--until`` and ``--speed`` against the
site's twilights. A unit whose devices are all simulated runs on virtual time (as fast
as the CPU allows, or paced at ``--speed`` for a demo); a unit with any real device
runs on real time. Weather scenarios are YAML files
(:mod:`nocturna.devices.sim.scenario`) or the names of the built-in ones in
``observatory/weather/`` (``clear``, ``rain``, ``unsafe``, ``random``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nocturna.observatory
from nocturna.core.clock import parse_instant
from nocturna.core.config import Config
from nocturna.core.errors import ConfigError
from nocturna.devices.factory import all_simulated
from nocturna.observatory.sun import SunAltitudes

WEATHER_DIR = Path(nocturna.observatory.__path__[0]) / "weather"
MORNING = "morning"
CONTINUE = "continue"
"""``--start continue``: a simulated unit goes on from the last time its data records."""
RESTART_GAP = timedelta(minutes=1)
"""How long after the last recorded instant a continued simulated run starts."""
DEFAULT_SEED = 1
"""The seed of a simulated run that names none: the same night every time."""


def built_in_scenarios() -> list[str]:
    return sorted(p.stem for p in WEATHER_DIR.glob("*.yaml"))


def weather_source(name: str) -> Path:
    """A scenario file: the path if it exists, else a built-in scenario's name."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    built_in = WEATHER_DIR / f"{name}.yaml"
    if built_in.is_file():
        return built_in
    raise ConfigError(f"--weather {name!r}: no such file and no built-in scenario of that name "
                      f"(built-in: {', '.join(built_in_scenarios())})")


@dataclass
class NightPlan:
    """When the run starts and ends and which time it runs on."""

    start: datetime
    until: datetime | None  # None: until the morning housekeeping is done
    virtual: bool  # every device simulated: virtual time
    pace: float | None  # virtual time paced at this many times real time (None: flat out)
    seed: int

    @property
    def time_base(self) -> str:
        """The time base in words, for the console and the log."""
        if not self.virtual:
            return "real time"
        if self.pace is None:
            return "virtual time, as fast as possible"
        return f"virtual time paced at {self.pace:g}x"


def continue_from(config: Config) -> datetime:
    """Where ``--start continue`` starts: just after the last instant the data records."""
    from nocturna.core.storage import Storage
    from nocturna.runtime.resume import last_recorded_time

    with Storage.open(config.model.storage.url, data_dir=config.data_dir) as storage:
        last = last_recorded_time(storage)
    if last is None:
        raise ConfigError(f"--start continue: {config.data_dir} records no earlier run "
                          "to continue from; give --start TIME")
    return last + RESTART_GAP


def plan_run(config: Config, *, start: datetime | str | None, until: str | datetime | None,
             speed: float | None, simulate: bool, seed: int | None = None) -> NightPlan:
    """Resolve ``--start``, ``--until``, ``--speed`` and ``--seed`` (see the module doc)."""
    from nocturna.core.astro import site_location

    site = config.model.site
    sun = SunAltitudes(site_location(site))
    flat = site.twilight.flat.to_value("deg")
    virtual = all_simulated(config, simulate=simulate)
    if start == CONTINUE and virtual:
        start = continue_from(config)
    elif isinstance(start, str):
        start = parse_instant(start)
    if not virtual and speed is not None:
        raise ConfigError(f"--speed {speed:g}: this unit has real devices, so it runs on real "
                          "time; --speed needs every device simulated (--simulate)")
    if start is not None and not virtual:
        raise ConfigError("--start: this unit has real devices, so it runs on real time; "
                          "--start needs every device simulated (--simulate)")
    if start is None and virtual:
        start = config.model.clock.start
    if start is None and virtual:
        evening = sun.crossing(flat, datetime.now(UTC), rising=False)
        if evening is None:
            raise ConfigError(f"site {site.name!r}: the Sun does not set below {flat:+g}° in the "
                              "next two days; give --start")
        start = evening - timedelta(minutes=20)
    if start is None:
        start = datetime.now(UTC)
    if sun.crossing(flat, start + timedelta(hours=1), rising=True) is None:
        raise ConfigError(f"site {site.name!r}: no morning twilight after {start:%Y-%m-%dT%H:%MZ}")
    stop: datetime | None = None
    if until is not None and until != MORNING:
        stop = parse_instant(until) if isinstance(until, str) else until
        if stop <= start:
            raise ConfigError(f"--until {stop:%Y-%m-%dT%H:%M:%SZ} is not after the start "
                              f"{start:%Y-%m-%dT%H:%M:%SZ}")
    return NightPlan(start, stop, virtual, None if speed is None else float(speed),
                     DEFAULT_SEED if seed is None else int(seed))
