"""azcam's exposure tool ("exposure"), built on a nocturna instrument.

Every image goes through the instrument's frame pipeline
(:mod:`nocturna.instrument.pipeline`): an exposure id (``EXPID``/``DAYOBS``/``SEQNUM``),
the header sources read as the exposure starts (site, time, camera, mount, filter,
focuser, weather, Moon, WCS), the cards of the other tools (``header_sources``), and
a database row (path = the azcam file). The camera image is laid out as raw amplifier
data by the detector geometry (simulated prescan/overscan when ``simulate``) and
written atomically by the file type's encoder (FITS, MEF or BIN; Rice-compressed
``.fits.fz`` when the instrument's image format is ``fits.fz``), off the event loop.

One exposure runs through four steps, callable one by one or all at once (``expose``):

``begin``
    checks everything (image type, time, file name, overwrite, instrument state),
    reserves the exposure id, sets the camera's binning and subframe from the ROI,
    lights the comparison lamps for a comp image, starts the camera exposure (shutter
    closed for zero and dark).
``integrate``
    waits until the open time is collected; pausable (``pause``/``resume``: camera pause,
    shutter closed, timer frozen). Lamps go off when it ends.
``readout``
    waits for the camera's image and builds the raw readout.
``end``
    writes the file, records it, increments the file sequence number, sends it to the
    remote image server and shows it on the display.

Calling a step out of order is an :class:`InvalidOperationError` naming the step
expected. ``abort`` works in any step: the camera exposure is abandoned, lamps go off,
nothing is written or recorded (an abort during writing deletes the new file), the flag
reads ABORT until the next exposure, and a running ``sequence`` stops.

While an exposure runs the instrument is held busy (its LATISS-style sequences are
refused), and the exposure tool refuses to start while the instrument runs a sequence
or its summary state (``instrument.gate``) does not allow it.

Image types: zero (0 s, shutter closed), object, flat, dark (shutter closed), the
LATISS names (bias, engtest, focus, cwfs, acq), and comparisons: ``comp`` or a lamp
name known to the instrument tool, written as ``IMAGETYP = 'COMP'`` with the lamps in
``COMPLAMP``/``LAMPS`` and lit only during the exposure. An exposure time of -1 (any
negative value) means the current one; a zero is always 0 s and keeps the current time.

Test images (``set_test_image(1)``) go to a temporary file that is sent and displayed,
then deleted: never kept, never recorded, no exposure id, sequence number unchanged.
Sending uses the local file name as the remote name (test images: ``test.<ext>``,
always overwriting remotely), so the remote copy matches the local one.

The parts, one job each: :mod:`.settings` (time, type, title, file type and names),
:mod:`.geometry` (ROI and format), :mod:`.shot` (one exposure's state and timer),
:mod:`.lifecycle` (the steps), :mod:`.writing` and :mod:`.header` (file, row, sending,
display), :mod:`.sequence`, :mod:`.status`, :mod:`.parameters` (the azcam parameter
table), put together in :mod:`.tool`.
"""

from nocturna.azcam.tools.exposure.flags import ExposureFlag
from nocturna.azcam.tools.exposure.settings import AZCAM_IMAGE_TYPES
from nocturna.azcam.tools.exposure.tool import ExposureTool

__all__ = ["AZCAM_IMAGE_TYPES", "ExposureFlag", "ExposureTool"]
