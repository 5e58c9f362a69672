"""When a simulated ``camera expose`` or ``mount slew`` starts if ``--start`` is not given.

The simulated clock starts now if the sky is dark (the Sun below
``site.twilight.observe``) and the target, when there is one, is above the site's
horizon (``site.horizon``); otherwise at the first such moment of the next two days,
on a five-minute grid. By day that is the coming night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from nocturna.core.errors import InvalidValueError

if TYPE_CHECKING:
    from nocturna.core.config.models import Site

STEP = timedelta(minutes=5)
SEARCH = timedelta(days=2)


@dataclass(frozen=True)
class SimulatedStart:
    """The chosen start, and why it is not ``now`` (None when it is)."""

    instant: datetime
    reason: str | None = None

    def note(self) -> str:
        """One line for the user saying what was chosen and why."""
        return (f"simulated start {self.instant:%Y-%m-%dT%H:%MZ}, {self.reason}; "
                "give --start to choose")


def _conditions(site: Site, times: list[datetime],
                target: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At each of ``times``: the Sun's altitude (deg), whether the sky is dark, whether
    the target (all true without one) is above the horizon."""
    import astropy.units as u
    from astropy.coordinates import AltAz, SkyCoord, get_sun
    from astropy.time import Time

    from nocturna.core.astro import site_location
    from nocturna.scheduler.horizon import Horizon

    when = Time(times)
    frame = AltAz(obstime=when, location=site_location(site))
    sun_deg = get_sun(when).transform_to(frame).alt.deg
    dark = sun_deg <= site.twilight.observe.to_value("deg")
    if target is None:
        return sun_deg, dark, np.ones_like(dark)
    altaz = SkyCoord(target[0] * 15.0 * u.deg, target[1] * u.deg).transform_to(frame)
    return sun_deg, dark, Horizon.from_site(site).is_above(altaz.alt.deg, altaz.az.deg)


def simulated_start(site: Site, now: datetime,
                    target: tuple[float, float] | None = None) -> SimulatedStart:
    """``now`` if it is dark and ``target`` (RA hours, Dec degrees) is up, else the first
    moment of the next two days when both hold; an error naming the target if none."""
    _, dark, above = _conditions(site, [now], target)
    if dark[0] and above[0]:
        return SimulatedStart(now)
    times = [now + i * STEP for i in range(int(SEARCH / STEP) + 1)]
    sun_deg, dark, above = _conditions(site, times, target)
    usable = dark & above
    if not usable.any():
        what = ("the sky is not dark" if target is None else
                f"--ra/--dec: RA {target[0]:.4f} h, Dec {target[1]:+.4f}° is not above the horizon "
                "while the sky is dark")
        raise InvalidValueError(f"{what} at {site.name} in the next {SEARCH.days} days: "
                                "give --start")
    now_problems = []
    if not dark[0]:
        now_problems.append("the Sun is up" if sun_deg[0] > 0 else "it is twilight")
    if not above[0]:
        now_problems.append("the target is below the horizon")
    wanted = "the sky is dark" + (" and the target is up" if target is not None else "")
    return SimulatedStart(times[int(np.argmax(usable))],
                          f"the first moment {wanted} at {site.name} "
                          f"(now {' and '.join(now_problems)})")
