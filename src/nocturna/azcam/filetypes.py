"""azcam's image file types: FITS, MEF and BIN, encoded from a :class:`Readout`.

Each is an encoder of the frame pipeline (:class:`ReadoutEncoder`,
:mod:`nocturna.images.encoders`), so azcam images get their ids, headers and database
rows the way every other frame does.

* ``FITS`` (0): one primary HDU holding the assembled image (the amps flipped back to
  detector orientation and tiled, :meth:`Readout.assembled`), with the given primary
  header, DETSIZE, NAMPS, CCDSUM..., and each amp's sections in the tiled image as
  ``AMPNAMEn``, ``DATASECn``, ``BIASSECn``, ``CCDSECn``, ``AMPSECn``, ``DETSECn``,
  ``GAINn``, ``RDNOISEn`` (n = 1..NAMPS in readout order). Keywords have at most 8
  characters, so at most 9 amplifiers fit (use MEF beyond). With a single amp the
  file also carries that amp's full unsuffixed set (DATASEC, LTM/LTV, GAIN...).
* ``MEF`` (1): a primary HDU without data (the given header, NEXTEND, DETSIZE, NAMPS,
  CCDSUM...), then one IMAGE extension per amp read: its raw array in readout order,
  ``EXTNAME`` = amp name, ``EXTVER`` = amp number, and the amp's keywords
  (:meth:`AmpSections.cards`).
* ``BIN`` (2): raw pixels only, no header: the assembled image (the same tiling as
  ``FITS``, overscans included), row-major from the bottom row, little-endian uint16 —
  what azcam writes, so a reader told the size (``Readout.size``: columns × rows, as
  the image server is) can show it. :func:`read_bin` reads such bytes back.

Pixels are uint16, stored in FITS as BITPIX 16 with BZERO 32768. Every HDU carries
CHECKSUM and DATASUM. Files are written atomically (:mod:`nocturna.core.atomic`).

With ``compress`` (the configured image format ``fits.fz``) every image HDU of FITS and
MEF is Rice-compressed (lossless), after an empty primary HDU for FITS, and the file
ends in ``.fits.fz``; BIN stays raw.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning

from nocturna.azcam.detector import Readout
from nocturna.core.atomic import atomic_write_bytes
from nocturna.core.errors import InvalidValueError
from nocturna.images.cards import HeaderCards
from nocturna.images.fits import WrittenImage
from nocturna.images.header import Card

log = logging.getLogger(__name__)

MAX_FITS_AMPS = 9  # DATASECn must stay an 8-character keyword

# Layout keywords the writer sets itself; dropped from the caller's primary header.
_STRUCTURAL = {"SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT",
               "BZERO", "BSCALE", "BLANK", "CHECKSUM", "DATASUM", "EXTNAME", "EXTVER",
               "NEXTEND", "INHERIT"}
_STRUCTURAL_INDEXED = re.compile(r"^NAXIS\d+$")


class FileType(IntEnum):
    """azcam's file type numbers."""

    FITS = 0
    MEF = 1
    BIN = 2

    @property
    def extension(self) -> str:
        """The file name extension, without the dot."""
        return "bin" if self is FileType.BIN else "fits"

    @classmethod
    def parse(cls, value: FileType | str | int) -> FileType:
        """A file type from its name (any case) or azcam number (also as text)."""
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        if isinstance(value, str) and text.upper() in cls.__members__:
            return cls[text.upper()]
        try:
            return cls(int(text))
        except ValueError:
            pass
        choices = ", ".join(f"{m.name.lower()} ({m.value})" for m in cls)
        raise InvalidValueError(f"filetype {value!r} is not known: expected one of {choices}")


@dataclass(frozen=True)
class WrittenFile:
    """What :func:`write_image` wrote."""

    path: Path
    size_bytes: int
    sha256: str
    filetype: FileType


# --- encoding ----------------------------------------------------------------------


def _clean(header: fits.Header | HeaderCards | None) -> fits.Header:
    if header is None:
        return fits.Header()
    if isinstance(header, HeaderCards):
        header = header.to_fits()
    if not isinstance(header, fits.Header):
        raise InvalidValueError(f"header: expected an astropy.io.fits.Header, got {header!r}")
    clean = header.copy()
    for keyword in {card.keyword for card in header.cards}:
        if keyword in _STRUCTURAL or _STRUCTURAL_INDEXED.match(keyword):
            del clean[keyword]
    return clean


def _put(header: fits.Header, cards: Iterable[Card]) -> None:
    for card in cards:
        header.set(card.keyword, card.value, card.comment)


def _compressed(hdu: fits.PrimaryHDU | fits.ImageHDU) -> fits.CompImageHDU:
    """``hdu``'s pixels and cards as a Rice-compressed image extension."""
    return fits.CompImageHDU(hdu.data, hdu.header, compression_type="RICE_1")


def _fits_hdus(readout: Readout, header: fits.Header) -> list[fits.PrimaryHDU]:
    amps = readout.amps
    if len(amps) > MAX_FITS_AMPS:
        raise InvalidValueError(
            f"filetype fits holds at most {MAX_FITS_AMPS} amplifiers (DATASECn keywords "
            f"are limited to 8 characters), this readout has {len(amps)}: use mef")
    assembled = readout.assembled()
    hdu = fits.PrimaryHDU(assembled.data, header)
    _put(hdu.header, readout.layout.primary_cards())
    if len(amps) == 1:
        # the amp's IMAGEID (its number) must not replace the image's own IMAGEID
        _put(hdu.header, [c for c in assembled.sections[0].cards() if c.keyword != "IMAGEID"])
    for n, sections in enumerate(assembled.sections, start=1):
        _put(hdu.header, sections.section_cards(str(n)))
        _put(hdu.header, [Card(f"GAIN{n}", sections.amp.gain_e_per_adu, "[e-/ADU] gain"),
                          Card(f"RDNOISE{n}", sections.amp.read_noise_e, "[e-] read noise")])
    return [hdu]


def _mef_hdus(readout: Readout, header: fits.Header) -> list[fits.PrimaryHDU | fits.ImageHDU]:
    primary = fits.PrimaryHDU(header=header)
    primary.header.set("NEXTEND", len(readout.amps), "number of extensions")
    _put(primary.header, readout.layout.primary_cards())
    hdus: list[fits.PrimaryHDU | fits.ImageHDU] = [primary]
    for a, raw in zip(readout.amps, readout.arrays, strict=True):
        ext = fits.ImageHDU(raw)
        ext.header.set("EXTNAME", a.amp.name, "amplifier name")  # keeps its case
        ext.header.set("EXTVER", a.amp.number, "amplifier number")
        ext.header.set("INHERIT", True, "extension inherits the primary header")
        ext.header.set("BUNIT", "ADU", "pixel unit")
        _put(ext.header, a.sections.cards())
        hdus.append(ext)
    return hdus


def encode(readout: Readout, primary_header: fits.Header | None,
           filetype: FileType | str | int, *, compress: bool = False) -> bytes:
    """The bytes of ``readout`` as a file of ``filetype`` (see the module notes).

    ``primary_header`` is not modified; its layout keywords (BITPIX, NAXISn, BZERO...)
    are replaced by the writer's.
    """
    return _encode(readout, primary_header, FileType.parse(filetype), compress)[0]


def _encode(readout: Readout, primary_header: fits.Header | None, filetype: FileType,
            compress: bool) -> tuple[bytes, fits.Header]:
    """The file's bytes and the header of its first image HDU (or of the primary HDU)."""
    header = _clean(primary_header)
    if filetype is FileType.BIN:
        return readout.assembled().data.astype("<u2", copy=False).tobytes(), header
    hdus: list[Any] = _fits_hdus(readout, header) if filetype is FileType.FITS \
        else _mef_hdus(readout, header)
    if compress:
        hdus = [fits.PrimaryHDU(), _compressed(hdus[0])] if filetype is FileType.FITS \
            else [hdus[0], *(_compressed(hdu) for hdu in hdus[1:])]
    written = hdus[1 if compress and filetype is FileType.FITS else 0].header
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", VerifyWarning)
            fits.HDUList(hdus).writeto(buffer, checksum=True, output_verify="exception")
    except (fits.VerifyError, VerifyWarning, ValueError) as exc:
        raise InvalidValueError(f"the header cannot be written as FITS: {exc}") from exc
    return buffer.getvalue(), written.copy()


@dataclass(frozen=True)
class ReadoutEncoder:
    """An azcam file type as an encoder of the frame pipeline (pixels: a :class:`Readout`)."""

    filetype: FileType
    compress: bool = False

    @property
    def name(self) -> str:
        return self.filetype.name + (".fz" if self.compressed else "")

    @property
    def compressed(self) -> bool:
        return self.compress and self.filetype is not FileType.BIN

    @property
    def suffix(self) -> str:
        return "." + self.filetype.extension + (".fz" if self.compressed else "")

    def write(self, path: Path, pixels: Any, header: fits.Header | HeaderCards, *,
              overwrite: bool = False, check_header: bool = True) -> WrittenImage:
        """Encode the readout ``pixels`` and write them to ``path`` atomically.

        An existing ``path`` is refused (:class:`InvalidValueError` naming it) unless
        ``overwrite``; on any error no file and no temporary file is left behind.
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise InvalidValueError(f"{path} already exists; pass overwrite=True to "
                                    "replace it")
        data, written = _encode(pixels, header, self.filetype, self.compressed)
        atomic_write_bytes(path, data, overwrite=overwrite)
        log.debug("wrote %s (%s, %d bytes)", path, self.name, len(data))
        return WrittenImage(path=path, size_bytes=len(data),
                            checksum=hashlib.sha256(data).hexdigest(), header=written,
                            compressed=self.compressed)


def write_image(path: str | PathLike[str], readout: Readout, header: fits.Header | None,
                filetype: FileType | str | int, *, overwrite: bool = False) -> WrittenFile:
    """Encode ``readout`` and write it to ``path`` atomically (see :class:`ReadoutEncoder`)."""
    filetype = FileType.parse(filetype)
    written = ReadoutEncoder(filetype).write(Path(path), readout, header, overwrite=overwrite)
    return WrittenFile(path=written.path, size_bytes=written.size_bytes,
                       sha256=written.checksum, filetype=filetype)


def read_bin(data: bytes, size_x: int, size_y: int) -> np.ndarray:
    """BIN bytes as the (size_y, size_x) uint16 image they hold."""
    expected = 2 * size_x * size_y
    if len(data) != expected:
        raise InvalidValueError(f"BIN data has {len(data)} bytes, expected {expected} for "
                                f"{size_x} x {size_y} pixels")
    return np.frombuffer(data, dtype="<u2").reshape(size_y, size_x).astype(np.uint16)
