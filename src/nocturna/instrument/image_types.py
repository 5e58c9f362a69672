"""The image types a sequence can take, under their LATISS and azcam names.

Each type says whether the shutter opens and whether it has an exposure time of its
own (a bias/zero is always 0 s). ``IMAGETYP`` in the header is the name asked for,
upper case (azcam's ``zero`` stays ``ZERO``, LATISS's ``BIAS`` stays ``BIAS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from nocturna.core.errors import InvalidValueError


@dataclass(frozen=True)
class ImageType:
    """One kind of frame."""

    name: str  # upper case; written as IMAGETYP
    light: bool  # the shutter opens
    zero_exposure: bool = False  # always 0 s (bias/zero)
    stuttered: bool = False  # charge-shifted segments in one frame


IMAGE_TYPES: dict[str, ImageType] = {
    t.name: t
    for t in (
        ImageType("BIAS", light=False, zero_exposure=True),
        ImageType("ZERO", light=False, zero_exposure=True),
        ImageType("DARK", light=False),
        ImageType("FLAT", light=True),
        ImageType("COMP", light=True),  # comparison (arc) lamp: azcam's comp image types
        ImageType("OBJECT", light=True),
        ImageType("ENGTEST", light=True),
        ImageType("FOCUS", light=True),
        ImageType("CWFS", light=True),
        ImageType("ACQ", light=True),
        ImageType("STUTTERED", light=True, stuttered=True),
    )
}
"""Every image type, by upper-case name."""


def image_type(name: str) -> ImageType:
    """The image type called ``name`` (any case); a clear error for an unknown one."""
    if not isinstance(name, str):
        raise InvalidValueError(f"image type must be a string, got {name!r}")
    found = IMAGE_TYPES.get(name.strip().upper())
    if found is None:
        known = ", ".join(n.lower() for n in IMAGE_TYPES)
        raise InvalidValueError(f"unknown image type {name!r} (known: {known})")
    return found
