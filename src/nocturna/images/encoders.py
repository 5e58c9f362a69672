"""Encoders: how a frame's pixels and header become a file, written atomically.

An :class:`Encoder` is the last stage of the frame pipeline
(:mod:`nocturna.instrument.pipeline`): it writes one file atomically, with checksums,
and says what it wrote (:class:`~nocturna.images.fits.WrittenImage`). The header comes
as an astropy ``Header`` or as :class:`~nocturna.images.cards.HeaderCards` (what the
pipeline builds: cards laid out without astropy). The pipeline does not care which
encoder it is given:

* :class:`FitsEncoder`: a camera image as one FITS HDU, plain (``.fits``) or
  Rice-compressed (``.fits.fz``, lossless for integer pixels);
* azcam's file types (FITS, MEF, BIN of a raw amplifier readout) are encoders too
  (:mod:`nocturna.azcam.filetypes`).

The configured image format (``instrument.image_format``: ``fits`` or ``fits.fz``)
names one of the first two (:func:`image_encoder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from astropy.io import fits

from nocturna.core.errors import InvalidValueError
from nocturna.images.cards import HeaderCards
from nocturna.images.fits import WrittenImage, write_fits

IMAGE_FORMATS = ("fits", "fits.fz")
"""The image formats a configuration may name: plain FITS, or Rice-compressed FITS."""


class Encoder(Protocol):
    """Writes one frame's file (atomically, with checksums)."""

    @property
    def name(self) -> str: ...

    @property
    def suffix(self) -> str:
        """The file name ending, with its dot (``.fits``, ``.fits.fz``, ``.bin``)."""

    def write(self, path: Path, pixels: Any, header: fits.Header | HeaderCards, *,
              overwrite: bool = False, check_header: bool = True) -> WrittenImage: ...


@dataclass(frozen=True)
class FitsEncoder:
    """A camera image (a 2-D array) as one FITS HDU; Rice-compressed if ``compress``."""

    compress: bool = False

    @property
    def name(self) -> str:
        return "fits.fz" if self.compress else "fits"

    @property
    def suffix(self) -> str:
        return ".fits.fz" if self.compress else ".fits"

    def write(self, path: Path, pixels: Any, header: fits.Header | HeaderCards, *,
              overwrite: bool = False, check_header: bool = True) -> WrittenImage:
        return write_fits(path, pixels, header, compress=self.compress, overwrite=overwrite,
                          check_header=check_header)


def image_encoder(image_format: str) -> FitsEncoder:
    """The encoder of an image format (``fits`` or ``fits.fz``, any case)."""
    text = str(image_format).strip().lower()
    if text not in IMAGE_FORMATS:
        raise InvalidValueError(f"image format {image_format!r} is not known (known: "
                                f"{', '.join(IMAGE_FORMATS)})")
    return FitsEncoder(compress=text == "fits.fz")


def encoder_for_path(path: str | Path) -> FitsEncoder:
    """The FITS encoder a file name asks for: Rice for ``*.fz``, plain otherwise."""
    return FitsEncoder(compress=Path(path).name.endswith(".fz"))
