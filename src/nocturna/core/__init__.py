"""Core services every layer uses: clock, units, serialization, errors, config, storage.

Submodules are imported on demand so that ``import nocturna`` stays light.
"""
