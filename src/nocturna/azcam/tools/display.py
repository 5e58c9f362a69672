"""azcam's display tool ("display"): the latest image, where a viewer can pick it up.

:meth:`DisplayTool.show` (called by the exposure tool after each image) and the remote
:meth:`DisplayTool.display` put two files in the display folder, each replaced
atomically (a reader sees the old file or the new one, never half of one):

* ``latest.fits``: the image file itself (a hard link when the file system allows,
  else a copy);
* ``latest.png``: a stretched preview (:mod:`nocturna.images.preview`). For a
  multi-extension file: the extensions assembled by their DETSEC/DATASEC cards when
  those tile a mosaic at one scale, otherwise the first extension with pixels;
  ``extension_number`` ≥ 0 previews that HDU alone (0 the primary, 1 the first
  extension).

If an ``xpaset`` program is on PATH and ``xpaaccess`` finds a running ds9, the image
is also sent there (a mosaic for a multi-extension file). That is a courtesy: ds9
being absent, or failing, is logged and never an error.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np

from nocturna.azcam.remote import remote
from nocturna.core.atomic import atomic_write_bytes, fsync_directory, temporary_name
from nocturna.core.errors import InvalidOperationError, InvalidValueError, StorageError
from nocturna.images.preview import write_preview

log = logging.getLogger(__name__)

LATEST_FITS = "latest.fits"
LATEST_PNG = "latest.png"
_SECTION = re.compile(r"^\[(\d+):(\d+),(\d+):(\d+)\]$")
_XPA_TIMEOUT_S = 10.0


def _section(text: object) -> tuple[int, int, int, int] | None:
    """``[x1:x2,y1:y2]`` (1-based, inclusive; x1 > x2 means flipped) or None."""
    match = _SECTION.match(str(text).replace(" ", "")) if text is not None else None
    return None if match is None else tuple(int(v) for v in match.groups())  # type: ignore[return-value]


def assemble(hdus: list[tuple[np.ndarray, dict[str, object]]]) -> np.ndarray | None:
    """A mosaic of image extensions placed by DETSEC, each cut to its DATASEC; None when
    any extension lacks the cards or its sections disagree in size (binned, say)."""
    pieces = []
    for data, header in hdus:
        data_sec, det_sec = _section(header.get("DATASEC")), _section(header.get("DETSEC"))
        if data_sec is None or det_sec is None or data.ndim != 2:
            return None
        x1, x2, y1, y2 = data_sec
        if not (1 <= x1 <= x2 <= data.shape[1] and 1 <= y1 <= y2 <= data.shape[0]):
            return None
        piece = data[y1 - 1:y2, x1 - 1:x2]
        dx1, dx2, dy1, dy2 = det_sec
        if abs(dx2 - dx1) + 1 != piece.shape[1] or abs(dy2 - dy1) + 1 != piece.shape[0]:
            return None
        if dx1 > dx2:
            piece = piece[:, ::-1]
        if dy1 > dy2:
            piece = piece[::-1, :]
        pieces.append((piece, min(dx1, dx2), min(dy1, dy2)))
    if not pieces:
        return None
    width = max(x + p.shape[1] - 1 for p, x, _ in pieces)
    height = max(y + p.shape[0] - 1 for p, _, y in pieces)
    mosaic = np.full((height, width), np.nan, dtype=np.float32)
    for piece, x, y in pieces:
        mosaic[y - 1:y - 1 + piece.shape[0], x - 1:x - 1 + piece.shape[1]] = piece
    return mosaic


def preview_data(path: Path, extension_number: int = -1) -> tuple[np.ndarray, int]:
    """The pixels to preview and how many image HDUs the file has (see the module doc)."""
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            images = [(i, hdu) for i, hdu in enumerate(hdul)
                      if hdu.is_image and hdu.data is not None and hdu.data.ndim >= 2]
            if extension_number >= 0:
                if extension_number >= len(hdul):
                    raise InvalidValueError(f"extension_number {extension_number}: {path.name} "
                                            f"has HDUs 0..{len(hdul) - 1}")
                chosen = [hdu for i, hdu in images if i == extension_number]
                if not chosen:
                    raise InvalidValueError(f"extension_number {extension_number}: HDU "
                                            f"{extension_number} of {path.name} has no image")
                return _plane(chosen[0].data), len(images)
            if not images:
                raise InvalidValueError(f"{path.name} holds no image to display")
            if len(images) > 1:
                mosaic = assemble([(_plane(h.data), dict(h.header)) for _, h in images])
                if mosaic is not None:
                    return mosaic, len(images)
            return _plane(images[0][1].data), len(images)
    except OSError as exc:
        raise InvalidValueError(f"{path} is not a FITS file that can be displayed: {exc}") \
            from exc


def _plane(data: np.ndarray) -> np.ndarray:
    array = np.asarray(data)
    while array.ndim > 2:  # a cube: its first plane
        array = array[0]
    return array


def publish_copy(source: Path, target: Path) -> None:
    """Put ``source``'s content at ``target`` atomically: hard link, else copy."""
    tmp = temporary_name(target)
    try:
        os.link(source, tmp)
    except OSError:
        atomic_write_bytes(target, source.read_bytes())
        return
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


class DisplayTool:
    """The azcam "display" tool; see the module docstring."""

    name = "display"

    def __init__(self, folder: str | os.PathLike[str], *, max_size: int = 1024,
                 use_ds9: bool = True) -> None:
        self.folder = Path(folder)
        self.max_size = max_size
        self.use_ds9 = use_ds9
        self.latest: Path | None = None  # the last image shown (its own path)

    @property
    def display_file(self) -> Path:
        return self.folder / LATEST_FITS

    @property
    def preview_file(self) -> Path:
        return self.folder / LATEST_PNG

    async def show(self, path: str | os.PathLike[str], extension_number: int = -1) -> Path:
        """Make ``path`` the displayed image; returns the display file's path."""
        source = Path(path)
        if not source.is_file():
            raise InvalidValueError(f"image {str(source)!r} does not exist")
        if isinstance(extension_number, bool) or not isinstance(extension_number, int) \
                or extension_number < -1:
            raise InvalidValueError(f"extension_number {extension_number!r} must be -1 (all) "
                                    "or an HDU number >= 0")
        data, images = await asyncio.to_thread(preview_data, source, extension_number)
        try:
            await asyncio.to_thread(self._publish, source, data)
        except OSError as exc:
            raise StorageError(f"display folder {self.folder}: {exc}") from exc
        self.latest = source
        if self.use_ds9:
            await self._send_to_ds9(source, mosaic=images > 1 and extension_number < 0)
        log.debug("displaying %s", source)
        return self.display_file

    def _publish(self, source: Path, data: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_preview(self.preview_file, data, max_size=self.max_size, overwrite=True)
        publish_copy(source, self.display_file)

    async def _send_to_ds9(self, source: Path, *, mosaic: bool) -> None:
        xpaset, xpaaccess = shutil.which("xpaset"), shutil.which("xpaaccess")
        if xpaset is None:
            return
        try:
            if xpaaccess is not None:
                found = await _run(xpaaccess, "ds9")
                if found is None or found[0] != 0 or b"yes" not in found[1]:
                    log.debug("ds9 is not running: %s not sent", source.name)
                    return
            command = ["mosaicimage", "iraf"] if mosaic else ["fits"]
            result = await _run(xpaset, "-p", "ds9", *command, str(source.resolve()))
            if result is None or result[0] != 0:
                log.warning("ds9 did not take %s: %s", source.name,
                            "timeout" if result is None else result[1].decode(errors="replace"))
        except OSError as exc:
            log.warning("could not send %s to ds9: %s", source.name, exc)

    @remote
    async def display(self, image: str | None = None, extension_number: int = -1) -> None:
        """Display ``image`` (a file path), or again the latest image when None."""
        if image is None or not str(image).strip():
            if self.latest is None:
                raise InvalidOperationError("no image has been displayed yet; give a file name")
            image = str(self.latest)
        await self.show(image, extension_number)

    @remote
    def get_display_file(self) -> str:
        """The path of the displayed image's copy (``latest.fits`` in the display folder)."""
        return str(self.display_file)


async def _run(*argv: str) -> tuple[int, bytes] | None:
    """Run a program; (exit code, stdout + stderr), or None after the time limit."""
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), _XPA_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None
    return process.returncode or 0, output
