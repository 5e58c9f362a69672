"""Faults injected into a simulated unit, on its clock (soak tests, tests of recovery).

A :class:`FaultPlan` lists scheduled :class:`Fault`\\ s. It comes from the ``faults:``
list of a weather scenario file (:mod:`nocturna.devices.sim.scenario`, where it is
``scenario.faults``) or from :func:`plan_from_data`::

    faults:
      - {kind: freeze, device: mount0, from: "23:00", until: "23:05"}
      - {kind: disconnect, device: foc0, from: "01:00", duration: 600}
      - {kind: exception, device: cam0, from: "02:00", message: "readout failed"}
      - {kind: slow_readout, device: cam0, from: "03:00", until: "04:00", factor: 5}
      - {kind: disk_full, from: "04:30", duration: 1800, free_mb: 0}
      - {kind: clock_jump, from: "05:00", seconds: 120}

Every entry has a ``kind`` and ``from`` (an ISO time or ``HH:MM`` on the night, as in
a scenario's timeline). Faults that last have ``until`` (a time) or ``duration``
(seconds), else they last to the end of time; they are active in [from, until).
Device faults name their ``device``; ``disk_full`` and ``clock_jump`` are unit-wide.

* ``freeze`` (device): every call hangs until the fault ends, so a call made while
  it is active ends in :class:`~nocturna.core.errors.DeviceTimeoutError` unless the
  fault ends first;
* ``disconnect`` (device): the link is down: the device reads disconnected, its calls
  raise :class:`~nocturna.core.errors.NotConnectedError`, ``connect()`` too;
  ``disconnect()`` works. Afterwards the device is connected again unless it was
  disconnected meanwhile (then ``connect()`` works again);
* ``exception`` (camera; once): the first exposure started at or after ``from``
  fails: the image of that exposure cannot be read (``image()`` raises
  :class:`SimulatedFaultError`, with ``message``) until the next exposure starts;
* ``slow_readout`` (simulated camera): exposures started while it is active read
  out ``factor`` (≥ 1) times slower, so their image is ready that much later;
* ``disk_full`` (unit-wide): the data directory has ``free_mb`` (default 0) MB free:
  the safety disk check sees it, image writes fail with ``OSError(ENOSPC)`` (see
  :mod:`nocturna.core.diskspace`);
* ``clock_jump`` (unit-wide; once): at ``from`` the clock steps forward by
  ``seconds`` (a system clock step; only a clock with ``step()``, such as
  :class:`~nocturna.core.clock.VirtualClock`, can).

Device faults follow the device's clock at each call (no task needed), through the
device's ``fault`` hook (:mod:`nocturna.devices.base`), which :meth:`FaultPlan.install`
sets on the simulated devices the plan names. Unit-wide faults need the plan's runner:
:meth:`FaultPlan.start` (or ``async with plan.running(clock, ...)``), started by
whoever builds the unit. Each fault's start and end are logged once and published:
``<device kind>.fault.started`` / ``.fault.ended`` from the device, ``fault.started``
/ ``fault.ended`` from source ``faults`` for unit-wide faults. Mistakes raise
:class:`ConfigError` naming the entry and the field (``faults[2].factor: ...``).
"""

from nocturna.devices.sim.faults.hooks import DeviceFaults
from nocturna.devices.sim.faults.plan import FaultPlan, faults_from_data, plan_from_data
from nocturna.devices.sim.faults.spec import (
    CLOCK_JUMP,
    DISCONNECT,
    DISK_FULL,
    EXCEPTION,
    FREEZE,
    KINDS,
    SLOW_READOUT,
    Fault,
    SimulatedFaultError,
)

__all__ = ["CLOCK_JUMP", "DISCONNECT", "DISK_FULL", "EXCEPTION", "FREEZE", "KINDS",
           "SLOW_READOUT", "DeviceFaults", "Fault", "FaultPlan", "SimulatedFaultError",
           "faults_from_data", "plan_from_data"]
