"""Running a unit: the night runner, its time base, the lock, signals, resume.

:func:`~nocturna.runtime.runner.run` runs a night from a configuration (what
``nocturna run`` does); :func:`~nocturna.runtime.night.run_night` is the same as a
coroutine, for callers that own an event loop.
"""
