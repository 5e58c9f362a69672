"""An :class:`Observatory` from configuration: devices, instruments, scheduler, components."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.config import Config
from nocturna.core.events import EventBus
from nocturna.devices.factory import DeviceSet
from nocturna.instrument.build import build_instrument
from nocturna.instrument.components import ComponentGroup
from nocturna.instrument.instrument import InstrumentComponent
from nocturna.observatory.unit import Observatory


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


def build_observatory(config: Config, devices: DeviceSet, storage: Any, *,
                      fields: str | Path | list[Any] | None = None,
                      clock: Clock | None = None,
                      events: EventBus | None = None) -> Observatory:
    """The unit of ``config`` around already built ``devices`` (not yet connected)."""
    from nocturna.scheduler import Scheduler

    model = config.model
    scheduler = Scheduler(model.site, unit_fields(config, fields), config=model.scheduler)
    instruments = {name: build_instrument(devices, config, storage, camera=name)
                   for name in devices.cameras}
    options = {"heartbeat_interval_s": model.observatory.heartbeat_interval.to_value("s"),
               "clock": clock, "events": events}
    group = ComponentGroup.for_devices(list(devices), **options)
    components = ComponentGroup([*group, *(InstrumentComponent(i, **options)
                                           for i in instruments.values())])
    return Observatory(config, devices, storage, scheduler, instruments, components,
                       clock=clock, events=events)
