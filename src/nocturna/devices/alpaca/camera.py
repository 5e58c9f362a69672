"""Alpaca camera client (ASCOM ICamera over HTTP)."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime

from nocturna.core.errors import (
    DeviceTimeoutError,
    NocturnaError,
    OperationCancelledError,
)
from nocturna.devices.alpaca.device import (
    REQUIRED,
    AlpacaDevice,
    Unset,
    as_bool,
    as_enum,
    as_float,
    as_int,
    as_strings,
    nan_if_none,
    parse_time,
)
from nocturna.devices.base import command
from nocturna.devices.camera import (
    READY_POLL_FIRST_S,
    READY_POLL_MAX_S,
    Camera,
    CameraImage,
    CameraInfo,
    CameraStatus,
)
from nocturna.devices.types import CameraState, GuideDirection, SensorType

IMAGE_TIMEOUT_S = 120.0
"""At least this long for an image download (large frames on slow networks); the
device's ``timeout_s`` when longer."""

_INFO = {
    "sensorname": "", "sensortype": int(SensorType.MONOCHROME), "cameraxsize": REQUIRED,
    "cameraysize": REQUIRED, "pixelsizex": REQUIRED, "pixelsizey": REQUIRED, "maxbinx": 1,
    "maxbiny": 1, "canasymmetricbin": False, "fullwellcapacity": None,
    "electronsperadu": None, "maxadu": REQUIRED, "exposuremin": 0.0, "exposuremax": None,
    "exposureresolution": 0.0, "readoutmodes": [], "hasshutter": False,
    "canabortexposure": False, "canstopexposure": False, "canpulseguide": False,
    "cansetccdtemperature": False, "cangetcoolerpower": False, "canfastreadout": False,
    "bayeroffsetx": None, "bayeroffsety": None, "gainmin": None, "gainmax": None,
    "gains": None, "offsetmin": None, "offsetmax": None, "offsets": None,
}
_STATE = {
    "camerastate": REQUIRED, "ccdtemperature": None, "heatsinktemperature": None,
    "cooleron": False, "coolerpower": 0.0, "setccdtemperature": None, "binx": 1, "biny": 1,
    "startx": REQUIRED, "starty": REQUIRED, "numx": REQUIRED, "numy": REQUIRED,
    "gain": None, "offset": None, "readoutmode": 0, "fastreadout": False,
    "imageready": REQUIRED, "percentcompleted": 0, "ispulseguiding": False,
    "lastexposureduration": Unset(None), "lastexposurestarttime": Unset(None),
}
_IMAGE = {
    "lastexposurestarttime": Unset(None), "lastexposureduration": Unset(None), "binx": 1,
    "biny": 1, "startx": 0, "starty": 0, "gain": None, "offset": None, "readoutmode": 0,
    "ccdtemperature": None, "setccdtemperature": None,
}
STABLE_WITHIN_C = 0.5
"""Cooled sensors within this of the set point count as stable (ASCOM has no member)."""


def _opt_int(value: object) -> int | None:
    return None if value is None else as_int(value)


class AlpacaCamera(AlpacaDevice, Camera):
    """A camera on an Alpaca server."""

    alpaca_type = "camera"
    device_state_since = 4

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._light = True
        self._started: datetime | None = None
        self._duration_s = math.nan

    async def _read_info(self) -> CameraInfo:
        v = await self._values(_INFO)
        sensor = as_enum(SensorType, v["sensortype"])
        mono = sensor == SensorType.MONOCHROME
        exposure_max = v["exposuremax"]
        return CameraInfo(
            sensor_name=str(v["sensorname"]), sensor_type=sensor,
            width=as_int(v["cameraxsize"]), height=as_int(v["cameraysize"]),
            pixel_size_x_um=as_float(v["pixelsizex"]), pixel_size_y_um=as_float(v["pixelsizey"]),
            max_bin_x=as_int(v["maxbinx"]), max_bin_y=as_int(v["maxbiny"]),
            can_asymmetric_bin=as_bool(v["canasymmetricbin"]),
            full_well_e=nan_if_none(v["fullwellcapacity"]),
            electrons_per_adu=nan_if_none(v["electronsperadu"]), max_adu=as_int(v["maxadu"]),
            exposure_min_s=as_float(v["exposuremin"]),
            exposure_max_s=math.inf if exposure_max is None else as_float(exposure_max),
            exposure_resolution_s=as_float(v["exposureresolution"]),
            readout_modes=as_strings(v["readoutmodes"]), has_shutter=as_bool(v["hasshutter"]),
            can_abort_exposure=as_bool(v["canabortexposure"]),
            can_stop_exposure=as_bool(v["canstopexposure"]),
            can_pulse_guide=as_bool(v["canpulseguide"]),
            can_set_ccd_temperature=as_bool(v["cansetccdtemperature"]),
            can_get_cooler_power=as_bool(v["cangetcoolerpower"]),
            can_fast_readout=as_bool(v["canfastreadout"]),
            bayer_offset_x=None if mono else _opt_int(v["bayeroffsetx"]),
            bayer_offset_y=None if mono else _opt_int(v["bayeroffsety"]),
            gain_min=_opt_int(v["gainmin"]), gain_max=_opt_int(v["gainmax"]),
            gains=None if v["gains"] is None else as_strings(v["gains"]),
            offset_min=_opt_int(v["offsetmin"]), offset_max=_opt_int(v["offsetmax"]),
            offsets=None if v["offsets"] is None else as_strings(v["offsets"]),
        )

    async def state(self) -> CameraStatus:
        v = await self._values(_STATE, state=True)
        ccd = nan_if_none(v["ccdtemperature"])
        target = nan_if_none(v["setccdtemperature"])
        cooler = as_bool(v["cooleron"])
        duration = v["lastexposureduration"]
        return CameraStatus(
            camera_state=as_enum(CameraState, v["camerastate"]), ccd_temperature_c=ccd,
            heat_sink_temperature_c=nan_if_none(v["heatsinktemperature"]), cooler_on=cooler,
            cooler_power_pct=as_float(v["coolerpower"]), set_ccd_temperature_c=target,
            temperature_stable=cooler and abs(ccd - target) <= STABLE_WITHIN_C,
            bin_x=as_int(v["binx"]), bin_y=as_int(v["biny"]), start_x=as_int(v["startx"]),
            start_y=as_int(v["starty"]), num_x=as_int(v["numx"]), num_y=as_int(v["numy"]),
            gain=_opt_int(v["gain"]), offset=_opt_int(v["offset"]),
            readout_mode=as_int(v["readoutmode"]), fast_readout=as_bool(v["fastreadout"]),
            image_ready=as_bool(v["imageready"]),
            percent_completed=as_int(v["percentcompleted"]),
            is_pulse_guiding=as_bool(v["ispulseguiding"]),
            last_exposure_duration_s=None if duration is None else as_float(duration),
            last_exposure_start_time=parse_time(v["lastexposurestarttime"]),
        )

    # ------------------------------------------------------------- settings
    async def set_binning(self, bin_x: int, bin_y: int | None = None) -> None:
        bin_y = bin_x if bin_y is None else bin_y
        await self._put("binx", BinX=bin_x)
        await self._put("biny", BinY=bin_y)
        info: CameraInfo = self._info
        await self.set_subframe(0, 0, info.width // bin_x, info.height // bin_y)

    async def set_subframe(self, start_x: int, start_y: int, num_x: int, num_y: int) -> None:
        await self._put("startx", StartX=start_x)
        await self._put("starty", StartY=start_y)
        await self._put("numx", NumX=num_x)
        await self._put("numy", NumY=num_y)

    async def set_gain(self, gain: int) -> None:
        await self._put("gain", Gain=gain)

    async def set_offset(self, offset: int) -> None:
        await self._put("offset", Offset=offset)

    async def set_readout_mode(self, index: int) -> None:
        await self._put("readoutmode", ReadoutMode=index)

    async def set_fast_readout(self, fast: bool) -> None:
        await self._put("fastreadout", FastReadout=fast)

    async def set_cooler(self, on: bool) -> None:
        await self._put("cooleron", CoolerOn=on)

    async def set_target_temperature(self, celsius: float) -> None:
        await self._put("setccdtemperature", SetCCDTemperature=float(celsius))

    # ------------------------------------------------------------ exposures
    async def start_exposure(self, duration_s: float, light: bool = True) -> None:
        await self._put("startexposure", Duration=float(duration_s), Light=bool(light))
        self._light = bool(light)
        self._started = self.clock.now()
        self._duration_s = float(duration_s)

    async def abort_exposure(self) -> None:
        await self._put("abortexposure")

    async def stop_exposure(self) -> None:
        await self._put("stopexposure")

    async def pulse_guide(self, direction: GuideDirection, duration_ms: int) -> None:
        await self._put("pulseguide", Direction=int(direction), Duration=int(duration_ms))

    @command(read_only=True, timeout_s=10 * IMAGE_TIMEOUT_S)  # each request has its own
    async def image(self) -> CameraImage:
        """The image (ImageBytes, else JSON), its metadata read alongside."""
        fetched, v = await asyncio.gather(
            self.client.get_image(self._path + "imagearray",
                                  timeout_s=max(self.timeout_s, IMAGE_TIMEOUT_S)),
            self._values(_IMAGE))
        duration = v["lastexposureduration"]
        duration_s = self._duration_s if duration is None else as_float(duration)
        start = parse_time(v["lastexposurestarttime"]) or self._started or self.clock.now()
        return CameraImage(
            data=fetched.data, start_time=start, duration_s=duration_s, light=self._light,
            bin_x=as_int(v["binx"]), bin_y=as_int(v["biny"]), start_x=as_int(v["startx"]),
            start_y=as_int(v["starty"]), gain=_opt_int(v["gain"]),
            offset=_opt_int(v["offset"]), readout_mode=as_int(v["readoutmode"]),
            ccd_temperature_c=nan_if_none(v["ccdtemperature"]),
            set_ccd_temperature_c=nan_if_none(v["setccdtemperature"]),
            extra={"alpaca_image_type": fetched.image_type,
                   "alpaca_transmission_type": fetched.transmission_type,
                   "alpaca_imagebytes": fetched.imagebytes},
        )

    async def wait_until_ready(self, duration_s: float, *,
                               timeout_s: float | None = None) -> None:
        """Sleep the exposure time (on the clock), then poll ``imageready`` alone.

        The first poll comes after 5 ms, the interval doubling up to 0.5 s; once it has
        reached 0.5 s each poll also reads ``camerastate``, so an abandoned exposure
        (idle twice without an image) or an error state ends the wait.
        """
        limit = duration_s + 600.0 if timeout_s is None else timeout_s
        deadline = self.clock.timestamp() + limit
        await self.clock.sleep(min(max(0.0, duration_s), limit))
        interval = READY_POLL_FIRST_S
        idle_seen = False
        while True:
            if interval < READY_POLL_MAX_S:
                if as_bool(await self._get("imageready")):
                    return
            else:
                v = await self._values({"imageready": REQUIRED, "camerastate": REQUIRED})
                if as_bool(v["imageready"]):
                    return
                state = as_enum(CameraState, v["camerastate"])
                if state == CameraState.ERROR:
                    raise NocturnaError(f"camera {self.name!r} reports an error instead of "
                                        "an image")
                if state == CameraState.IDLE and idle_seen:
                    raise OperationCancelledError(
                        f"camera {self.name!r}: the exposure ended without an image")
                idle_seen = state == CameraState.IDLE
            remaining = deadline - self.clock.timestamp()
            if remaining <= 0:
                raise DeviceTimeoutError(f"camera {self.name!r}: no image ready within "
                                         f"{limit:g} s")
            await self.clock.sleep(min(interval, remaining))
            interval = min(READY_POLL_MAX_S, interval * 2)
