"""What a frame is, as its header and its database row say it, whoever takes it (an
instrument sequence, the azcam exposure tool, ``camera expose``).

:class:`ExposureIds` is a reserved exposure id and the image id named after it;
:meth:`ExposureIds.sequence` is the one place an exposure id becomes the header's
sequence section (``EXPID``, ``DAYOBS``, ``SEQNUM``, ``GROUPID``, …).
:class:`FrameIdentity` adds the image type, the title and the observation: it gives the
header's observation and sequence sections, the ``OBSROWID`` card and the database row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nocturna.images import header as h
from nocturna.instrument.exposure_ids import split_exposure_id
from nocturna.instrument.pipeline.record import OBSERVATION_ROW_CARD, FrameRow


@dataclass(frozen=True)
class ExposureIds:
    """A reserved exposure id and its image id (the file stem and database key)."""

    exposure_id: int
    image_id: str

    def sequence(self, group_id: str, **details: Any) -> h.SequenceInfo:
        """The header's sequence section of this exposure; ``details`` are the other
        :class:`~nocturna.images.header.SequenceInfo` fields (reason, visit, …)."""
        day_obs, number = split_exposure_id(self.exposure_id)
        return h.SequenceInfo(exposure_id=self.exposure_id, group_id=group_id,
                              day_obs=day_obs, sequence_number=number, **details)


@dataclass(frozen=True)
class FrameIdentity:
    """What a frame is: its type, image id, title, place in a sequence, observation.

    A frame without an ``image_id`` (azcam's test image) gets no database row.
    """

    image_type: str = "LIGHT"
    image_id: str | None = None
    title: str | None = None
    sequence: h.SequenceInfo | None = None
    observation_id: int | None = None

    @classmethod
    def of_exposure(cls, ids: ExposureIds | None, image_type: str, group_id: str, *,
                    title: str | None = None, observation_id: int | None = None,
                    **details: Any) -> FrameIdentity:
        """The identity of a frame with reserved ``ids`` (None: a frame that is not
        kept, so no ids, no sequence cards, no row); ``details`` as in
        :meth:`ExposureIds.sequence`."""
        if ids is None:
            return cls(image_type, title=title or None, observation_id=observation_id)
        return cls(image_type, ids.image_id, title or None,
                   ids.sequence(group_id, **details), observation_id)

    def sections(self) -> tuple[h.ObservationInfo, h.SequenceInfo | None]:
        """The header's observation section (``OBJECT``, ``IMAGEID``) and sequence
        section."""
        return h.ObservationInfo(object_name=self.title or None,
                                 image_id=self.image_id), self.sequence

    def cards(self) -> dict[str, tuple[Any, str]]:
        """``OBSROWID``: the observation's database row, when the frame has one."""
        if self.observation_id is None:
            return {}
        return {OBSERVATION_ROW_CARD: (self.observation_id, "database row of the observation")}

    def row(self, camera: str | None, exposure: h.ExposureInfo) -> FrameRow | None:
        """The frame's database row (None without an image id); what it does not say
        (the image type) comes from the header."""
        if self.image_id is None:
            return None
        return FrameRow(self.image_id, camera=camera, exposure_time_s=exposure.exposure_s,
                        start_time=exposure.start, observation_id=self.observation_id)
