"""Assembling the azcam tools from the configuration and a unit's instrument.

:func:`build_azcam` turns the ``azcam:`` section and the connected devices into the
tools the command server exposes (exposure, exposure.sendimage, controller, tempcon,
instrument, telescope, focus, display, parameters) and their command table.

The detector: ``azcam.detector`` when given; otherwise a simulated camera gets a
demonstration CCD of its size (2 × 2 amplifiers, 8 prescan and 32 overscan columns,
16 overscan rows, a bias level and read noise of its own per amplifier) and any other
camera one amplifier without overscan, its pixels passed through unchanged. With
``--simulate`` and no lamps configured, the instrument has two simulated comparison
lamps (HeNeAr, ThAr).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nocturna import __version__
from nocturna.azcam.detector import DetectorGeometry
from nocturna.azcam.dispatch import CommandTable
from nocturna.azcam.filenames import FileNames
from nocturna.azcam.filetypes import FileType
from nocturna.azcam.sendimage import SendImage
from nocturna.azcam.tempcon_sim import SimTempController
from nocturna.azcam.tools.controller import ControllerTool
from nocturna.azcam.tools.display import DisplayTool
from nocturna.azcam.tools.exposure import ExposureTool
from nocturna.azcam.tools.focus import FocusTool
from nocturna.azcam.tools.instrument import InstrumentTool, Lamp, SimLamp, SwitchLamp
from nocturna.azcam.tools.parameters import Parameter, ParametersTool
from nocturna.azcam.tools.telescope import TelescopeTool
from nocturna.azcam.tools.tempcon import CameraCoolerTempCon, TempConTool
from nocturna.azcam.values import number
from nocturna.core.config.models import AzcamConfig
from nocturna.core.errors import ConfigError
from nocturna.devices.camera import Camera, CameraInfo
from nocturna.devices.switch import Switch
from nocturna.instrument.instrument import Instrument

SIM_LAMPS = ("HeNeAr", "ThAr")


@dataclass
class AzcamTools:
    """The tools, their command table and where images go."""

    tools: dict[str, Any]
    table: CommandTable
    folder: Path

    async def close(self) -> None:
        """Abort an exposure in progress and switch the lamps off."""
        exposure: ExposureTool = self.tools["exposure"]
        try:
            await exposure.abort()
        finally:
            await self.tools["instrument"].comps_off()


def demo_detector(info: CameraInfo, name: str) -> DetectorGeometry:
    """The demonstration CCD of a simulated camera's size (see the module notes)."""
    amps_x = 2 if info.width % 2 == 0 else 1
    amps_y = 2 if info.height % 2 == 0 else 1
    count = amps_x * amps_y
    return DetectorGeometry.from_config({
        "name": f"{name}-sim", "columns": info.width, "rows": info.height,
        "amplifiers": [amps_x, amps_y], "prescan_columns": 8, "overscan_columns": 32,
        "prescan_rows": 0, "overscan_rows": 16,
        "bias_adu": [1000.0, 1012.0, 994.0, 1006.0][:count],
        "read_noise_e": [4.5, 5.0, 4.2, 5.5][:count],
        "gain_e_per_adu": info.electrons_per_adu,
    })


def detector_for(settings: AzcamConfig, info: CameraInfo, camera: Camera) -> DetectorGeometry:
    """The configured geometry (checked against the camera's size) or the default."""
    if settings.detector is not None:
        geometry = DetectorGeometry.from_config(settings.detector)
        if (geometry.columns, geometry.rows) != (info.width, info.height):
            raise ConfigError(
                f"azcam.detector is {geometry.columns} x {geometry.rows} pixels but camera "
                f"{camera.name!r} is {info.width} x {info.height}: columns and rows must be "
                "the camera's size")
        return geometry
    if camera.driver_name == "sim":
        return demo_detector(info, camera.name)
    return DetectorGeometry.single(info.width, info.height, name=camera.name)


def lamps_for(settings: AzcamConfig, switches: Mapping[str, Switch], *,
              simulate: bool) -> dict[str, Lamp]:
    """The comparison lamps: configured switch channels, or simulated ones."""
    lamps: dict[str, Lamp] = {}
    for entry in settings.lamps:
        switch = switches.get(entry.switch)
        if switch is None:
            raise ConfigError(f"azcam.lamps {entry.name}: no switch named {entry.switch!r} "
                              f"(switches: {', '.join(switches) or 'none'})")
        lamps[entry.name] = SwitchLamp(switch, entry.channel)
    if not lamps and simulate:
        lamps = {name: SimLamp() for name in SIM_LAMPS}
    return lamps


async def build_azcam(settings: AzcamConfig, *, instrument: Instrument, devices: Any,
                      data_dir: Path, unit_name: str, simulate: bool) -> AzcamTools:
    """Every azcam tool on ``instrument`` (its camera, focuser, filter wheel) and the
    unit's ``devices`` (mount, switches), configured by ``settings``."""
    camera = instrument.camera
    info = await camera.info()
    geometry = detector_for(settings, info, camera)
    exposure_settings = settings.exposure
    folder = Path(exposure_settings.folder) if exposure_settings.folder else \
        Path(data_dir) / "azcam"
    folder.mkdir(parents=True, exist_ok=True)
    filenames = FileNames(folder, exposure_settings.root,
                          sequence_number=exposure_settings.sequence_number,
                          digits=exposure_settings.sequence_digits,
                          auto_increment=exposure_settings.auto_increment,
                          overwrite=exposure_settings.overwrite)
    sendimage = SendImage()
    if settings.sendimage.host:
        sendimage.set_remote_imageserver(settings.sendimage.host, settings.sendimage.port,
                                          settings.sendimage.type,
                                          settings.sendimage.filename)
    display = DisplayTool(folder / "display")
    controller = SimTempController(set_point_c=settings.tempcon.set_point_c) \
        if settings.tempcon.driver == "sim" else CameraCoolerTempCon(camera)
    tempcon = TempConTool(controller)
    instrument_tool = InstrumentTool(instrument, lamps_for(settings, devices.switches,
                                                           simulate=simulate))
    focuser = instrument.context.focuser
    telescope = TelescopeTool(instrument.context.mount, focuser)
    exposure = ExposureTool(instrument, geometry, filenames=filenames,
                            filetype=FileType.parse(exposure_settings.filetype),
                            simulate=camera.driver_name == "sim", sendimage=sendimage,
                            display=display if exposure_settings.display else None,
                            header_sources=(tempcon, instrument_tool, telescope),
                            instrument_tool=instrument_tool)
    focus = FocusTool(camera, focuser, exposure.write_frame, telescope_focuser=focuser)
    f = settings.focus
    focus.set_pars(f.exposure_time, f.number_exposures, f.focus_step, f.detector_shift)
    focus.set_focus_component(f.focus_component)
    parameters = ParametersTool([
        Parameter("version", lambda: __version__, doc="nocturna's version"),
        Parameter("systemname", lambda: unit_name, doc="the unit's name"),
        Parameter("camtemp", lambda: tempcon.get_temperature(0)),
        Parameter("dewtemp", lambda: tempcon.get_temperature(1)),
        Parameter("controltemperature", tempcon.get_control_temperature,
                  lambda value: tempcon.set_control_temperature(
                      number(value, "controltemperature"))),
        Parameter("instrumentfocus", instrument_tool.get_focus,
                  lambda value: instrument_tool.set_focus(number(value, "instrumentfocus"))),
        Parameter("telescopefocus", telescope.get_focus,
                  lambda value: telescope.set_focus(number(value, "telescopefocus"))),
        *exposure.parameters(),
    ])
    tools: dict[str, Any] = {
        "exposure": exposure, "exposure.sendimage": sendimage, "controller":
        ControllerTool(camera), "tempcon": tempcon, "instrument": instrument_tool,
        "telescope": telescope, "focus": focus, "display": display,
        "parameters": parameters,
    }
    table = CommandTable(tools, default_tool=settings.default_tool)
    return AzcamTools(tools, table, folder)
