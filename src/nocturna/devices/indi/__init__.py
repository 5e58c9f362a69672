"""INDI client drivers: nocturna's device interfaces over the INDI protocol (XML/TCP).

Configured as ``driver: indi, address: host:7624, device: "CCD Simulator"``. The layers:

* :mod:`~nocturna.devices.indi.wire`: the XML stream, read incrementally, BLOBs decoded
  without a DOM; refuses entities, deep nesting and oversized messages.
* :mod:`~nocturna.devices.indi.properties`: Number/Switch/Text/Light/BLOB vectors as
  the server defines and updates them.
* :mod:`~nocturna.devices.indi.connection`: one kept-up TCP link per server (reconnects,
  asks for the properties again, re-sends ``enableBLOB``), shared by its devices.
* :mod:`~nocturna.devices.indi.device`: the base of the drivers (one per device kind).
"""

from nocturna.devices.indi.connection import DEFAULT_PORT

__all__ = ["DEFAULT_PORT"]
