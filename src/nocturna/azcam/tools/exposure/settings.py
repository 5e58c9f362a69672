"""The exposure tool's settings between exposures: exposure time, image type and title,
test image, file type, and where the next file goes (folder, root, sequence number,
overwrite, auto-increment; kept by :class:`~nocturna.azcam.filenames.FileNames`)."""

from __future__ import annotations

import contextlib

from nocturna.azcam.filenames import FileNames
from nocturna.azcam.filetypes import FileType, ReadoutEncoder
from nocturna.azcam.remote import remote
from nocturna.azcam.tools.exposure.base import ExposureBase, LampTool
from nocturna.azcam.values import number, text
from nocturna.core.errors import InvalidValueError
from nocturna.images import header as h
from nocturna.instrument.image_types import ImageType, image_type

AZCAM_IMAGE_TYPES = ("zero", "object", "flat", "dark")
"""azcam's own image types (comparison lamp names are added by the instrument tool)."""


class ExposureSettings(ExposureBase):
    """The settings' commands, and their checks the exposures share."""

    filenames: FileNames
    filetype: FileType
    instrument_tool: LampTool | None
    exposure_time: float
    image_type: str
    title: str

    # -- exposure time, image type and title
    @remote
    def get_exposuretime(self) -> float:
        return self.exposure_time

    @remote
    def set_exposuretime(self, exposure_time: float) -> None:
        """The exposure time (s) of the next exposures."""
        seconds = number(exposure_time, "exposure_time")
        if seconds < 0:
            raise InvalidValueError(f"exposure_time must be >= 0 s, got {exposure_time!r}")
        self.exposure_time = seconds

    @remote
    def get_image_types(self) -> list[str]:
        """zero, object, flat, dark and the comparison lamps' names."""
        return self._image_types()

    def _image_types(self) -> list[str]:
        types = list(AZCAM_IMAGE_TYPES)
        tool = self.instrument_tool
        if tool is not None:
            with contextlib.suppress(Exception):
                types += [str(n) for n in tool.get_all_comps()]
        return types

    @remote
    def set_image_type(self, imagetype: str = "zero") -> None:
        name = text(imagetype, "imagetype").strip().lower()
        self._kind(name)
        self.image_type = name

    @remote
    def get_image_type(self) -> str:
        return self.image_type

    def _kind(self, name: str) -> ImageType:
        """The image type of azcam's ``name`` (a comparison lamp's is COMP)."""
        if self._is_comp(name):
            return image_type("COMP")
        try:
            kind = image_type(name)
        except InvalidValueError:
            raise InvalidValueError(f"imagetype {name!r} is not known (known: "
                                    f"{', '.join(self._image_types())})") from None
        if kind.stuttered:
            raise InvalidValueError("imagetype 'stuttered' needs charge shifts: use the "
                                    "focus tool or the instrument's take_stuttered")
        return kind

    def _is_comp(self, name: str) -> bool:
        if name == "comp":
            return True
        tool = self.instrument_tool
        return tool is not None and bool(tool.is_comp(name))

    @remote
    def set_image_title(self, title: str = "") -> None:
        """The image title (OBJECT) of the next exposures ("" clears it)."""
        self.title = self._title(title)

    @remote
    def get_image_title(self) -> str:
        return self.title

    @staticmethod
    def _title(title: str) -> str:
        """``title`` unquoted and checked as header text."""
        title = text(title, "title")
        if title:
            h.ObservationInfo(object_name=title)
        return title

    # -- test image and file type
    @remote
    def set_test_image(self, flag: bool) -> None:
        """Test images are sent/shown but neither kept nor recorded."""
        self.filenames.test_image = flag

    @remote
    def get_test_image(self) -> bool:
        return self.filenames.test_image

    @remote
    def set_filetype(self, filetype: str) -> None:
        """FITS, MEF or BIN (or azcam's 0, 1, 2)."""
        self.filetype = FileType.parse(filetype)

    @remote
    def get_filetype(self) -> str:
        return self.filetype.name

    def _encoder(self, filetype: FileType) -> ReadoutEncoder:
        """The file type as an encoder of the frame pipeline, compressed as the
        instrument's image format says."""
        return ReadoutEncoder(filetype, compress=self.instrument.compress)

    def _extension(self, filetype: FileType) -> str:
        return self._encoder(filetype).suffix[1:]

    # -- file names
    @remote
    def get_filename(self) -> str:
        """The next image's file name (azcam: ``test.<ext>`` for a test image)."""
        return self.filenames.filename(self._extension(self.filetype), self.image_type)

    @remote
    def set_filename(self, filename: str) -> None:
        """Folder and root from a path (azcam's rule: root = the name up to its first dot)."""
        self.filenames.set_filename(filename)

    @remote
    def get_root(self) -> str:
        return self.filenames.root

    @remote
    def set_root(self, root: str) -> None:
        self.filenames.root = root

    @remote
    def get_folder(self) -> str:
        return self.filenames.folder.as_posix()

    @remote
    def set_folder(self, folder: str) -> None:
        self.filenames.folder = folder

    @remote
    def get_sequence_number(self) -> int:
        return self.filenames.sequence_number

    @remote
    def set_sequence_number(self, sequence_number: int) -> None:
        self.filenames.sequence_number = sequence_number

    @remote
    def set_overwrite(self, flag: bool) -> None:
        self.filenames.overwrite = flag

    @remote
    def get_overwrite(self) -> bool:
        return self.filenames.overwrite

    @remote
    def set_auto_increment(self, flag: bool) -> None:
        self.filenames.auto_increment = flag

    @remote
    def get_auto_increment(self) -> bool:
        return self.filenames.auto_increment
