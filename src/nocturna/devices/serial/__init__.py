"""Serial devices: the transport every serial driver uses, and protocol simulators.

:mod:`.line` reads and writes a port (or a pyserial URL) from the event loop;
:mod:`.device` is the base of serial drivers; :mod:`.simulator` serves a device's
protocol, byte for byte, behind ``nocturna-sim://`` URLs (this package is registered
with pyserial as a URL handler package, see ``protocol_nocturna-sim.py``).
"""
