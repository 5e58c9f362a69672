"""nocturna: autonomous observatory control.

Importing the package is deliberately light (no astropy.coordinates, web framework
or database engine). It does one thing eagerly: it makes sure astropy never tries to
reach the network, see :mod:`nocturna.core.offline`.
"""

from nocturna.core.offline import install_offline_astropy

__version__ = "0.1.0"

install_offline_astropy()

__all__ = ["__version__"]
