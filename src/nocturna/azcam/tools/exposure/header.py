"""The header of an azcam image: the frame pipeline's description (the header sources
read at the start, the shot's identity: ids, type, group, title), azcam's own cards
(EXPREQ, DARKTIME, FILENAME, FILETYPE, PAUSED, comparison lamps, FLUSHARR), then the
other tools' cards the pipeline does not write (TELRA, TELFOCUS, CAMTEMP, LAMPS, …)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from astropy.io import fits

from nocturna.azcam.tools.exposure.flags import FLUSH_MEANING
from nocturna.azcam.tools.exposure.shot import Shot
from nocturna.instrument.pipeline import FrameDescription, FramePipeline
from nocturna.instrument.pipeline.sources import HeaderSource, clean_cards, tool_cards


async def describe(pipeline: FramePipeline, shot: Shot,
                   header_sources: Sequence[HeaderSource]) -> FrameDescription:
    """The header of ``shot``'s image (read out, header sources read at its start)."""
    assert shot.image is not None and shot.readout is not None
    assert shot.readings is not None
    extra = clean_cards(shot.cards)
    extra.update(azcam_cards(shot))
    description = await pipeline.describe(  # the pipeline's readings win over the tools'
        shot.image, await shot.readings, identity=shot.identity(), extra=extra,
        defaults=await tool_cards(header_sources))
    if shot.readout.data_offset is None:  # no single linear WCS describes the file's pixels
        description = description.without_wcs()
    return description


def wcs_shift(shot: Shot) -> Callable[[fits.Header], None]:
    """Moves the WCS reference pixel from the camera image to the file's array."""
    assert shot.readout is not None
    offset = shot.readout.data_offset

    def shift(header: fits.Header) -> None:
        if offset is not None and "CRPIX1" in header:
            header["CRPIX1"] += offset[0]
            header["CRPIX2"] += offset[1]

    return shift


def azcam_cards(shot: Shot) -> dict[str, tuple[Any, str]]:
    """The cards azcam writes that the frame pipeline does not."""
    assert shot.image is not None
    cards: dict[str, tuple[Any, str]] = {
        "EXPREQ": (shot.exposure_time, "[s] exposure time requested"),
        "DARKTIME": (shot.image.duration_s + shot.paused_s, "[s] dark time (open time "
                     "plus pauses)"),
        "FILENAME": (Path(shot.filename).name, "file name"),
        "FILETYPE": (shot.filetype.name, "azcam file type"),
    }
    if not shot.title:
        cards["OBJECT"] = ("", "target name")  # azcam writes OBJECT even without a title
    if shot.paused_s:
        cards["PAUSED"] = (round(shot.paused_s, 3), "[s] time the exposure was paused")
    if shot.kind.name == "COMP":
        cards["COMPLAMP"] = (" ".join(shot.lamps), "comparison lamps lit")
        cards["LAMPS"] = (",".join(shot.lamps), "comparison lamps lit")
    if shot.flush is not None:
        cards["FLUSHARR"] = (shot.flush, FLUSH_MEANING[shot.flush])
    return cards
