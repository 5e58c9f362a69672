"""The tools the azcam command server exposes (exposure, controller, tempcon, …)."""
