"""Instrument: taking data with a camera and its filter wheel, focuser and spectrograph.

* :mod:`.instrument`: :class:`Instrument` and its sequences (``take_bias`` …
  ``take_imgtype``, azcam's ``expose``), and the instrument as a component;
* :mod:`.components`: summary states, heartbeats, liveliness (every device too);
* :mod:`.exposure_ids`: exposure ids ``YYYYMMDDNNNNN`` and group ids;
* :mod:`.setup`: filter, grating and linear stage before a sequence;
* :mod:`.image_types`, :mod:`.frame` (headers and saving), :mod:`.writer` (frames
  written behind the camera), :mod:`.build` (an instrument from configuration).
"""
