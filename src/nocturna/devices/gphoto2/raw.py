"""Camera raw files (CR2, CR3, NEF, DNG...) → the Bayer mosaic as-is.

LibRaw (through rawpy) unpacks the file in-process, no dcraw subprocess. The mosaic is
``raw_image_visible`` (the sensor's active area, uint16, not debayered, not scaled);
its colour filter pattern comes from LibRaw's ``raw_pattern`` (the 2×2 colour indices
from the top-left visible pixel) and ``color_desc`` (what each index is, e.g. RGBG: the
second green is index 3), written as FITS ``BAYERPAT`` (e.g. ``RGGB``) with
``XBAYROFF``/``YBAYROFF`` = 0 (the pattern is given from pixel (0, 0)). Previews are
made from the written frame, in colour, like any colour camera's
(:mod:`nocturna.images.preview`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nocturna.core.errors import InvalidValueError

_BAYER = frozenset({"RGGB", "BGGR", "GRBG", "GBRG"})


@dataclass(frozen=True)
class RawFrame:
    """A raw file's mosaic and what describes it."""

    mosaic: np.ndarray  # (rows, columns) uint16, as the sensor read it
    pattern: str  # "RGGB", "BGGR", "GRBG" or "GBRG" from pixel (0, 0)
    black_level: int
    white_level: int
    camera: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def header_cards(self) -> dict[str, tuple[Any, str]]:
        """FITS cards describing the mosaic (the names astropy/PixInsight/Siril read)."""
        return {"BAYERPAT": (self.pattern, "colour filter pattern from pixel (0, 0)"),
                "XBAYROFF": (0, "x offset of the Bayer pattern"),
                "YBAYROFF": (0, "y offset of the Bayer pattern"),
                "COLORTYP": (self.pattern, "colour filter pattern (MaxIm DL)"),
                "BLKLEVEL": (self.black_level, "[adu] black level of the raw file"),
                "WHTLEVEL": (self.white_level, "[adu] white (saturation) level")}


def bayer_pattern(raw_pattern: np.ndarray, color_desc: bytes) -> str:
    """The letters of LibRaw's 2×2 ``raw_pattern`` (e.g. [[0, 1], [3, 2]] with
    ``b"RGBG"`` → ``"RGGB"``); InvalidValueError if it is not a Bayer pattern."""
    desc = color_desc.decode("ascii", "replace")
    pattern = np.asarray(raw_pattern)
    if pattern.shape != (2, 2) or int(pattern.max()) >= len(desc):
        raise InvalidValueError(f"raw file: colour pattern {pattern.tolist()} with "
                                f"{desc!r} is not a 2x2 Bayer pattern")
    letters = "".join(desc[int(i)] for i in pattern.ravel())
    if letters not in _BAYER:
        raise InvalidValueError(f"raw file: colour pattern {letters!r} is not a Bayer "
                                "pattern (RGGB, BGGR, GRBG, GBRG)")
    return letters


def _open(data: bytes, name: str) -> Any:
    import rawpy

    try:
        return rawpy.imread(io.BytesIO(data))
    except (rawpy.LibRawError, ValueError, OSError) as exc:
        raise InvalidValueError(f"raw file {name}: LibRaw cannot read it "
                                f"({type(exc).__name__}: {exc})") from None


def read_raw(data: bytes, name: str = "raw file") -> RawFrame:
    """The mosaic of the raw file ``data`` (``name`` only for messages)."""
    with _open(data, name) as raw:
        pattern = bayer_pattern(raw.raw_pattern, raw.color_desc)
        mosaic = np.array(raw.raw_image_visible, dtype=np.uint16, copy=True)
        black = int(np.min(raw.black_level_per_channel))
        return RawFrame(mosaic=mosaic, pattern=pattern, black_level=black,
                        white_level=int(raw.white_level))

