"""What a frame's header describes besides the image: the devices around the camera
(mount, focuser, filter wheel, spectrograph, weather station), the site, the optics and
the names of the telescope and the instrument."""

from __future__ import annotations

from dataclasses import dataclass, field

from nocturna.core.config.models import DeviceConfig, Site
from nocturna.core.errors import InvalidValueError
from nocturna.core.units import is_quantity, parse_value
from nocturna.devices.camera import Camera
from nocturna.devices.conditions import ObservingConditions
from nocturna.devices.filterwheel import FilterWheel
from nocturna.devices.focuser import Focuser
from nocturna.devices.mount import Mount
from nocturna.devices.spectrograph import Spectrograph

DEFAULT_FOCAL_LENGTH_MM = 85.0


@dataclass(frozen=True)
class Optics:
    """The optics in front of a camera (from its configuration entry)."""

    focal_length_mm: float = DEFAULT_FOCAL_LENGTH_MM
    aperture_mm: float | None = None
    rotation_deg: float = 0.0

    @classmethod
    def from_config(cls, cfg: DeviceConfig | None) -> Optics:
        extra = (cfg.model_extra or {}) if cfg is not None else {}

        def number(key: str, unit: str) -> float | None:
            value = parse_value(extra.get(key))
            if value is None:
                return None
            if is_quantity(value):
                return float(value.to_value(unit))
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidValueError(f"{cfg.name}.{key} = {value!r}: expected a number "
                                        f"in {unit}")
            return float(value)

        focal_length = number("focal_length_mm", "mm")
        return cls(DEFAULT_FOCAL_LENGTH_MM if focal_length is None else focal_length,
                   number("aperture_mm", "mm"), number("rotation_deg", "deg") or 0.0)


@dataclass
class FrameContext:
    """The devices and facts around a camera that a header describes.

    ``telescope_name`` and ``instrument_name`` are the real names written as
    ``TELESCOP`` and ``INSTRUME`` (from configuration: ``site.telescope``,
    ``instrument.name``); without them the mount's and the camera's device names are
    used.
    """

    camera: Camera
    site: Site | None = None
    optics: Optics = field(default_factory=Optics)
    mount: Mount | None = None
    focuser: Focuser | None = None
    filterwheel: FilterWheel | None = None
    spectrograph: Spectrograph | None = None
    unit_name: str | None = None
    weather: ObservingConditions | None = None
    telescope_name: str | None = None
    instrument_name: str | None = None
