"""One frame pipeline: a frame from the azcam exposure tool and one from an instrument
sequence, of the same camera in the same state, say the same about the exposure in
their headers and their database rows; only ids, times, paths and azcam's own cards
(its settings, its tools', its file layout) differ."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from astropy.io import fits
from instrument_helpers import NIGHT, make_rig

from nocturna.azcam.detector import DetectorGeometry
from nocturna.azcam.filenames import FileNames
from nocturna.azcam.filetypes import FileType, encode
from nocturna.azcam.tempcon_sim import SimTempController
from nocturna.azcam.tools.exposure import ExposureTool
from nocturna.azcam.tools.exposure.header import azcam_cards
from nocturna.azcam.tools.instrument import InstrumentTool, SimLamp
from nocturna.azcam.tools.telescope import TelescopeTool
from nocturna.azcam.tools.tempcon import TempConTool
from nocturna.core.clock import VirtualClock, use_clock
from nocturna.instrument.pipeline.sources import tool_cards

# One amplifier, no prescan or overscan: the azcam file holds the camera's pixels as they
# are, so even the WCS is the same.
DETECTOR = {"name": "plain", "columns": 256, "rows": 192, "amplifiers": [1, 1],
            "bias_adu": 1000, "read_noise_e": 4.0, "gain_e_per_adu": 2.0}

IDS = {"EXPID", "SEQNUM", "GROUPID", "IMAGEID"}
TIMES = {"DATE", "DATE-OBS", "DATE-AVG", "DATE-END", "MJD-OBS", "LST", "HA", "OBJCTALT",
         "OBJCTAZ", "AIRMASS", "MOONALT", "MOONILLU", "MOONSEP", "FOCTEMP", "CCD-TEMP"}
FILE = {"CHECKSUM", "DATASUM"}
ROW_DIFFERS = {"id", "image_id", "start_time", "path", "size_bytes", "checksum",
               "created_at", "header"}


pytestmark = pytest.mark.virtual_time  # the two frames seconds apart, whatever the load


@pytest.fixture(autouse=True)
async def clock():
    with use_clock(VirtualClock(NIGHT)) as clock:
        yield clock


async def test_the_azcam_tool_and_the_instrument_describe_a_frame_alike(tmp_path):
    rig = await make_rig(tmp_path, spectrograph=True)
    instrument = rig.instrument
    lamps = InstrumentTool(instrument, {"HeAr": SimLamp()})
    sources = (TempConTool(SimTempController()), lamps, TelescopeTool(rig.mount, rig.focuser))
    tool = ExposureTool(instrument, DetectorGeometry.from_config(DETECTOR),
                        filenames=FileNames(tmp_path / "azcam", "night."), simulate=True,
                        rng=np.random.default_rng(1), header_sources=sources,
                        instrument_tool=lamps)
    seen = []
    instrument.frame_observers.append(seen.append)
    try:
        await instrument.setup_instrument(filter="R", grating="holo4_003", linear_stage=30.0)
        [exposure_id] = await instrument.take_object(1.0, 1, title="M 42")
        await tool.expose(1.0, "object", "M 42")
        sequence_row, azcam_row = sorted(rig.storage.list_exposures(), key=lambda r: r.id)
        ours = fits.getheader(sequence_row.path)
        theirs = fits.getheader(azcam_row.path)
        shot = tool._last_shot
        layout = fits.Header.fromfile(io.BytesIO(encode(shot.readout, None, FileType.FITS)))
        azcam_only = {*azcam_cards(shot), *await tool_cards(sources), *layout}
    finally:
        rig.storage.close()

    # the observers saw both frames; the ids are the next ones of one source
    assert len(seen) == 2
    assert theirs["EXPID"] == exposure_id + 1 == ours["EXPID"] + 1
    assert (theirs["IMAGEID"], azcam_row.image_id) == (f"cam0_{exposure_id + 1}",) * 2
    # every card of the sequence's frame is in the azcam frame, with its comment and,
    # but for ids and times, its value (azcam's file layout redefines GAIN: e-/ADU)
    describing = [k for k in ours if k not in FILE and k not in layout]
    assert [k for k in describing if k not in theirs] == []
    assert {k: ours.comments[k] for k in describing} == \
        {k: theirs.comments[k] for k in describing}
    constant = [k for k in describing if k not in IDS | TIMES]
    assert {k: ours[k] for k in constant} == {k: theirs[k] for k in constant}
    assert (theirs["SPECTRO"], theirs["GRATING"], theirs["LINSPOS"]) == ("spec0", "holo4_003",
                                                                         30.0)
    # the azcam frame adds only azcam's own cards
    assert [k for k in theirs if k not in ours and k not in azcam_only] == []
    assert "TELRA" in theirs and "EXPREQ" in theirs
    # the rows have the same fields, and the same values but for ids, times and paths
    fields = [f.name for f in dataclasses.fields(sequence_row) if f.name not in ROW_DIFFERS]
    assert {f: getattr(sequence_row, f) for f in fields} == \
        {f: getattr(azcam_row, f) for f in fields}
    assert sequence_row.camera == "cam0" and sequence_row.image_type == "OBJECT"
    assert {k: sequence_row.header[k] for k in constant} == \
        {k: azcam_row.header[k] for k in constant}
