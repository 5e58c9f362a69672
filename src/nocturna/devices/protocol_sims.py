"""Hardware drivers in a simulated run: the driver stays, the hardware is simulated.

A device whose driver speaks a hardware protocol (``ioptron``, ``astrohaven``,
``weather_board``, ``power_board``, ``gphoto2``) is not swapped for a plain simulator
when the run is simulated (``--simulate``): it keeps its driver, and the driver talks,
byte for byte, to the protocol simulator of its device, which sits on nocturna's
physical simulators so the simulated sky and weather still follow it:

* an iOptron mount → ``nocturna-sim://ioptron/…`` over a :class:`SimMount`;
* an Astrohaven dome → ``nocturna-sim://astrohaven/…`` (two leaves with travel time);
* a weather board → ``nocturna-sim://weather_board/…`` reading the night's weather
  scenario; a power board → ``nocturna-sim://power_board/…``;
* a DSLR → the gphoto2 stand-in over a :class:`SimCamera` that renders a Bayer mosaic.

An entry's ``simulator:`` mapping holds options for the physical simulator behind
(``{pointing_seed: 3}`` for the mount, ``{width: 1024, height: 768}`` for a DSLR...);
drivers ignore it. A port that already is a ``nocturna-sim://`` URL counts as simulated
without ``--simulate``. An entry set to ``driver: sim`` that still names its ``port`` is
simulated the same way, through the hardware driver of its section
(:data:`HARDWARE_DRIVERS`): so a hardware site file runs fully simulated, byte for byte,
by setting ``driver: sim`` on each device, as with ``--simulate``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError
from nocturna.devices.serial.simulator import ProtocolSimulator, register_simulator

PROTOCOL_DRIVERS = frozenset({"ioptron", "astrohaven", "weather_board", "power_board",
                              "gphoto2"})
"""Drivers that keep running in a simulated run, on their protocol simulators."""
HARDWARE_DRIVERS = {"mount": "ioptron", "dome": "astrohaven", "weather": "weather_board",
                    "switches": "power_board", "cameras": "gphoto2"}
"""Section → the hardware driver a ``driver: sim`` entry with a ``port`` runs on its
protocol simulator."""
SIMULATOR_KEY = "simulator"
"""An entry's options for the physical simulator behind its protocol simulator."""
SIM_PREFIX = "nocturna-sim://"

_serial = 0


def is_simulated(cfg: DeviceConfig, simulate: bool) -> bool:
    """Whether ``cfg``'s device is simulated in this run (so time may be virtual)."""
    return simulate or cfg.driver == "sim" or str(cfg.port or "").startswith(SIM_PREFIX)


def hardware_entry(section: str, cfg: DeviceConfig) -> DeviceConfig | None:
    """``cfg`` with its section's hardware driver, when it is a ``driver: sim`` entry
    that names a port (see the module docstring); else None."""
    driver = HARDWARE_DRIVERS.get(section)
    if cfg.driver != "sim" or not cfg.port or driver is None:
        return None
    return cfg.model_copy(update={"driver": driver})


def keeps_driver(cfg: DeviceConfig) -> bool:
    """Whether ``cfg``'s driver keeps running when the run is simulated."""
    return cfg.driver in PROTOCOL_DRIVERS


def physical_entry(cfg: DeviceConfig, **extra: Any) -> DeviceConfig:
    """The entry of the plain simulator behind ``cfg``: its name, ``driver: sim``, the
    links and optics other layers read, and the options of its ``simulator:`` key."""
    options = (cfg.model_extra or {}).get(SIMULATOR_KEY) or {}
    if not isinstance(options, dict):
        raise ConfigError(f"{cfg.name}.{SIMULATOR_KEY}: expected a mapping of the "
                          f"simulator's options, got {options!r}")
    kept = {key: value for key, value in (cfg.model_extra or {}).items()
            if key in ("primary", "focal_length_mm", "aperture_mm", "rotation_deg")}
    return DeviceConfig.model_validate({"name": cfg.name, "driver": "sim", **kept,
                                        **options, **extra})


def driver_entry(cfg: DeviceConfig, port: str) -> DeviceConfig:
    """``cfg`` pointed at ``port``, without its ``simulator:`` key."""
    values = {name: getattr(cfg, name) for name in type(cfg).model_fields}
    values.update((k, v) for k, v in (cfg.model_extra or {}).items() if k != SIMULATOR_KEY)
    values["port"] = port
    return DeviceConfig.model_validate(values)


def serve(name: str, simulator: ProtocolSimulator, keep: list[Any]) -> str:
    """Register ``simulator`` under a name unique in this process; its URL."""
    global _serial
    _serial += 1
    keep.append(simulator)
    return register_simulator(f"{name}-{_serial}", simulator)


def _ioptron(cfg: DeviceConfig, context: dict[str, Any], physical: dict[str, Any],
             build_sim: Callable[[DeviceConfig], Any], keep: list[Any]) -> DeviceConfig:
    from nocturna.devices.ioptron.simulator import IoptronSimulator

    mount = build_sim(physical_entry(cfg))
    physical["mount"] = mount
    return driver_entry(cfg, serve(cfg.name, IoptronSimulator(mount=mount,
                                                              clock=context.get("clock")),
                                   keep))


def _astrohaven(cfg: DeviceConfig, context: dict[str, Any], physical: dict[str, Any],
                build_sim: Callable[[DeviceConfig], Any], keep: list[Any]) -> DeviceConfig:
    from nocturna.devices.astrohaven.simulator import AstrohavenSimulator

    options = (cfg.model_extra or {}).get(SIMULATOR_KEY) or {}
    return driver_entry(cfg, serve(cfg.name, AstrohavenSimulator(
        clock=context.get("clock"), **options), keep))


def _weather_board(cfg: DeviceConfig, context: dict[str, Any], physical: dict[str, Any],
                   build_sim: Callable[[DeviceConfig], Any], keep: list[Any]
                   ) -> DeviceConfig:
    from nocturna.devices.boards.weather_sim import WeatherBoardSimulator

    options = (cfg.model_extra or {}).get(SIMULATOR_KEY) or {}
    return driver_entry(cfg, serve(cfg.name, WeatherBoardSimulator(
        scenario=context.get("scenario"), clock=context.get("clock"), **options), keep))


def _power_board(cfg: DeviceConfig, context: dict[str, Any], physical: dict[str, Any],
                 build_sim: Callable[[DeviceConfig], Any], keep: list[Any]) -> DeviceConfig:
    from nocturna.devices.boards.power_sim import PowerBoardSimulator

    options = (cfg.model_extra or {}).get(SIMULATOR_KEY) or {}
    return driver_entry(cfg, serve(cfg.name, PowerBoardSimulator(
        clock=context.get("clock"), **options), keep))


SERIAL_SIMULATIONS = {("mount", "ioptron"): _ioptron, ("dome", "astrohaven"): _astrohaven,
                      ("weather", "weather_board"): _weather_board,
                      ("switches", "power_board"): _power_board}
"""(section, driver) → how its entry is pointed at a protocol simulator in a simulated
run (a weather board's safety monitor reads its station: it has no port of its own)."""


DSLR_SENSOR = {"sensor_type": "rggb", "width": 1296, "height": 864, "pixel_size_um": 17.2,
               "sensor_name": "simulated Canon EOS (4x4 pixels as one)", "readout_s": 1.0}
"""A simulated DSLR's sensor unless its ``simulator:`` key says otherwise: an EOS 100D's
field (5184 × 3456 pixels of 4.3 µm) at a quarter of the pixels per axis, so a frame
renders in milliseconds while the plate scale and field stay a real DSLR's."""
DSLR_DRIVER_OPTIONS = ("iso", "image_format", "owner_name", "electrons_per_adu",
                       "file_timeout_s", "timeout_s", "description")


def dslr_sensor_entry(cfg: DeviceConfig) -> DeviceConfig:
    """The simulated camera behind a DSLR entry (:data:`DSLR_SENSOR`, then the entry's
    ``simulator:`` options)."""
    options = (cfg.model_extra or {}).get(SIMULATOR_KEY) or {}
    return physical_entry(cfg, **{**DSLR_SENSOR, **(options if isinstance(options, dict)
                                                    else {})})


def simulated_dslr(cfg: DeviceConfig, context: dict[str, Any],
                   build_sim: Callable[[DeviceConfig], Any]) -> Any:
    """A gphoto2 camera entry as its driver on the gphoto2 stand-in, whose sensor is a
    simulated camera rendering a Bayer mosaic (``context``: the camera's links)."""
    from nocturna.devices.gphoto2.camera import Gphoto2Camera

    sim = build_sim(dslr_sensor_entry(cfg))
    extra = cfg.model_extra or {}
    kwargs = {key: extra[key] for key in DSLR_DRIVER_OPTIONS if key in extra}
    kwargs.update((key, context[key]) for key in ("clock", "events")
                  if context.get(key) is not None)
    return Gphoto2Camera.simulated(cfg.name, sim, port=cfg.port or "usb:001,001",
                                   serial_number=extra.get("serial_number"), **kwargs)


def simulated_entry(section: str, cfg: DeviceConfig, context: dict[str, Any],
                    physical: dict[str, Any], build_sim: Callable[[DeviceConfig], Any],
                    keep: list[Any]) -> DeviceConfig:
    """``cfg`` (a serial driver's entry) pointed at its protocol simulator.

    ``build_sim(entry)`` builds a plain simulator from an entry; ``physical`` collects
    the physical simulators made (``"mount"``), for the devices that look at them (a
    simulated camera renders where the simulated mount truly points); ``keep`` holds the
    protocol simulators for as long as the devices live.
    """
    make = SERIAL_SIMULATIONS.get((section, cfg.driver))
    if make is None:
        raise ConfigError(f"{cfg.name}: driver {cfg.driver!r} has no protocol simulator")
    return make(cfg, context, physical, build_sim, keep)
