"""Cutouts: a box of pixels centred on a pixel or a sky position, with its own WCS.

Built on :class:`astropy.nddata.Cutout2D` in ``"partial"`` mode: a box that runs off the
image keeps its full size, the missing pixels are filled (NaN for float images, 0 for
integer ones unless told otherwise) and marked ``True`` in :attr:`Cutout.mask`. Pixel
positions are 0-based ``(x, y)`` (x the column), as in numpy and astropy. The cutout's
WCS maps its pixels to the same sky as the original's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nocturna.core.errors import InvalidValueError

if TYPE_CHECKING:
    from astropy.nddata import Cutout2D
    from astropy.wcs import WCS


@dataclass(frozen=True)
class Cutout:
    """A cutout: pixels, mask of filled pixels, WCS (if one was given), and geometry."""

    data: np.ndarray
    mask: np.ndarray  # True where the box lies outside the original image
    wcs: WCS | None
    position_original: tuple[float, float]  # the requested centre (x, y) in the original
    position_cutout: tuple[float, float]  # the same point in the cutout
    cutout2d: Cutout2D  # astropy's object, for anything else

    @property
    def partial(self) -> bool:
        """True if part of the box lies outside the original image."""
        return bool(self.mask.any())

    def to_original(self, x: float, y: float) -> tuple[float, float]:
        """A cutout pixel position in the original image's pixels (also off its edges;
        astropy's ``to_original_position`` clips the origin in partial mode)."""
        return (x + self.position_original[0] - self.position_cutout[0],
                y + self.position_original[1] - self.position_cutout[1])


def _size(size: Any) -> Any:
    """An int, (ny, nx) ints, or a Quantity (pixels or an angle, with a WCS)."""
    from nocturna.core.units import is_quantity

    if is_quantity(size):
        return size
    values = size if isinstance(size, tuple | list) else (size,)
    if not 1 <= len(values) <= 2 or any(
            isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1 for v in values):
        raise InvalidValueError(
            f"cutout size must be an integer >= 1, (ny, nx) integers, or a Quantity; "
            f"got {size!r}")
    return tuple(int(v) for v in values) if len(values) == 2 else int(values[0])


def _position(position: Any, wcs: WCS | None) -> Any:
    from astropy.coordinates import SkyCoord

    if isinstance(position, SkyCoord):
        if wcs is None:
            raise InvalidValueError("a sky position needs a WCS to make a cutout")
        return position
    try:
        x, y = (float(v) for v in position)
    except (TypeError, ValueError):
        raise InvalidValueError(
            f"cutout position must be (x, y) pixels or a SkyCoord, got {position!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidValueError(f"cutout position must be finite, got {position!r}")
    return x, y


def central(data: np.ndarray, size: int) -> np.ndarray:
    """A view of the central ``size`` × ``size`` pixels (less where the image is smaller):
    no copy, no fill, no WCS, for the loops that measure every frame."""
    rows, cols = data.shape
    top, left = max(0, (rows - size) // 2), max(0, (cols - size) // 2)
    return data[top : top + size, left : left + size]


def cutout(data: np.ndarray, position: Any, size: Any, *, wcs: WCS | None = None,
           fill_value: float | None = None) -> Cutout:
    """A cutout of ``data`` centred on ``position``: ``(x, y)`` pixels or a SkyCoord.

    ``size``: int (square), ``(ny, nx)``, or an astropy Quantity (pixels or an angle,
    which needs ``wcs``). Raises :class:`InvalidValueError` if the box misses the image.
    """
    from astropy.nddata import Cutout2D
    from astropy.nddata.utils import NoOverlapError

    array = np.asarray(data)
    if array.ndim != 2 or array.size == 0:
        raise InvalidValueError(f"a cutout needs a non-empty 2-D image, got shape {array.shape}")
    where = _position(position, wcs)
    box = _size(size)
    if fill_value is None:
        fill_value = np.nan if array.dtype.kind == "f" else 0
    elif array.dtype.kind != "f" and not float(fill_value).is_integer():
        raise InvalidValueError(
            f"fill_value {fill_value!r} cannot be stored in a {array.dtype} image")
    try:
        cut = Cutout2D(array, where, box, wcs=wcs, mode="partial", fill_value=fill_value,
                       copy=True)
    except NoOverlapError:
        raise InvalidValueError(f"a cutout at {position!r} does not overlap the image") from None
    except ValueError as exc:
        raise InvalidValueError(f"cannot make a cutout at {position!r}: {exc}") from exc
    mask = np.ones(cut.data.shape, dtype=bool)
    mask[cut.slices_cutout] = False
    return Cutout(
        data=cut.data, mask=mask, wcs=cut.wcs,
        position_original=(float(cut.input_position_original[0]),
                           float(cut.input_position_original[1])),
        position_cutout=(float(cut.input_position_cutout[0]),
                         float(cut.input_position_cutout[1])),
        cutout2d=cut,
    )


def cutout_sky(data: np.ndarray, wcs: WCS, ra_deg: float, dec_deg: float, size: Any, *,
               fill_value: float | None = None) -> Cutout:
    """A cutout centred on (``ra_deg``, ``dec_deg``) through ``wcs`` (no SkyCoord needed)."""
    x, y = wcs.world_to_pixel_values(ra_deg, dec_deg)
    if not (np.isfinite(x) and np.isfinite(y)):
        raise InvalidValueError(f"RA {ra_deg}, Dec {dec_deg} has no pixel position in this WCS")
    return cutout(data, (float(x), float(y)), size, wcs=wcs, fill_value=fill_value)
