"""A FITS file received as an INDI BLOB → a numpy image and its header, fast.

INDI cameras send each frame as one FITS file (``CCD1``, format ``.fits``). Opening it
with ``astropy.io.fits`` would copy and scale the whole file; here astropy reads only
the header blocks (:meth:`astropy.io.fits.Header.fromstring`) and the pixels are a
numpy view of the received buffer (:func:`numpy.frombuffer`), converted from FITS's
big-endian, signed-with-``BZERO`` form to native unsigned integers **in place** when
the buffer is writable (the BLOB reader's own buffer is), so a 32 MB frame costs one
pass over memory and no allocation. A read-only buffer (``bytes``) is copied once.

The image has the shape of the FITS data reversed (``(NAXIS2, NAXIS1)``: rows,
columns), as for every nocturna camera. Integers with the usual unsigned offset
(``BZERO`` = 2^(bits-1), ``BSCALE`` 1) become ``uint8/16/32/64`` (``BITPIX`` 8 with
``BZERO`` -128: ``int8``); other scalings give ``float32`` (``BITPIX`` 8, 16) or
``float64``, as astropy would.
"""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from nocturna.core.errors import NocturnaError

BLOCK = 2880
CARD = 80
MAX_HEADER_BLOCKS = 1000
"""A header longer than this (2.9 MB) is taken for a file that is not FITS."""
_END = b"END" + b" " * (CARD - 3)
_DTYPES = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}


class FitsBlobError(NocturnaError):
    """A BLOB that should hold a FITS image does not."""


def header_size(buffer: memoryview) -> int:
    """Bytes of the primary header (whole 2880-byte blocks up to the ``END`` card)."""
    for block in range(0, min(len(buffer), MAX_HEADER_BLOCKS * BLOCK) - BLOCK + 1, BLOCK):
        cards = bytes(buffer[block:block + BLOCK])
        if any(cards[card:card + CARD] == _END for card in range(0, BLOCK, CARD)):
            return block + BLOCK
    raise FitsBlobError("not a FITS file: no END card in its first "
                        f"{min(len(buffer), MAX_HEADER_BLOCKS * BLOCK)} bytes")


def fits_image(data: bytes | bytearray | memoryview) -> tuple[np.ndarray, fits.Header]:
    """The primary image of FITS file ``data`` and its header (see the module docstring).

    A writable ``data`` is converted in place and the image is a view of it.
    """
    buffer = memoryview(data).cast("B")
    if buffer[:9] != b"SIMPLE  =":
        raise FitsBlobError("not a FITS file: it does not start with SIMPLE")
    start = header_size(buffer)
    header = fits.Header.fromstring(bytes(buffer[:start]).decode("ascii", "replace"))
    bitpix = header.get("BITPIX")
    if bitpix not in _DTYPES:
        raise FitsBlobError(f"FITS BITPIX {bitpix!r} is not one of {sorted(_DTYPES)}")
    naxis = int(header.get("NAXIS", 0))
    shape = tuple(int(header.get(f"NAXIS{axis}", 0)) for axis in range(naxis, 0, -1))
    if naxis < 1 or min(shape) < 1:
        raise FitsBlobError(f"the FITS file holds no image (NAXIS {naxis}, shape {shape})")
    raw_type = np.dtype(_DTYPES[bitpix])
    count = int(np.prod(shape))
    if len(buffer) - start < count * raw_type.itemsize:
        raise FitsBlobError(f"the FITS file is cut short: {len(buffer) - start} bytes of "
                            f"data for a {'x'.join(map(str, shape[::-1]))} image of "
                            f"BITPIX {bitpix}")
    raw = np.frombuffer(buffer, dtype=raw_type, count=count, offset=start).reshape(shape)
    return _scaled(raw, float(header.get("BZERO", 0.0)), float(header.get("BSCALE", 1.0)),
                   bitpix), header


def _scaled(raw: np.ndarray, bzero: float, bscale: float, bitpix: int) -> np.ndarray:
    """The physical values of ``raw`` (big-endian FITS data), in place when writable."""
    integer = bitpix > 0 and bscale == 1.0
    unsigned = integer and bitpix > 8 and bzero == float(1 << (bitpix - 1))
    signed_byte = integer and bitpix == 8 and bzero == -128.0
    if (integer and bzero == 0.0) or unsigned or signed_byte or bitpix < 0:
        values = _native(raw)
        if unsigned or signed_byte:  # ± 2^(bits-1) is flipping the sign bit
            flipped = values.view(f"u{raw.dtype.itemsize}")
            flipped ^= np.array(1 << (bitpix - 1), dtype=flipped.dtype)
            return flipped.view("i1") if signed_byte else flipped
        if bitpix > 0 or (bzero == 0.0 and bscale == 1.0):
            return values
        return values * values.dtype.type(bscale) + values.dtype.type(bzero)
    result = raw.astype(np.float32 if bitpix <= 16 else np.float64)
    result *= bscale
    result += bzero
    return result


def _native(raw: np.ndarray) -> np.ndarray:
    """``raw`` in native byte order: swapped in place if writable, else a copy."""
    if raw.dtype.itemsize == 1:
        return raw if raw.flags.writeable else raw.copy()
    native = raw.dtype.newbyteorder("=")
    if raw.flags.writeable:
        return raw.byteswap(inplace=True).view(native)
    return raw.astype(native)
