"""Closed loops on the unit's own images: pointing correction, autofocus, tracking correction."""
