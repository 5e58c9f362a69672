""":class:`ExposureTool`: the exposure tool's parts put together on one instrument."""

from __future__ import annotations

import numpy as np

from nocturna.azcam.detector import DetectorGeometry
from nocturna.azcam.filenames import FileNames
from nocturna.azcam.filetypes import FileType
from nocturna.azcam.tools.exposure.base import ImageDisplay, ImageSender, LampTool
from nocturna.azcam.tools.exposure.flags import ExposureFlag
from nocturna.azcam.tools.exposure.parameters import exposure_parameters
from nocturna.azcam.tools.exposure.status import ExposureStatus
from nocturna.azcam.tools.parameters import Parameter
from nocturna.core.clock import Clock
from nocturna.instrument.instrument import Instrument
from nocturna.instrument.pipeline.sources import HeaderSource


class ExposureTool(ExposureStatus):
    """azcam's exposure tool on a nocturna :class:`Instrument` (see the package docstring).

    Its commands come from its parts: the settings (:mod:`.settings`), the ROI and
    format (:mod:`.geometry`), the steps of an exposure (:mod:`.lifecycle`), sequences
    (:mod:`.sequence`) and the status (:mod:`.status`).
    """

    def __init__(
        self,
        instrument: Instrument,
        geometry: DetectorGeometry,
        *,
        filenames: FileNames,
        filetype: FileType | str | int = FileType.FITS,
        simulate: bool,
        sendimage: ImageSender | None = None,
        display: ImageDisplay | None = None,
        header_sources: tuple[HeaderSource, ...] | list[HeaderSource] = (),
        instrument_tool: LampTool | None = None,
        image_bias_adu: float | None = None,
        rng: np.random.Generator | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.instrument = instrument
        self.camera = instrument.camera
        self._clock = clock
        self.instrument_tool = instrument_tool
        # the settings azcam keeps between exposures
        self.filenames = filenames
        self.filetype = FileType.parse(filetype)
        self.exposure_time = 1.0
        self.image_type = "zero"
        self.title = ""
        self.exposure_sequence_total = 1
        self.exposure_sequence_delay = 0.0
        self.exposure_sequence_flush = 0
        # the region read
        self.geometry = geometry
        self.roi = geometry.full_roi()
        self.col_bin = self.row_bin = 1
        self.predark = (geometry.scan.prescan_columns, geometry.scan.prescan_rows)
        # writing, sending, showing
        self.simulate = bool(simulate)
        self.rng = rng if rng is not None else np.random.default_rng()
        self.image_bias_adu = image_bias_adu
        self.header_sources = tuple(header_sources)
        self.sendimage = sendimage
        self.display = display
        self.display_image = display is not None
        self.send_image = sendimage is not None
        # state
        self.flag = ExposureFlag.NONE
        self.message = ""
        self.last_error = None
        self.image_count = 0
        self.last_filename = ""
        self.last_exposure_id = None
        self._image_ready = False
        self._shot = None
        self._last_shot = None
        self._task = None
        self._in_sequence = False
        self._sequence_number = 0
        self._stop_sequence = False

    def parameters(self) -> list[Parameter]:
        """azcam's exposure/image parameters for the ``parameters`` tool."""
        return exposure_parameters(self)
