"""Alpaca client drivers: nocturna's device interfaces over ASCOM Alpaca (HTTP).

One driver per kind (``camera``: :class:`~nocturna.devices.alpaca.camera.AlpacaCamera`,
``telescope``: :class:`~nocturna.devices.alpaca.mount.AlpacaMount`, ...), configured as
``driver: alpaca, address: host:port, device_number: N``; they share one keep-alive
HTTP session per server (:mod:`~nocturna.devices.alpaca.transport`). Servers are found
with :mod:`~nocturna.devices.alpaca.discovery`. :mod:`~nocturna.devices.alpaca.imagebytes`
(the ImageBytes format) is shared with nocturna's Alpaca server.
"""

DISCOVERY_PORT = 32227
"""UDP port of Alpaca discovery (the ASCOM default)."""
DISCOVERY_MESSAGE = b"alpacadiscovery1"
"""The discovery query; servers answer ``{"AlpacaPort": N}``."""
LOOPBACK_BROADCAST = "127.255.255.255"
"""Where a query reaches the servers of this machine (the loopback network's broadcast)."""

SITE_KEYS = {
    "camera": "cameras", "telescope": "mount", "dome": "dome", "focuser": "focusers",
    "filterwheel": "filterwheels", "rotator": "rotators", "switch": "switches",
    "observingconditions": "weather", "safetymonitor": "safety_monitors",
    "covercalibrator": "cover_calibrators",
}
"""ASCOM device type (lower case, as in the device API's URLs) → the site file's key
for such devices (also the :class:`~nocturna.devices.factory.DeviceSet` attribute)."""
