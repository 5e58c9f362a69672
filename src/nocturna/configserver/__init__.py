"""The configuration service: the live configuration over HTTP for other processes.

In-process code reads :class:`nocturna.core.config.Config` directly (no HTTP round
trip); this service is for other programs and other machines. See :mod:`.app` for
the endpoints, :mod:`.client` for the Python client and :mod:`.runner` to start it.
"""
