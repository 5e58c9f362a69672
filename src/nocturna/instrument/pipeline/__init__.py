"""The one frame pipeline: every way of taking an image (the night, ``take``, ``camera
expose``, azcam) goes through it.

* :mod:`.context`: the devices, site, optics and names a header describes;
* :mod:`.sources`: the header sources, read at the start of the exposure;
* :mod:`.identity`: what a frame is (ids, type, title, sequence, observation), the
  same in its header and its row whoever takes it;
* :mod:`.describe`: the header of one frame;
* :mod:`.record`: the database row;
* :mod:`.pipeline`: :class:`FramePipeline`, exposure id → readings → header → encoder
  (:mod:`nocturna.images.encoders`, azcam's file types) → file and row.
"""

from nocturna.instrument.pipeline.context import FrameContext, Optics
from nocturna.instrument.pipeline.describe import FrameDescription
from nocturna.instrument.pipeline.identity import ExposureIds, FrameIdentity
from nocturna.instrument.pipeline.pipeline import FrameObserver, FramePipeline
from nocturna.instrument.pipeline.record import FrameRow
from nocturna.instrument.pipeline.sources import StartReadings

__all__ = ["ExposureIds", "FrameContext", "FrameDescription", "FrameIdentity",
           "FrameObserver", "FramePipeline", "FrameRow", "Optics", "StartReadings"]
