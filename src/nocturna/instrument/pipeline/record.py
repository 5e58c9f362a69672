"""The database row of a frame: what the file is, where, and its header.

The same fields whether the row is added as the file is written (the pipeline) or
rebuilt from the file's header after a crash (:mod:`nocturna.runtime.reconcile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from astropy.io import fits

from nocturna.core.clock import parse_instant
from nocturna.core.errors import InvalidValueError
from nocturna.images import header as h


@dataclass(frozen=True)
class FrameRow:
    """What the database row says besides the file and its header."""

    image_id: str
    camera: str | None = None  # default: the header's CAMERA (else INSTRUME)
    image_type: str | None = None  # default: the header's IMAGETYP
    exposure_time_s: float | None = None  # default: EXPTIME
    start_time: datetime | None = None  # default: DATE-OBS
    observation_id: int | None = None


OBSERVATION_ROW_CARD = "OBSROWID"
"""Header card with the database row of the frame's observation (a crash between the
file and its row loses nothing: the row is rebuilt from the header)."""


def row_values(
    header: fits.Header,
    *,
    path: Path,
    size_bytes: int,
    checksum: str,
    camera: str | None = None,
    image_type: str | None = None,
    exposure_time_s: float | None = None,
    start_time: datetime | None = None,
    observation_id: int | None = None,
) -> dict[str, Any]:
    """The row's fields (for :meth:`Storage.add_exposure`, without the image id).

    What is not given comes from ``header``: the camera (``CAMERA``, else
    ``INSTRUME``), ``IMAGETYP``, ``EXPTIME``, ``DATE-OBS`` and ``OBSROWID``.
    """
    if exposure_time_s is None:
        exposure_time_s = header.get("EXPTIME")
        if isinstance(exposure_time_s, bool) or not isinstance(exposure_time_s, int | float):
            raise InvalidValueError(f"no usable EXPTIME card ({exposure_time_s!r})")
    if start_time is None:
        start = header.get("DATE-OBS")
        if not isinstance(start, str):
            raise InvalidValueError(f"no usable DATE-OBS card ({start!r})")
        start_time = parse_instant(start)  # DATE-OBS keeps milliseconds only
    if observation_id is None:
        observation_id = observation_row(header)
    return {
        "camera": camera or str(header.get("CAMERA", header.get("INSTRUME", "camera"))),
        "image_type": image_type or str(header.get("IMAGETYP", "LIGHT")),
        "exposure_time_s": float(exposure_time_s),
        "start_time": start_time,
        "path": str(Path(path).absolute()),
        "observation_id": observation_id,
        "size_bytes": size_bytes,
        "checksum": checksum,
        "header": h.header_values(header),
    }


def observation_row(header: fits.Header) -> int | None:
    """The observation's database row named by the frame's OBSROWID card, if any."""
    value = header.get(OBSERVATION_ROW_CARD)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else None
