"""azcam's image file names: folder, root, sequence number, auto-increment, overwrite.

The next image is written to ``folder / name`` where the name is built as azcam does:

============================  ======================================
include sequence number       ``root`` + ``NNNN`` + ``.`` + extension
… and ``autoname``            ``root.TYPE.NNNN.`` + extension
no sequence number            ``root.`` + extension
… and ``autoname``            ``root.TYPE.`` + extension
============================  ======================================

``NNNN`` is the sequence number zero-padded to ``digits`` (4 in azcam), ``TYPE`` the
image type upper case; runs of dots collapse to one (azcam's default root ``"a."``
gives ``a.0001.fits``, not ``a..0001.fits``). After an image is kept the sequence
number goes up by one when ``auto_increment`` is set.

The sequence continues from the files already in the folder: when the tools start, and
whenever the folder or the root changes, the sequence number moves past the highest
number of a file of that root there (any image type, any extension; temporary files of
an interrupted write do not count), so a restarted server never starts again at
``image.001.fits``. Gaps are not filled (``001``, ``003`` → ``004``), other roots are
ignored, and the number never goes down: a number set explicitly is kept when it is
higher (and refused at exposure time if its file exists and overwrite is off).

Test images (``test_image``): azcam names them ``test.<extension>`` in the folder; here
that is only the name reported and sent, the pixels go to a temporary file that the
exposure tool deletes after sending/displaying it (never kept, never recorded, the
sequence number unchanged).

Defaults differ from a bare azcam ``Filename`` object (which starts with a test image
and no sequence number): a nocturna server keeps its images, numbered from 1 and
incremented, unless told otherwise. :data:`PARAMETERS` maps azcam's parameter names
(``imageroot``, ``imagefolder``, ``imagesequencenumber`` …) onto these fields for a
``set_par``/``get_par`` front end.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from nocturna.azcam.values import flag, integer
from nocturna.core.atomic import is_temporary_file
from nocturna.core.errors import InvalidOperationError, InvalidValueError

log = logging.getLogger(__name__)

MAX_DIGITS = 9

PARAMETERS: dict[str, str] = {
    "imagefolder": "folder",
    "imageroot": "root",
    "imagesequencenumber": "sequence_number",
    "imageincludesequencenumber": "include_sequence_number",
    "imageautoincrementsequencenumber": "auto_increment",
    "imageautoname": "autoname",
    "imageoverwrite": "overwrite",
    "imagetest": "test_image",
}
"""azcam parameter name → :class:`FileNames` attribute."""

_FLAGS = ("include_sequence_number", "auto_increment", "autoname", "overwrite", "test_image")
_BAD_ROOT = re.compile(r"[\s/\\\x00]")
_DOTS = re.compile(r"\.{2,}")


class FileNames:
    """Where the exposure tool writes the next image (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike[str], root: str = "a.", *,
                 sequence_number: int = 1, digits: int = 4,
                 include_sequence_number: bool = True, auto_increment: bool = True,
                 autoname: bool = False, overwrite: bool = False,
                 test_image: bool = False) -> None:
        self._scanning = False  # the folder and root setters continue the sequence
        self.folder = folder  # type: ignore[assignment]  # the setter makes it a Path
        self.root = root
        self.sequence_number = sequence_number
        self.digits = digits
        self.include_sequence_number = include_sequence_number
        self.auto_increment = auto_increment
        self.autoname = autoname
        self.overwrite = overwrite
        self.test_image = test_image
        self._scanning = True
        self.continue_sequence()

    # ------------------------------------------------------------- validated fields
    @property
    def folder(self) -> Path:
        return self._folder

    @folder.setter
    def folder(self, value: str | os.PathLike[str]) -> None:
        text = os.fspath(value) if isinstance(value, str | os.PathLike) else None
        if not text or "\x00" in text:
            raise InvalidValueError(f"image folder must be a non-empty path, got {value!r}")
        path = Path(text).expanduser()
        if path.exists() and not path.is_dir():
            raise InvalidValueError(f"image folder {str(path)!r} exists and is not a folder")
        self._folder = path
        if self._scanning:
            self.continue_sequence()

    @property
    def root(self) -> str:
        return self._root

    @root.setter
    def root(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip(".") or _BAD_ROOT.search(value):
            raise InvalidValueError(
                f"image root must be a file name stem without spaces or slashes, "
                f"got {value!r}")
        self._root = value
        if self._scanning:
            self.continue_sequence()

    @property
    def sequence_number(self) -> int:
        return self._sequence_number

    @sequence_number.setter
    def sequence_number(self, value: int) -> None:
        self._sequence_number = integer(value, "image sequence number", 0)

    @property
    def digits(self) -> int:
        return self._digits

    @digits.setter
    def digits(self, value: int) -> None:
        self._digits = integer(value, "sequence number digits", 1, MAX_DIGITS)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FLAGS:
            value = flag(value, name.replace("_", " "))
        super().__setattr__(name, value)

    # ---------------------------------------------------------------------- names
    def name(self, extension: str, image_type: str = "") -> str:
        """The file name (no folder) of the next image of ``image_type``."""
        if self.test_image:
            return f"test.{extension}"
        parts = [self.root]
        if self.autoname and image_type:
            parts += [".", image_type.upper(), "."]
        if self.include_sequence_number:
            parts.append(f"{self.sequence_number:0{self.digits}d}")
        parts += [".", extension]
        return _DOTS.sub(".", "".join(parts))

    def path(self, extension: str, image_type: str = "") -> Path:
        """``folder / name``: where the next image goes."""
        return self.folder / self.name(extension, image_type)

    def filename(self, extension: str, image_type: str = "") -> str:
        """The next image's path as azcam reports it (forward slashes)."""
        return self.path(extension, image_type).as_posix()

    def check_free(self, path: Path) -> None:
        """Refuse to go on when ``path`` exists and overwriting is off (test images
        never collide: they go to a temporary file)."""
        if self.test_image or self.overwrite or not path.exists():
            return
        raise InvalidOperationError(
            f"image file {str(path)!r} already exists and overwrite is off: change the "
            "sequence number, the root or the folder, or set_overwrite(1)")

    def set_filename(self, filename: str) -> None:
        """azcam's set_filename: folder from the path, root from the name up to its first
        dot (``/data/night.0007.fits`` → folder ``/data``, root ``night``)."""
        if not isinstance(filename, str) or not filename.strip():
            raise InvalidValueError(f"file name must be a non-empty path, got {filename!r}")
        path = Path(os.path.normpath(filename.strip()))
        root = path.name.split(".")[0]
        if not root:
            raise InvalidValueError(f"file name {filename!r} has no root before its first dot")
        self.root = root  # checked before the folder changes
        self.folder = path.parent if str(path.parent) not in ("", ".") else Path(".")

    def highest_sequence_number(self) -> int | None:
        """The highest sequence number among the folder's files of this root (any image
        type, any extension, temporary files left out); None if there is none."""
        try:
            entries = os.listdir(self.folder)
        except OSError:  # no folder yet: nothing to continue from
            return None
        pattern = self._numbered_name()
        numbers = [int(match.group(1)) for entry in entries
                   if (match := pattern.match(entry)) and not is_temporary_file(entry)]
        return max(numbers, default=None)

    def continue_sequence(self) -> None:
        """Move the sequence number past the highest one in the folder (see the module
        docstring); never lower it."""
        highest = self.highest_sequence_number()
        if highest is not None and highest >= self.sequence_number:
            log.info("image folder %s holds %s up to number %d: the next image is number %d",
                     self.folder, self.root, highest, highest + 1)
            self.sequence_number = highest + 1

    def _numbered_name(self) -> re.Pattern[str]:
        """Names :meth:`name` gives this root with a sequence number (group 1)."""
        root = _DOTS.sub(".", self.root)
        kind = r"(?:[A-Za-z]\w*\.)?" if root.endswith(".") else r"(?:\.[A-Za-z]\w*\.)?"
        return re.compile(rf"{re.escape(root)}{kind}(\d+)\..+\Z")

    def increment(self) -> None:
        """After an image was kept: the next sequence number, if auto-incrementing."""
        if self.auto_increment and not self.test_image:
            self.sequence_number += 1

    # ------------------------------------------------------------ azcam parameters
    def get_par(self, parameter: str) -> Any:
        """The value of an azcam image parameter (``imageroot``, …; see :data:`PARAMETERS`)."""
        attribute = self._attribute(parameter)
        value = getattr(self, attribute)
        if attribute == "folder":
            return value.as_posix()
        return int(value) if isinstance(value, bool) else value

    def set_par(self, parameter: str, value: Any) -> None:
        """Set an azcam image parameter; the value is checked like the attribute's."""
        setattr(self, self._attribute(parameter), value)

    @staticmethod
    def _attribute(parameter: str) -> str:
        attribute = PARAMETERS.get(str(parameter).strip().lower())
        if attribute is None:
            raise InvalidValueError(f"unknown image parameter {parameter!r} (known: "
                                    f"{', '.join(PARAMETERS)})")
        return attribute

    def as_dict(self) -> dict[str, Any]:
        """Every setting, for a status reply."""
        return {"folder": self.folder.as_posix(), "root": self.root,
                "sequence_number": self.sequence_number, "digits": self.digits,
                **{flag: getattr(self, flag) for flag in _FLAGS}}
