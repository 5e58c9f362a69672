"""Reading right ascension and declination typed by people."""

from __future__ import annotations

import re

from nocturna.core.errors import InvalidValueError

_DEGREES = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?)\s*(?:d|deg|°)\s*$")


def parse_ra_hours(text: str) -> float:
    """RA in hours: ``5.5``, ``05:35:17.3``, ``5h35m17s`` (hours) or ``83.8d``/``83.8 deg``."""
    from astropy.coordinates import Angle

    text = text.strip()
    degrees = _DEGREES.match(text)
    try:
        hours = float(degrees[1]) / 15.0 if degrees else Angle(text, unit="hourangle").hour
    except (ValueError, TypeError):
        raise InvalidValueError(
            f"--ra {text!r} is not a right ascension (e.g. 05:35:17, 5.588 or 83.8d)") from None
    if not 0 <= hours < 24:
        raise InvalidValueError(f"--ra {text!r} is outside 0..24 h")
    return float(hours)


def parse_dec_deg(text: str) -> float:
    """Dec in degrees: ``-5.39``, ``-05:23:28``, ``-5d23m28s``."""
    from astropy.coordinates import Angle

    text = text.strip()
    try:
        degrees = Angle(text.rstrip("°").replace(" deg", ""), unit="deg").degree
    except (ValueError, TypeError):
        raise InvalidValueError(
            f"--dec {text!r} is not a declination (e.g. -05:23:28 or -5.39)") from None
    if not -90 <= degrees <= 90:
        raise InvalidValueError(f"--dec {text!r} is outside -90..90 deg")
    return float(degrees)
