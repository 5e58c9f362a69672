"""Instrument: taking data with a camera and its filter wheel, focuser and mount."""
