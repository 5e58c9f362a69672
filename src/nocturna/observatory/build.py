"""An :class:`Observatory` from configuration: devices, instruments, scheduler, components."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from nocturna.components import (
    ChangeCallback,
    ComponentGroup,
    RecoveryPolicy,
    StateChange,
)
from nocturna.core.clock import Clock
from nocturna.core.config import Config
from nocturna.core.events import EventBus
from nocturna.devices.factory import DeviceSet
from nocturna.instrument.build import build_instrument
from nocturna.instrument.instrument import InstrumentComponent
from nocturna.observatory.frames import announce_frames
from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)


def unit_fields(config: Config, fields: str | Path | list[Any] | None = None) -> list[Any]:
    """The fields to observe: ``fields`` (a YAML file or Field list), else the configured
    ``scheduler.fields_file``, else the built-in demo fields."""
    from nocturna.scheduler import load_fields
    from nocturna.scheduler.settings import configured_fields

    if isinstance(fields, list):
        return fields
    if fields is not None:
        return load_fields(fields)
    return configured_fields(config.model.scheduler)


def recovery_policy(config: Config) -> RecoveryPolicy | None:
    """The components' recovery from FAULT (``observatory.fault_recovery``; None: off)."""
    settings = config.model.observatory.fault_recovery
    if not settings.enabled:
        return None
    return RecoveryPolicy(first_retry_s=float(settings.first_retry.to_value("s")),
                          max_retry_s=float(settings.max_retry.to_value("s")))


def state_recorder(storage: Any, unit: str) -> ChangeCallback:
    """An ``on_change`` callback recording each component state change as
    ``component.state`` telemetry from ``unit``; it logs its own failures, never raises."""

    def record(change: StateChange) -> None:
        data = {"component": change.component, "kind": change.kind,
                "from": change.previous.value, "to": change.state.value,
                "reason": change.reason}
        try:
            storage.add_telemetry("component.state", data, source=unit, time=change.time)
        except Exception:  # recording must never stop the night
            log.exception("could not record a component state change",
                          extra={"component": change.component, "to": change.state.value})

    return record


def build_observatory(config: Config, devices: DeviceSet, storage: Any, *,
                      fields: str | Path | list[Any] | None = None,
                      clock: Clock | None = None,
                      events: EventBus | None = None) -> Observatory:
    """The unit of ``config`` around already built ``devices`` (not yet connected).

    Every component recovers from FAULT by itself if ``observatory.fault_recovery`` is
    enabled, and its state changes are recorded in ``storage`` as telemetry; every
    frame written is announced (:mod:`.frames`).
    """
    from nocturna.observatory.overheads import unit_overheads
    from nocturna.scheduler import Scheduler

    model = config.model
    scheduler = Scheduler.from_config(model, unit_fields(config, fields),
                                      overheads=unit_overheads(model))
    instruments = {name: build_instrument(devices, config, storage, camera=name)
                   for name in devices.cameras}
    options = {"heartbeat_interval_s": model.observatory.heartbeat_interval.to_value("s"),
               "clock": clock, "events": events, "recovery": recovery_policy(config),
               "on_change": state_recorder(storage, model.name)}
    group = ComponentGroup.for_devices(list(devices), **options)
    components = ComponentGroup([*group, *(InstrumentComponent(i, **options)
                                           for i in instruments.values())])
    unit = Observatory(config, devices, storage, scheduler, instruments, components,
                       clock=clock, events=events)
    for name in follower_components(unit):
        components.set_check(name, False)
    announce_frames(unit)
    return unit


def follower_components(unit: Observatory) -> list[str]:
    """The components only the unit's other cameras use (each one's camera, instrument,
    own focuser and filter wheel): left out of the safety checks, so a second camera
    that faults never parks the unit (the primary camera observes on)."""
    primary = {device.name for device in unit.instrument.devices()}
    names: list[str] = []
    for instrument in unit.instruments.values():
        if instrument is unit.instrument:
            continue
        names += [device.name for device in instrument.devices()
                  if device.name not in primary and device.name in unit.components]
        names.append(f"{instrument.name}-instrument")
    return list(dict.fromkeys(names))
