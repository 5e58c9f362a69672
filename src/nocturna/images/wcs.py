"""The tangent-plane (TAN) WCS of a camera on a telescope.

One function builds it, so the simulated sky (what the camera sees) and the FITS
header (what we believe it sees) use exactly the same geometry.

Conventions: ``rotation_deg`` is the position angle of the detector's +y axis east
of north (0: north up, east left, as on the sky seen from the ground); pixel scale
in arcsec per (binned) pixel; the reference pixel is the detector centre (FITS
1-based: ``(width + 1) / 2``).
"""

from __future__ import annotations

import math
import re

from astropy.wcs import WCS


def plate_scale_arcsec(pixel_size_um: float, focal_length_mm: float) -> float:
    """Arcseconds per pixel for a pixel of ``pixel_size_um`` at ``focal_length_mm``."""
    return 206.264806 * pixel_size_um / focal_length_mm


def tan_wcs(
    ra_deg: float,
    dec_deg: float,
    *,
    scale_arcsec: float,
    width: int,
    height: int,
    rotation_deg: float = 0.0,
) -> WCS:
    """A TAN WCS centred on (``ra_deg``, ``dec_deg``) for a ``width`` × ``height`` image."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra_deg % 360.0, dec_deg]
    wcs.wcs.crpix = [(width + 1) / 2.0, (height + 1) / 2.0]
    scale = scale_arcsec / 3600.0
    theta = math.radians(rotation_deg)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    # East to the left (RA increases to -x) with north up at rotation 0.
    wcs.wcs.cd = [[-scale * cos_t, scale * sin_t], [scale * sin_t, scale * cos_t]]
    wcs.wcs.radesys = "ICRS"
    wcs.wcs.equinox = 2000.0
    wcs.pixel_shape = (width, height)
    return wcs


def frame_wcs(ra_deg: float, dec_deg: float, *, scale_arcsec: float, width: int, height: int,
              binning: int = 1, start_x: int = 0, start_y: int = 0, num_x: int | None = None,
              num_y: int | None = None, rotation_deg: float = 0.0) -> tuple[WCS, WCS]:
    """(full binned frame WCS, subframe WCS) for a sensor centred on (ra, dec).

    ``scale_arcsec`` is the unbinned scale; the optical axis is the centre of the
    unbinned sensor, which sets CRPIX also when the size is not a multiple of the binning.
    """
    bw, bh = width // binning, height // binning
    full = tan_wcs(ra_deg, dec_deg, scale_arcsec=scale_arcsec * binning, width=bw,
                   height=bh, rotation_deg=rotation_deg)
    full.wcs.crpix = [width / (2.0 * binning) + 0.5, height / (2.0 * binning) + 0.5]
    nx = num_x if num_x is not None else bw - start_x
    ny = num_y if num_y is not None else bh - start_y
    sub = tan_wcs(ra_deg, dec_deg, scale_arcsec=scale_arcsec * binning, width=nx,
                  height=ny, rotation_deg=rotation_deg)  # cheaper than full.deepcopy()
    sub.wcs.crpix = [full.wcs.crpix[0] - start_x, full.wcs.crpix[1] - start_y]
    return full, sub


# --- header cards --------------------------------------------------------------------

_NUMBER_CARD = re.compile(r"^(?P<keyword>[A-Z0-9_-]{1,8}) *= +(?P<value>[-+0-9.EDed]+|[TF])"
                          r" *(?:/ *(?P<comment>.*?))? *$")
_STRING_CARD = re.compile(r"^(?P<keyword>[A-Z0-9_-]{1,8}) *= +'(?P<value>(?:[^']|'')*)'"
                          r" *(?:/ *(?P<comment>.*?))? *$")
_INTEGER = re.compile(r"^[-+]?[0-9]+$")
_COMMENTARY = (" " * 8, "COMMENT ")


def _read_card(image: str) -> tuple[str, str | int | float | bool, str] | None:
    """(keyword, value, comment) of a card as astropy reads it; None: not a plain card."""
    match = _STRING_CARD.match(image)
    if match is not None:
        value: str | int | float | bool = match["value"].replace("''", "'").rstrip()
    else:
        match = _NUMBER_CARD.match(image)
        if match is None:
            return None
        text = match["value"]
        if text in ("T", "F"):
            value = text == "T"
        elif _INTEGER.match(text):
            value = int(text)
        else:
            try:
                value = float(text.upper().replace("D", "E"))
            except ValueError:
                return None
    return match["keyword"], value, match["comment"] or ""


def wcs_cards(wcs: WCS) -> list[tuple[str, str | int | float | bool, str]]:
    """(keyword, value, comment) of each card of ``wcs.to_header()``, in order.

    astropy builds a Header and parses each card back (about 1 ms); a WCS without
    distortions (no SIP, no lookup tables) is read here from WCSLIB's text instead, card
    by card as astropy reads it. Others, or any card this does not read, go through
    ``wcs.to_header()``.
    """
    from astropy.wcs import WCSHDO_P14, WCSHDO_all, WCSHDO_safe

    if wcs.wcs is not None and not wcs.has_distortion:
        text = wcs.wcs.to_header(WCSHDO_P14 | WCSHDO_safe)
        images = (text[start : start + 80] for start in range(0, len(text), 80))
        cards = [_read_card(image) for image in images
                 if not image.startswith(_COMMENTARY)]  # astropy drops these too
        if all(card is not None for card in cards) and \
                len(wcs.wcs.to_header(WCSHDO_P14 | WCSHDO_all)) == len(text):
            return cards  # type: ignore[return-value]
    return [(card.keyword, card.value, card.comment) for card in wcs.to_header().cards]
