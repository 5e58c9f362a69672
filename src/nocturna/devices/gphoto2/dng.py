"""Write a Bayer mosaic as a DNG file (Adobe DNG 1.4, uncompressed CFA) with tifffile.

The minimal tag set a DNG reader needs: DNGVersion/BackwardVersion, UniqueCameraModel,
the CFA description (CFARepeatPatternDim, CFAPattern, CFAPlaneColor, CFALayout),
Black/WhiteLevel, ColorMatrix1 with its illuminant (D65), AnalogBalance and
AsShotNeutral. LibRaw (rawpy) reads such a file back pixel for pixel.
"""

from __future__ import annotations

import io

import numpy as np

from nocturna.core.errors import InvalidValueError

MIN_SIDE = 22
"""LibRaw refuses images narrower or lower than this (checked with rawpy 0.28)."""
_COLOURS = {"R": 0, "G": 1, "B": 2}
# sRGB-ish XYZ(D65) → camera matrix of an idealised sensor, 1/10000 units.
_IDENTITY_MATRIX = (32404, -15371, -4985, -9692, 18760, 415, 556, -2040, 10572)


def dng_bytes(mosaic: np.ndarray, *, pattern: str = "RGGB", white_level: int = 65535,
              black_level: int = 0, camera_model: str = "nocturna simulated DSLR") -> bytes:
    """The DNG of ``mosaic`` (2-D uint16; ``pattern``: the 2×2 CFA read row by row from
    pixel (0, 0), e.g. ``"RGGB"``)."""
    if mosaic.ndim != 2 or mosaic.dtype != np.uint16:
        raise InvalidValueError(f"a DNG mosaic must be 2-D uint16, got {mosaic.ndim}-D "
                                f"{mosaic.dtype}")
    if min(mosaic.shape) < MIN_SIDE:
        raise InvalidValueError(f"a DNG mosaic of {mosaic.shape[1]}x{mosaic.shape[0]} is too "
                                f"small: LibRaw reads none under {MIN_SIDE}x{MIN_SIDE}")
    if len(pattern) != 4 or any(c not in _COLOURS for c in pattern.upper()):
        raise InvalidValueError(f"Bayer pattern {pattern!r} must be 4 of R, G, B")
    import tifffile

    cfa = bytes(_COLOURS[c] for c in pattern.upper())
    tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, camera_model, True),  # UniqueCameraModel
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, tuple(cfa), True),  # CFAPattern
        (50710, "B", 3, (0, 1, 2), True),  # CFAPlaneColor
        (50711, "H", 1, 1, True),  # CFALayout: rectangular
        (50714, "I", 1, int(black_level), True),  # BlackLevel
        (50717, "I", 1, int(white_level), True),  # WhiteLevel
        (50721, "2i", 9, tuple(v for m in _IDENTITY_MATRIX for v in (m, 10000)), True),
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
        (50727, "2I", 3, (1, 1) * 3, True),  # AnalogBalance
        (50728, "2I", 3, (1, 1) * 3, True),  # AsShotNeutral
    ]
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, mosaic, photometric=32803, compression=None, subfiletype=0,
                     extratags=tags, metadata=None)
    return buffer.getvalue()
