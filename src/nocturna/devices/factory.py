"""Building a unit's devices from configuration.

Each configured device names its ``driver``; ``simulate=True`` runs every device on
its simulator regardless. Devices that others depend on are built first and handed
over by name (a camera gets its mount, focuser, filter wheel, weather station, the
dome and its cover calibrator; a dome its mount; a safety monitor its weather
station), so simulators can close loops. A camera's cover calibrator is the one its
entry names (``calibrator: flat0``), else the unit's only one if there is exactly one,
else none. A camera may also name the spectrograph in its beam (``spectrograph:
spec0``); that link is recorded in :attr:`DeviceSet.camera_spectrographs`, not handed
to the camera. The unit's only spectrograph is linked to its only camera without being
named; any other spectrograph that no camera names is a configuration error while a
camera's entry leaves its ``spectrograph`` key out (``null`` says "none").

``build_devices(..., seed=N)`` makes the simulators reproducible: every simulated camera
whose entry sets no ``noise_seed`` and the simulated mount without a ``pointing_seed``
get seeds derived from ``N``, so one seed gives one night.

``build_devices(..., scenario=...)`` shares one
:class:`~nocturna.devices.sim.scenario.WeatherScenario` among the simulated weather
stations and safety monitors that choose none of their own (no ``scenario`` or
``seed`` option), so they all see the same weather. Its fault plan
(:attr:`~nocturna.devices.sim.scenario.WeatherScenario.faults`) goes on the simulated
devices it names (their ``fault`` hook, see :mod:`nocturna.devices.sim.faults`); a name
no device has, or a device that is not simulated, is a :class:`ConfigError`. The
plan's unit-wide faults (``disk_full``, ``clock_jump``) are not started here: whoever
runs the unit starts them (``scenario.faults.start(clock, data_dir=...)``).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nocturna.core.config import Config
from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError
from nocturna.devices.base import Device
from nocturna.devices.camera import Camera
from nocturna.devices.conditions import ObservingConditions
from nocturna.devices.covercalibrator import CoverCalibrator
from nocturna.devices.dome import Dome
from nocturna.devices.filterwheel import FilterWheel
from nocturna.devices.focuser import Focuser
from nocturna.devices.mount import Mount
from nocturna.devices.protocol_sims import (
    SERIAL_SIMULATIONS,
    hardware_entry,
    is_simulated,
    keeps_driver,
    simulated_dslr,
    simulated_entry,
)
from nocturna.devices.rotator import Rotator
from nocturna.devices.safety import SafetyMonitor
from nocturna.devices.spectrograph import Spectrograph
from nocturna.devices.switch import Switch

if TYPE_CHECKING:
    from nocturna.devices.sim.scenario import WeatherScenario

# (config section, driver) → "module:Class"
DRIVERS: dict[tuple[str, str], str] = {
    ("mount", "sim"): "nocturna.devices.sim.mount:SimMount",
    ("dome", "sim"): "nocturna.devices.sim.dome:SimDome",
    ("focusers", "sim"): "nocturna.devices.sim.focuser:SimFocuser",
    ("filterwheels", "sim"): "nocturna.devices.sim.filterwheel:SimFilterWheel",
    ("rotators", "sim"): "nocturna.devices.sim.rotator:SimRotator",
    ("switches", "sim"): "nocturna.devices.sim.switch:SimSwitch",
    ("weather", "sim"): "nocturna.devices.sim.weather:SimObservingConditions",
    ("safety_monitors", "sim"): "nocturna.devices.sim.safety:SimSafetyMonitor",
    ("cover_calibrators", "sim"): "nocturna.devices.sim.covercalibrator:SimCoverCalibrator",
    ("spectrographs", "sim"): "nocturna.devices.sim.spectrograph:SimSpectrograph",
    ("cameras", "sim"): "nocturna.devices.sim.camera:SimCamera",
    ("mount", "alpaca"): "nocturna.devices.alpaca.mount:AlpacaMount",
    ("dome", "alpaca"): "nocturna.devices.alpaca.dome:AlpacaDome",
    ("focusers", "alpaca"): "nocturna.devices.alpaca.focuser:AlpacaFocuser",
    ("filterwheels", "alpaca"): "nocturna.devices.alpaca.filterwheel:AlpacaFilterWheel",
    ("rotators", "alpaca"): "nocturna.devices.alpaca.rotator:AlpacaRotator",
    ("switches", "alpaca"): "nocturna.devices.alpaca.switch:AlpacaSwitch",
    ("weather", "alpaca"): "nocturna.devices.alpaca.conditions:AlpacaObservingConditions",
    ("safety_monitors", "alpaca"): "nocturna.devices.alpaca.safety:AlpacaSafetyMonitor",
    ("cover_calibrators", "alpaca"):
        "nocturna.devices.alpaca.covercalibrator:AlpacaCoverCalibrator",
    ("cameras", "alpaca"): "nocturna.devices.alpaca.camera:AlpacaCamera",
    ("mount", "indi"): "nocturna.devices.indi.mount:IndiMount",
    ("dome", "indi"): "nocturna.devices.indi.dome:IndiDome",
    ("focusers", "indi"): "nocturna.devices.indi.focuser:IndiFocuser",
    ("filterwheels", "indi"): "nocturna.devices.indi.filterwheel:IndiFilterWheel",
    ("rotators", "indi"): "nocturna.devices.indi.rotator:IndiRotator",
    ("weather", "indi"): "nocturna.devices.indi.conditions:IndiObservingConditions",
    ("safety_monitors", "indi"): "nocturna.devices.indi.safety:IndiSafetyMonitor",
    ("cover_calibrators", "indi"):
        "nocturna.devices.indi.covercalibrator:IndiCoverCalibrator",
    ("cameras", "indi"): "nocturna.devices.indi.camera:IndiCamera",
    ("mount", "ioptron"): "nocturna.devices.ioptron.mount:IoptronMount",
    ("dome", "astrohaven"): "nocturna.devices.astrohaven.dome:AstrohavenDome",
    ("weather", "weather_board"): "nocturna.devices.boards.weather:WeatherBoard",
    ("safety_monitors", "weather_board"): "nocturna.devices.boards.safety:WeatherBoardSafety",
    ("switches", "power_board"): "nocturna.devices.boards.power:PowerBoard",
    ("cameras", "gphoto2"): "nocturna.devices.gphoto2.camera:Gphoto2Camera",
}


@dataclass
class DeviceSet:
    """The devices of one unit, by kind and name."""

    mount: Mount | None = None
    dome: Dome | None = None
    cameras: dict[str, Camera] = field(default_factory=dict)
    focusers: dict[str, Focuser] = field(default_factory=dict)
    filterwheels: dict[str, FilterWheel] = field(default_factory=dict)
    rotators: dict[str, Rotator] = field(default_factory=dict)
    switches: dict[str, Switch] = field(default_factory=dict)
    weather: dict[str, ObservingConditions] = field(default_factory=dict)
    safety_monitors: dict[str, SafetyMonitor] = field(default_factory=dict)
    cover_calibrators: dict[str, CoverCalibrator] = field(default_factory=dict)
    spectrographs: dict[str, Spectrograph] = field(default_factory=dict)
    primary_camera: str | None = None
    camera_spectrographs: dict[str, str] = field(default_factory=dict)
    """Camera name → the name of the spectrograph in its beam (cameras that name one)."""
    simulators: list[Any] = field(default_factory=list)
    """The protocol simulators the unit's hardware drivers talk to in a simulated run
    (kept alive as long as the devices)."""

    def __iter__(self) -> Iterator[Device]:
        for single in (self.mount, self.dome):
            if single is not None:
                yield single
        for group in (self.focusers, self.filterwheels, self.rotators, self.switches,
                      self.weather, self.safety_monitors, self.cover_calibrators,
                      self.spectrographs, self.cameras):
            yield from group.values()

    def get(self, name: str) -> Device:
        for device in self:
            if device.name == name:
                return device
        raise ConfigError(f"no device named {name!r} (devices: {', '.join(d.name for d in self)})")

    def camera(self, name: str | None = None) -> Camera:
        """A camera by name, or the primary one."""
        wanted = name or self.primary_camera
        if wanted is None or wanted not in self.cameras:
            known = ", ".join(self.cameras) or "none"
            raise ConfigError(f"no camera named {wanted!r} (cameras: {known})")
        return self.cameras[wanted]

    async def connect_all(self) -> None:
        for device in self:
            await device.connect()

    async def disconnect_all(self) -> None:
        for device in reversed(list(self)):
            await device.disconnect()


def _driver_class(section: str, cfg: DeviceConfig, simulate: bool) -> type[Any]:
    """The class of ``section``'s ``driver``, imported now (a driver that is listed but
    whose module is absent counts as not provided)."""
    driver = "sim" if simulate and not keeps_driver(cfg) else cfg.driver
    target = DRIVERS.get((section, driver))
    if target is not None:
        module, _, name = target.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the driver is there, something it imports is not
                raise
    available = ", ".join(sorted(d for s, d in DRIVERS
                                 if s == section and driver_available(s, d))) or "none"
    raise ConfigError(
        f"{section}: device {cfg.name!r} uses driver {driver!r}, which this version does "
        f"not provide for {section} (available: {available}); use --simulate or "
        "driver: sim"
    )


def driver_available(section: str, driver: str) -> bool:
    """Whether this installation has ``section``'s ``driver`` (its module exists; it
    is not imported)."""
    target = DRIVERS.get((section, driver))
    return target is not None and \
        importlib.util.find_spec(target.partition(":")[0]) is not None


SEEDED_OPTIONS = {"cameras": "noise_seed", "mount": "pointing_seed"}
"""The option of each simulator that a run's seed fills in when the entry sets none."""


def _build(section: str, cfg: DeviceConfig, simulate: bool, seed: int | None = None,
           hardware: _SimulatedHardware | None = None, **context: Any) -> Any:
    through_hardware = hardware_entry(section, cfg) if hardware is not None else None
    if through_hardware is not None:  # driver: sim with a port: its protocol simulator
        cfg, simulate = through_hardware, True
    if simulate and (section, cfg.driver) == ("cameras", "gphoto2"):
        return simulated_dslr(cfg, context,
                              lambda entry: _build(section, entry, True, seed, **context))
    if simulate and hardware is not None and (section, cfg.driver) in SERIAL_SIMULATIONS:
        cfg = simulated_entry(section, cfg, context, hardware.physical,
                              lambda entry: _build(section, entry, True, seed, **context),
                              hardware.simulators)
    cls = _driver_class(section, cfg, simulate)
    option = SEEDED_OPTIONS.get(section)
    if seed is not None and option is not None and (simulate or cfg.driver == "sim") \
            and option not in (cfg.model_extra or {}) and cls.driver_name == "sim":
        cfg = _with(cfg, option, seed)
    return cls.from_config(cfg, **context)


@dataclass
class _SimulatedHardware:
    """What a simulated run builds behind hardware drivers (see protocol_sims)."""

    physical: dict[str, Any] = field(default_factory=dict)
    simulators: list[Any] = field(default_factory=list)


def all_simulated(config: Config, *, simulate: bool = False) -> bool:
    """Whether every device of the unit runs on its simulator (then time may be virtual)."""
    if simulate:
        return True
    model = config.model
    entries = [model.mount, model.dome]
    for section in ("focusers", "filterwheels", "rotators", "switches", "weather",
                    "cover_calibrators", "spectrographs", "safety_monitors", "cameras"):
        entries.extend(getattr(model, section))
    return all(is_simulated(entry, False) for entry in entries if entry is not None)


def build_devices(config: Config, *, simulate: bool = False,
                  scenario: WeatherScenario | None = None, seed: int | None = None
                  ) -> DeviceSet:
    """Construct (not connect) every configured device.

    ``scenario``: the weather shared by the simulated weather stations and safety
    monitors that have no ``scenario`` or ``seed`` option of their own; its faults go
    on the simulated devices they name. ``seed``: see the module docstring.
    """
    model = config.model
    site = model.site
    devices = DeviceSet()
    hardware = _SimulatedHardware(simulators=devices.simulators)
    shared = {"scenario": scenario} if scenario is not None else {}
    if model.mount is not None:
        devices.mount = _build("mount", model.mount, simulate, seed, hardware, site=site)
    for section in ("focusers", "filterwheels", "rotators", "switches", "weather",
                    "cover_calibrators", "spectrographs"):
        group = getattr(devices, section)
        context = shared if section == "weather" else {}
        for cfg in getattr(model, section):
            if cfg.name in group:
                raise ConfigError(f"{section}: two devices are named {cfg.name!r}")
            group[cfg.name] = _build(section, cfg, simulate, None, hardware, site=site,
                                     **context)
    # simulated devices look at the mount simulator, behind its hardware driver if any
    sim_mount = hardware.physical.get("mount", devices.mount)
    if model.dome is not None:
        devices.dome = _build("dome", model.dome, simulate, None, hardware, site=site,
                              mount=sim_mount)
    for cfg in model.safety_monitors:
        station = _reference(cfg, "weather", devices.weather)
        devices.safety_monitors[cfg.name] = _build("safety_monitors", cfg, simulate, None,
                                                   hardware, site=site, weather=station,
                                                   **shared)
    for index, cfg in enumerate(model.cameras):
        camera_seed = None if seed is None else seed * 1000 + index
        if _reference(cfg, "spectrograph", devices.spectrographs) is not None:
            devices.camera_spectrographs[cfg.name] = (cfg.model_extra or {})["spectrograph"]
        if "spectrograph" in (cfg.model_extra or {}):
            cfg = _without(cfg, "spectrograph")  # a link, not an option of the camera driver
        devices.cameras[cfg.name] = _build(
            "cameras", cfg, simulate, camera_seed, hardware, site=site, mount=sim_mount,
            focuser=_reference(cfg, "focuser", devices.focusers),
            filterwheel=_reference(cfg, "filterwheel", devices.filterwheels),
            weather=next(iter(devices.weather.values()), None),
            dome=devices.dome, calibrator=_calibrator(cfg, devices.cover_calibrators),
        )
        if (cfg.model_extra or {}).get("primary") or devices.primary_camera is None:
            devices.primary_camera = cfg.name
    _link_spectrographs(model.cameras, devices)
    names = [device.name for device in devices]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"device names must be unique; repeated: {', '.join(duplicates)}")
    if scenario is not None and len(scenario.faults):
        scenario.faults.install(devices)
    return devices


def _link_spectrographs(cameras: list[DeviceConfig], devices: DeviceSet) -> None:
    """Put the spectrographs in the cameras' beams.

    The unit's only spectrograph goes with its only camera when that camera's entry
    does not mention one. A spectrograph no camera names, while some camera's entry has
    no ``spectrograph`` key (a link or ``null``), is a :class:`ConfigError` naming
    those ``cameras[i].spectrograph`` keys."""
    linked = set(devices.camera_spectrographs.values())
    unlinked = [name for name in devices.spectrographs if name not in linked]
    silent = [(i, c.name) for i, c in enumerate(cameras)
              if "spectrograph" not in (c.model_extra or {})]
    if not unlinked or not silent:
        return
    if len(cameras) == 1 and len(devices.spectrographs) == 1:
        devices.camera_spectrographs[cameras[0].name] = unlinked[0]
        return
    which = ", ".join(repr(name) for name in unlinked)
    keys = " or ".join(f"cameras[{i}].spectrograph ({name})" for i, name in silent)
    raise ConfigError(f"spectrograph {which} is linked to no camera: set {keys} to "
                      f"{unlinked[0]!r} for the camera behind it, or to null for none")


def _without(cfg: DeviceConfig, key: str) -> DeviceConfig:
    """A copy of ``cfg`` without the extra key ``key`` (values passed on as they are)."""
    values = {name: getattr(cfg, name) for name in type(cfg).model_fields}
    values.update((k, v) for k, v in (cfg.model_extra or {}).items() if k != key)
    return type(cfg).model_validate(values)


def _with(cfg: DeviceConfig, key: str, value: Any) -> DeviceConfig:
    """A copy of ``cfg`` with the extra key ``key`` set to ``value``."""
    values = {name: getattr(cfg, name) for name in type(cfg).model_fields}
    values.update(cfg.model_extra or {})
    values[key] = value
    return type(cfg).model_validate(values)


def _calibrator(cfg: DeviceConfig, group: dict[str, CoverCalibrator]) -> CoverCalibrator | None:
    """The camera's cover calibrator: the one it names, else the unit's only one, else
    None (also with ``calibrator: null``)."""
    named = _reference(cfg, "calibrator", group)
    if named is None and "calibrator" not in (cfg.model_extra or {}) and len(group) == 1:
        return next(iter(group.values()))
    return named


def _reference(cfg: DeviceConfig, key: str, group: dict[str, Any]) -> Any:
    """The device another one names in its config (``focuser: foc0``), or None."""
    wanted = (cfg.model_extra or {}).get(key)
    if wanted is None:
        return None
    if wanted not in group:
        known = ", ".join(group) or "none"
        raise ConfigError(f"{cfg.name}.{key} = {wanted!r}: no such device (known: {known})")
    return group[wanted]
