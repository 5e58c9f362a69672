"""Colour sensors' Bayer mosaics: the pattern at a pixel, and a quick colour image.

A pattern is four letters, row 0 then row 1 of the 2 × 2 cell (``RGGB``). FITS headers
give it as ``BAYERPAT`` with ``XBAYROFF``/``YBAYROFF``: the pattern at pixel (0, 0) of
the data is ``BAYERPAT`` moved by those offsets (:func:`pattern_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from nocturna.core.errors import InvalidValueError

PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")


def shifted_pattern(pattern: str, start_x: int, start_y: int) -> str:
    """``pattern`` as seen from pixel (``start_x``, ``start_y``) of the mosaic."""
    rows = (pattern[:2], pattern[2:])
    return "".join(rows[(r + start_y) % 2][(c + start_x) % 2] for r in (0, 1) for c in (0, 1))


def pattern_at(header: Mapping[str, Any]) -> str | None:
    """The Bayer pattern at pixel (0, 0) of an image with this FITS header, or None
    (no ``BAYERPAT``, or not an RGB Bayer pattern)."""
    pattern = str(header.get("BAYERPAT", "")).strip().upper()
    if pattern not in PATTERNS:
        return None
    return shifted_pattern(pattern, int(header.get("XBAYROFF", 0) or 0),
                           int(header.get("YBAYROFF", 0) or 0))


def superpixels(mosaic: np.ndarray, pattern: str) -> np.ndarray:
    """An RGB image (rows/2 × columns/2 × 3, float32) of ``mosaic``: each 2 × 2 cell's
    red, mean green and blue pixels (``pattern`` at pixel (0, 0))."""
    if pattern not in PATTERNS:
        raise InvalidValueError(f"Bayer pattern {pattern!r} is not one of "
                                f"{', '.join(PATTERNS)}")
    data = np.asarray(mosaic, dtype=np.float32)
    rows, columns = (data.shape[0] // 2) * 2, (data.shape[1] // 2) * 2
    if rows == 0 or columns == 0:
        raise InvalidValueError(f"a Bayer mosaic needs at least 2 × 2 pixels, got {data.shape}")
    cells = {(dy, dx): data[dy:rows:2, dx:columns:2] for dy in (0, 1) for dx in (0, 1)}
    where = {(i // 2, i % 2): letter for i, letter in enumerate(pattern)}
    red = next(cells[p] for p, c in where.items() if c == "R")
    blue = next(cells[p] for p, c in where.items() if c == "B")
    green = [cells[p] for p, c in where.items() if c == "G"]
    return np.stack([red, (green[0] + green[1]) / 2, blue], axis=-1)
