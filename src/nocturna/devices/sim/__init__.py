"""Simulated devices: every device kind, physical enough to close the loops."""
