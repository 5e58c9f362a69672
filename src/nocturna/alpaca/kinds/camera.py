"""Camera members on nocturna's :class:`~nocturna.devices.camera.Camera`.

* ``BinX``/``BinY``/``StartX``/``StartY``/``NumX``/``NumY`` are set one at a time by
  ASCOM clients, so the server keeps them per served camera and applies them when
  ``StartExposure`` runs; a combination that does not fit the sensor is refused then
  (0x401), as ASCOM prescribes. Binning outside 1..MaxBin and negative values are
  refused at once (0x401).
* ``StartExposure`` while the camera exposes or reads out is 0x40B; ``ImageArray``
  with no image ready is 0x40B, or 0x40E when the last exposure was aborted.
* ``LastExposureDuration``/``LastExposureStartTime`` before any exposure are 0x402;
  the start time is FITS-formatted UTC (``YYYY-MM-DDThh:mm:ss.fff``).
* A false Can* flag makes its member 0x400, as do capabilities the camera does not
  report (gain or offset ranges, Bayer offsets); nocturna has no sub-exposures.
* ``ImageArray``/``ImageArrayVariant`` return an
  :class:`~nocturna.alpaca.imagearray.ImageReply` the server streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nocturna.alpaca.imagearray import ImageReply
from nocturna.alpaca.kinds.background import PerDevice
from nocturna.alpaca.kinds.base import Args, Table, require
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    NotImplementedByDeviceError,
    OperationCancelledError,
    ValueNotSetError,
)
from nocturna.devices.camera import Camera, CameraInfo
from nocturna.devices.types import CameraState, GuideDirection

table = Table()
BUSY = frozenset({CameraState.WAITING, CameraState.EXPOSING, CameraState.READING,
                  CameraState.DOWNLOAD})


@dataclass
class _Served:
    """What the server keeps for one camera: the frame being set up, and whether the
    last exposure was aborted."""

    bin_x: int
    bin_y: int
    start_x: int
    start_y: int
    num_x: int
    num_y: int
    aborted: bool = False


_served: PerDevice[_Served] = PerDevice()


async def _frame(device: Camera) -> _Served:
    served = _served.get(device)
    if served is None:
        state = await device.state()
        served = _served.set(device, _Served(state.bin_x, state.bin_y, state.start_x,
                                             state.start_y, state.num_x, state.num_y))
    return served


def _unsupported(device: Camera, what: str) -> NotImplementedByDeviceError:
    return NotImplementedByDeviceError(f"camera {device.name!r} does not support {what}")


def _info_getter(member: str, attribute: str, what: str) -> None:
    async def get(device: Camera, args: Args) -> Any:
        value = getattr(await device.info(), attribute)
        if value is None:
            raise _unsupported(device, what)
        return value

    get.__name__ = f"get_{member}"
    table.get(member)(get)


def _state_getter(member: str, attribute: str, what: str) -> None:
    async def get(device: Camera, args: Args) -> Any:
        value = getattr(await device.state(), attribute)
        if value is None:
            raise _unsupported(device, what)
        return value

    get.__name__ = f"get_{member}"
    table.get(member)(get)


for _member, _attribute in {
    "bayeroffsetx": "bayer_offset_x", "bayeroffsety": "bayer_offset_y",
    "cameraxsize": "width", "cameraysize": "height",
    "canabortexposure": "can_abort_exposure", "canasymmetricbin": "can_asymmetric_bin",
    "canfastreadout": "can_fast_readout", "cangetcoolerpower": "can_get_cooler_power",
    "canpulseguide": "can_pulse_guide", "cansetccdtemperature": "can_set_ccd_temperature",
    "canstopexposure": "can_stop_exposure", "electronsperadu": "electrons_per_adu",
    "exposuremax": "exposure_max_s", "exposuremin": "exposure_min_s",
    "exposureresolution": "exposure_resolution_s", "fullwellcapacity": "full_well_e",
    "gainmax": "gain_max", "gainmin": "gain_min", "gains": "gains", "hasshutter": "has_shutter",
    "maxadu": "max_adu", "maxbinx": "max_bin_x", "maxbiny": "max_bin_y",
    "offsetmax": "offset_max", "offsetmin": "offset_min", "offsets": "offsets",
    "pixelsizex": "pixel_size_x_um", "pixelsizey": "pixel_size_y_um",
    "readoutmodes": "readout_modes", "sensorname": "sensor_name",
    "sensortype": "sensor_type",
}.items():
    _info_getter(_member, _attribute, _member)

for _member, _attribute in {
    "camerastate": "camera_state", "ccdtemperature": "ccd_temperature_c",
    "cooleron": "cooler_on", "gain": "gain", "heatsinktemperature": "heat_sink_temperature_c",
    "imageready": "image_ready", "offset": "offset", "percentcompleted": "percent_completed",
    "readoutmode": "readout_mode",
}.items():
    _state_getter(_member, _attribute, _member)


# ------------------------------------------------------------------- frame
def _frame_member(member: str, attribute: str, parameter: str, minimum: int) -> None:
    async def get(device: Camera, args: Args) -> int:
        return getattr(await _frame(device), attribute)

    async def put(device: Camera, args: Args) -> None:
        value = args[parameter]
        if value < minimum:
            raise InvalidValueError(f"{parameter} {value} is below {minimum}")
        if attribute.startswith("bin"):
            info = await device.info()
            top = info.max_bin_x if attribute == "bin_x" else info.max_bin_y
            if value > top:
                raise InvalidValueError(f"{parameter} {value} is not in 1..{top}")
        setattr(await _frame(device), attribute, value)

    get.__name__, put.__name__ = f"get_{member}", f"put_{member}"
    table.get(member)(get)
    table.put(member)(put)


for _member, _attribute, _parameter, _minimum in (
        ("binx", "bin_x", "BinX", 1), ("biny", "bin_y", "BinY", 1),
        ("startx", "start_x", "StartX", 0), ("starty", "start_y", "StartY", 0),
        ("numx", "num_x", "NumX", 1), ("numy", "num_y", "NumY", 1)):
    _frame_member(_member, _attribute, _parameter, _minimum)


def _check_frame(info: CameraInfo, frame: _Served) -> None:
    if frame.bin_x != frame.bin_y and not info.can_asymmetric_bin:
        raise InvalidValueError(f"BinX {frame.bin_x} ≠ BinY {frame.bin_y}: this camera "
                                "bins symmetrically only")
    width, height = info.width // frame.bin_x, info.height // frame.bin_y
    if frame.start_x + frame.num_x > width:
        raise InvalidValueError(f"StartX {frame.start_x} + NumX {frame.num_x} exceeds the "
                                f"binned width {width}")
    if frame.start_y + frame.num_y > height:
        raise InvalidValueError(f"StartY {frame.start_y} + NumY {frame.num_y} exceeds the "
                                f"binned height {height}")


# --------------------------------------------------------------- exposures
@table.put("startexposure")
async def start_exposure(device: Camera, args: Args) -> None:
    duration = args["Duration"]
    info, state = await device.info(), await device.state()
    if state.camera_state in BUSY:
        raise InvalidOperationError(f"camera {device.name!r} is busy "
                                    f"({state.camera_state.name.lower()})")
    if not info.exposure_min_s <= duration <= info.exposure_max_s:
        raise InvalidValueError(f"Duration {duration} s is not in "
                                f"{info.exposure_min_s:g}..{info.exposure_max_s:g} s")
    frame = await _frame(device)
    _check_frame(info, frame)
    await device.set_frame(frame.bin_x, frame.bin_y, frame.start_x, frame.start_y,
                           frame.num_x, frame.num_y)
    await device.start_exposure(duration, args["Light"])
    frame.aborted = False


@table.put("abortexposure")
async def abort_exposure(device: Camera, args: Args) -> None:
    await require(device, "can_abort_exposure", "AbortExposure")
    busy = (await device.state()).camera_state in BUSY
    await device.abort_exposure()
    if busy:
        (await _frame(device)).aborted = True


@table.put("stopexposure")
async def stop_exposure(device: Camera, args: Args) -> None:
    await require(device, "can_stop_exposure", "StopExposure")
    await device.stop_exposure()


async def _image(device: Camera, args: Args) -> ImageReply:
    if not (await device.state()).image_ready:
        if (await _frame(device)).aborted:
            raise OperationCancelledError(f"camera {device.name!r}: the exposure was aborted, "
                                          "there is no image")
        raise InvalidOperationError(f"camera {device.name!r}: no image is ready")
    return ImageReply((await device.image()).data)


table.get("imagearray")(_image)
table.get("imagearrayvariant")(_image)


@table.get("lastexposureduration")
async def last_exposure_duration(device: Camera, args: Args) -> float:
    value = (await device.state()).last_exposure_duration_s
    if value is None:
        raise ValueNotSetError(f"camera {device.name!r} has not exposed yet")
    return value


def fits_time(value: datetime) -> str:
    """FITS DATE-OBS form, UTC, milliseconds: ``YYYY-MM-DDThh:mm:ss.fff``."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


@table.get("lastexposurestarttime")
async def last_exposure_start_time(device: Camera, args: Args) -> str:
    value = (await device.state()).last_exposure_start_time
    if value is None:
        raise ValueNotSetError(f"camera {device.name!r} has not exposed yet")
    return fits_time(value)


# ---------------------------------------------------------------- settings
@table.put("gain")
async def put_gain(device: Camera, args: Args) -> None:
    await device.set_gain(args["Gain"])


@table.put("offset")
async def put_offset(device: Camera, args: Args) -> None:
    await device.set_offset(args["Offset"])


@table.put("readoutmode")
async def put_readout_mode(device: Camera, args: Args) -> None:
    index = args["ReadoutMode"]
    modes = (await device.info()).readout_modes
    if not 0 <= index < len(modes):
        raise InvalidValueError(f"ReadoutMode {index} is not in 0..{len(modes) - 1}")
    await device.set_readout_mode(index)


@table.get("fastreadout")
async def get_fast_readout(device: Camera, args: Args) -> bool:
    await require(device, "can_fast_readout", "FastReadout")
    return (await device.state()).fast_readout


@table.put("fastreadout")
async def put_fast_readout(device: Camera, args: Args) -> None:
    await require(device, "can_fast_readout", "FastReadout")
    await device.set_fast_readout(args["FastReadout"])


@table.put("cooleron")
async def put_cooler_on(device: Camera, args: Args) -> None:
    await device.set_cooler(args["CoolerOn"])


@table.get("coolerpower")
async def cooler_power(device: Camera, args: Args) -> float:
    await require(device, "can_get_cooler_power", "CoolerPower")
    return (await device.state()).cooler_power_pct


@table.get("setccdtemperature")
async def get_set_ccd_temperature(device: Camera, args: Args) -> float:
    await require(device, "can_set_ccd_temperature", "SetCCDTemperature")
    return (await device.state()).set_ccd_temperature_c


@table.put("setccdtemperature")
async def put_set_ccd_temperature(device: Camera, args: Args) -> None:
    await require(device, "can_set_ccd_temperature", "SetCCDTemperature")
    await device.set_target_temperature(args["SetCCDTemperature"])


@table.get("subexposureduration")
async def get_sub_exposure_duration(device: Camera, args: Args) -> float:
    raise _unsupported(device, "sub-exposures (SubExposureDuration)")


@table.put("subexposureduration")
async def put_sub_exposure_duration(device: Camera, args: Args) -> None:
    raise _unsupported(device, "sub-exposures (SubExposureDuration)")


# ----------------------------------------------------------------- guiding
@table.get("ispulseguiding")
async def is_pulse_guiding(device: Camera, args: Args) -> bool:
    await require(device, "can_pulse_guide", "IsPulseGuiding")
    return (await device.state()).is_pulse_guiding


@table.put("pulseguide")
async def pulse_guide(device: Camera, args: Args) -> None:
    await require(device, "can_pulse_guide", "PulseGuide")
    try:
        direction = GuideDirection(args["Direction"])
    except ValueError:
        raise InvalidValueError(f"guide direction {args['Direction']} is not 0..3 (north, "
                                "south, east, west)") from None
    if args["Duration"] < 0:
        raise InvalidValueError(f"pulse duration {args['Duration']} ms is negative")
    await device.pulse_guide(direction, args["Duration"])


HANDLERS = table.handlers


async def device_state(device: Camera) -> dict[str, Any]:
    """Camera DeviceState: the operational properties of ICameraV4."""
    info, state = await device.info(), await device.state()
    values: dict[str, Any] = {"CameraState": state.camera_state,
                              "CCDTemperature": state.ccd_temperature_c}
    if info.can_get_cooler_power:
        values["CoolerPower"] = state.cooler_power_pct
    values["HeatSinkTemperature"] = state.heat_sink_temperature_c
    values["ImageReady"] = state.image_ready
    if info.can_pulse_guide:
        values["IsPulseGuiding"] = state.is_pulse_guiding
    values["PercentCompleted"] = state.percent_completed
    return values
