"""One frame from the camera to a file and a database row, in one call each.

Shortcuts over :class:`~nocturna.instrument.pipeline.FramePipeline` for code that holds
a single image: :func:`describe_frame` reads the header sources now and builds the
header, :func:`save_frame` writes the file atomically with checksums and records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from astropy.io import fits

from nocturna.devices.camera import CameraImage
from nocturna.images import header as h
from nocturna.images.encoders import FitsEncoder
from nocturna.images.fits import WrittenImage
from nocturna.instrument.pipeline import (
    FrameContext,
    FrameDescription,
    FrameIdentity,
    FramePipeline,
    Optics,
)
from nocturna.instrument.pipeline.record import OBSERVATION_ROW_CARD

__all__ = ["OBSERVATION_ROW_CARD", "FrameContext", "FrameDescription", "Optics",
           "describe_frame", "gather_description", "save_frame"]


async def gather_description(
    image: CameraImage,
    context: FrameContext,
    *,
    identity: FrameIdentity | None = None,
    sections: Sequence[h.CardSource | None] = (),
    extra: dict[str, tuple[Any, str]] | None = None,
) -> FrameDescription:
    """Everything the header of ``image`` says, the devices read now (``identity``:
    what the frame is; default: a light frame without ids)."""
    return await FramePipeline(context).describe(image, identity=identity,
                                                 sections=sections, extra=extra)


async def describe_frame(image: CameraImage, context: FrameContext, *,
                         image_type: str = "LIGHT") -> fits.Header:
    """The FITS header of an ``image_type`` frame without ids, the devices read now."""
    description = await gather_description(image, context,
                                           identity=FrameIdentity(image_type))
    return description.header()


async def save_frame(
    path: Path,
    image: CameraImage,
    header: fits.Header | FrameDescription,
    *,
    compress: bool = False,
    overwrite: bool = False,
    storage: Any | None = None,
    image_id: str | None = None,
    observation_id: int | None = None,
) -> WrittenImage:
    """Write the frame atomically (checksums, optional Rice) and record it in ``storage``
    (image id: ``image_id``, else the file name up to its first dot)."""
    path = Path(path)
    identity = FrameIdentity(image_id=image_id or path.name.split(".")[0],
                             observation_id=observation_id)
    row = identity.row(None, h.ExposureInfo(start=image.start_time,
                                            exposure_s=image.duration_s))
    pipeline = FramePipeline(None, storage=storage, encoder=FitsEncoder(compress))
    return await pipeline.save(path, image.data, header, row=row, overwrite=overwrite)
