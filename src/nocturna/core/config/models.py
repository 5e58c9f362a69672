"""Typed models of the configuration tree (pydantic v2).

The built-in defaults (``defaults.yaml``) are the one place defaults live; the
models say what each key must be. Sections are strict: an unknown key is an error
(a misspelt key would otherwise be silently ignored at 3 a.m.). Device entries
accept extra, driver-specific options.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from nocturna.core.config.quantity import (
    Altitude,
    Angle,
    Duration,
    Latitude,
    Length,
    Longitude,
    quantity_type,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


HorizonPoint = Annotated[
    list[Annotated[float, Field(ge=-90, le=360)]],
    Field(min_length=2, max_length=2, description="[altitude, azimuth] in degrees"),
]


class Horizon(Strict):
    """The local horizon: a default altitude and obstruction polygons."""

    default: Altitude
    obstructions: list[Annotated[list[HorizonPoint], Field(min_length=2)]] = []

    @field_validator("obstructions")
    @classmethod
    def _points_in_range(cls, value: list[list[list[float]]]) -> list[list[list[float]]]:
        for polygon in value:
            for alt, az in polygon:
                if not (0 <= alt <= 90 and 0 <= az <= 360):
                    raise ValueError(
                        f"obstruction point [{alt:g}, {az:g}] must be [altitude 0..90, "
                        "azimuth 0..360] in degrees"
                    )
        return value


class Twilight(Strict):
    """Sun altitudes that bound the night's activities."""

    flat: Altitude
    focus: Altitude
    observe: Altitude


class Site(Strict):
    name: str = Field(min_length=1)
    telescope: str = Field(min_length=1, max_length=68)  # TELESCOP in image headers
    latitude: Latitude
    longitude: Longitude
    elevation: Length
    timezone: str
    horizon: Horizon
    twilight: Twilight

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "expected an IANA time zone name such as 'US/Hawaii' or 'Europe/Berlin'"
            ) from None
        return value


class ClockConfig(Strict):
    mode: Literal["real", "simulated"]
    start: datetime | None = None
    speed: Annotated[float, Field(ge=0, allow_inf_nan=False)]

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class StorageConfig(Strict):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means SQLite in the data directory",
    )


class InstrumentConfig(Strict):
    """The instrument the cameras form, and how every image is written."""

    name: str = Field(min_length=1, max_length=68)  # INSTRUME in image headers
    image_format: Literal["fits", "fits.fz"]  # fits.fz: Rice-compressed, lossless


class LoggingConfig(Strict):
    level: Literal["debug", "info", "warning", "error"]
    file_level: Literal["debug", "info", "warning", "error"]
    file: str | None = None
    max_bytes: Annotated[int, Field(ge=1024)]
    backups: Annotated[int, Field(ge=0)]


class ConfigServerConfig(Strict):
    host: str = Field(min_length=1)
    port: Annotated[int, Field(ge=0, le=65535)]
    save: bool
    token: str | None = None


class DeviceConfig(BaseModel):
    """One device: which driver runs it and where it is. Drivers add their own keys."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    driver: Literal["sim", "alpaca", "serial"] = "sim"
    model: str | None = None
    address: str | None = None
    device_number: Annotated[int, Field(ge=0)] = 0
    port: str | None = None


class SafetyConfig(Strict):
    """What the unit checks before every state change and while it works."""

    check_interval: Duration
    min_free_disk_mb: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    max_dome_offset: Angle
    max_wind_m_s: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    max_rain_rate_mm_h: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class MeridianConfig(Strict):
    """German-mount meridian handling."""

    flip: bool
    flip_after: Angle  # hour angle past the meridian at which to flip


class TwilightFlatsConfig(Strict):
    """Sky flats at dusk and dawn, exposure time adjusted frame by frame."""

    enabled: bool
    filters: list[str] | None = None  # None: the filters the fields use
    count: Annotated[int, Field(ge=1)]
    target_adu: Annotated[float, Field(gt=0)]
    tolerance: Annotated[float, Field(gt=0, lt=1)]
    min_exptime: Duration
    max_exptime: Duration
    altitude: Altitude  # where the mount points: opposite the Sun at this altitude


class DomeFlatsConfig(Strict):
    """Flats on the cover calibrator's panel, dome closed."""

    enabled: bool
    filters: list[str] | None = None
    count: Annotated[int, Field(ge=1)]
    brightness: Annotated[float, Field(gt=0, le=100)]  # percent of the panel's maximum
    target_adu: Annotated[float, Field(gt=0)]
    max_exptime: Duration


class CalibrationsConfig(Strict):
    bias: Annotated[int, Field(ge=0)]
    darks: Annotated[int, Field(ge=0)]  # per exposure time observed that night
    twilight_flats: TwilightFlatsConfig
    dome_flats: DomeFlatsConfig


PositiveInt = Annotated[int, Field(gt=0)]
Temperature = quantity_type("K", "a temperature difference", 0)


class PlateSolverConfig(Strict):
    """astrometry.net's ``solve-field`` (see nocturna.images.solve)."""

    program: str  # name on PATH or a path
    timeout: Duration  # the whole solve, killed after this
    cpu_limit: Duration  # solve-field's own --cpulimit
    downsample: Annotated[int, Field(ge=1, le=16)]
    search_radius: Angle  # around the mount's position
    scale_tolerance: Annotated[float, Field(gt=0, lt=1)]  # ± fraction of the plate scale
    config_file: str | None = None  # astrometry.cfg with the index files; None: system's


class PointingConfig(Strict):
    """Pointing correction after each slew: solve, sync, re-slew until within tolerance."""

    enabled: bool
    exposure: Duration
    binning: Annotated[int, Field(ge=1, le=8)]
    tolerance: Angle
    max_iterations: PositiveInt
    solve_time: Duration  # what a solve costs on virtual time
    solver: PlateSolverConfig

    @field_validator("tolerance")
    @classmethod
    def _positive_tolerance(cls, value: Any) -> Any:
        if not float(value.to_value("arcsec")) > 0:
            raise ValueError("expected a positive angle, e.g. '30 arcsec'")
        return value


class AutofocusConfig(Strict):
    """Autofocus sweeps, and when the night runs them (see nocturna.loops.autofocus)."""

    enabled: bool
    exposure: Duration
    coarse_range: PositiveInt  # focuser steps, whole sweep width
    coarse_step: PositiveInt
    fine_range: PositiveInt
    fine_step: PositiveInt
    cutout: Annotated[int, Field(ge=32)]  # central square, pixels
    dark_frame: bool  # a dark first: dark subtraction and hot-pixel masking
    metric: Literal["vollath_f4", "hfr", "fwhm"]
    plots: bool
    interval: Duration  # refocus after this long (0: only at the start of the night)
    temperature_change: Temperature  # refocus when the focuser temperature moved this much


class TrackingCorrectionConfig(Strict):
    """Guide corrections between the frames of an observation."""

    enabled: bool
    min_correction: Angle  # smaller offsets are ignored
    max_correction: Angle  # larger ones are clipped to this


class FaultRecoveryConfig(Strict):
    """Components in FAULT retry by themselves (see nocturna.components)."""

    enabled: bool
    first_retry: Duration  # first attempt this long after the fault
    max_retry: Duration  # the wait doubles after each failed attempt, up to this

    @field_validator("first_retry")
    @classmethod
    def _positive_first_retry(cls, value: Any) -> Any:
        if not float(value.to_value("s")) > 0:
            raise ValueError("expected a duration above 0, e.g. '30 s'")
        return value

    @field_validator("max_retry")
    @classmethod
    def _not_below_first_retry(cls, value: Any, info: ValidationInfo) -> Any:
        first = info.data.get("first_retry")  # absent if it was invalid itself
        if first is not None and float(value.to_value("s")) < float(first.to_value("s")):
            raise ValueError(f"expected at least first_retry ({first.to_value('s'):g} s), "
                             "e.g. '10 min'")
        return value


class ObservatoryConfig(Strict):
    """How the unit runs the night: state table, safety, calibrations, loops."""

    state_table: str | None = None  # None: the built-in nocturna/states/table.yaml
    safety: SafetyConfig
    meridian: MeridianConfig
    calibrations: CalibrationsConfig
    pointing: PointingConfig
    autofocus: AutofocusConfig
    tracking: TrackingCorrectionConfig
    heartbeat_interval: Duration
    fault_recovery: FaultRecoveryConfig
    status_interval: Duration  # telemetry of where the mount points


AngularSpeed = quantity_type("deg / s", "an angular speed", 0)


class SchedulerWeights(Strict):
    """Weights of the soft constraints in a field's merit (a weighted mean of 0–1 scores)."""

    altitude: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    moon: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    priority: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    visited: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class SchedulerConfig(Strict):
    """Fields, constraints and night planning (see nocturna.scheduler)."""

    fields_file: str | None = None  # None: the built-in demo fields
    time_step: Duration  # grid of the nightly tables
    min_moon_separation: Angle
    slew_rate: AngularSpeed
    settle_time: Duration  # after each slew
    overhead: Duration  # per frame: readout, filter moves, writing
    weights: SchedulerWeights

    @field_validator("time_step")
    @classmethod
    def _sensible_step(cls, value: Any) -> Any:
        if not 1.0 <= float(value.to_value("s")) <= 3600.0:
            raise ValueError("expected a grid step between 1 s and 1 h, e.g. '1 min'")
        return value

    @field_validator("min_moon_separation")
    @classmethod
    def _separation(cls, value: Any) -> Any:
        if not 0.0 <= float(value.to_value("deg")) <= 180.0:
            raise ValueError("expected an angle between 0 and 180 deg")
        return value

    @field_validator("slew_rate")
    @classmethod
    def _positive_rate(cls, value: Any) -> Any:
        if not float(value.to_value("deg / s")) > 0:
            raise ValueError("expected a slew rate above 0, e.g. '3 deg / s'")
        return value


class AzcamExposureConfig(Strict):
    """Where and how the azcam exposure tool writes its images."""

    folder: str | None = None  # None: data_dir/azcam
    root: str = Field(min_length=1)  # file name before the sequence number
    sequence_number: Annotated[int, Field(ge=0)]  # of the next image
    sequence_digits: Annotated[int, Field(ge=1, le=9)]
    auto_increment: bool
    filetype: Literal["FITS", "MEF", "BIN"]
    overwrite: bool
    display: bool  # write the latest image for a viewer (display folder)


class AzcamSendImageConfig(Strict):
    """The remote image server every new image is sent to (host null: none)."""

    host: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)]
    type: Literal["azcam", "dataserver"]
    filename: str = Field(min_length=1)  # remote name (without extension) by default


class AzcamTempconConfig(Strict):
    """Detector temperature control: a simulated cryostat or the camera's own cooler."""

    driver: Literal["sim", "camera"]
    set_point_c: Annotated[float, Field(ge=-273.15, le=100, allow_inf_nan=False)]


class AzcamLampConfig(Strict):
    """A comparison lamp: one channel of a switch device."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_+-]+$")
    switch: str = Field(min_length=1)
    channel: Annotated[int, Field(ge=0)]


class AzcamFocusConfig(Strict):
    """Defaults of the charge-shift focus frame (focus.set_pars changes them)."""

    exposure_time: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    number_exposures: Annotated[int, Field(ge=1)]
    focus_step: Annotated[float, Field(allow_inf_nan=False)]
    detector_shift: Annotated[int, Field(ge=0)]
    focus_component: Literal["instrument", "telescope"]


class AzcamConfig(Strict):
    """The azcam command server (``nocturna azcam serve``) and its tools."""

    host: str = Field(min_length=1)  # another address than loopback needs --allow-remote
    port: Annotated[int, Field(ge=0, le=65535)]
    default_tool: str | None = None  # a bare "method" goes to this tool
    camera: str | None = None  # None: the primary camera
    detector: dict[str, Any] | None = None  # None: the camera's own layout (see docs)
    exposure: AzcamExposureConfig
    sendimage: AzcamSendImageConfig
    tempcon: AzcamTempconConfig
    focus: AzcamFocusConfig
    lamps: list[AzcamLampConfig] = []
    imageserver_port: Annotated[int, Field(ge=0, le=65535)]  # nocturna imageserver serve


class NocturnaConfig(Strict):
    """The whole configuration tree."""

    name: str = Field(min_length=1)
    data_dir: str = Field(min_length=1)
    site: Site
    clock: ClockConfig
    storage: StorageConfig
    instrument: InstrumentConfig
    logging: LoggingConfig
    config_server: ConfigServerConfig
    observatory: ObservatoryConfig
    scheduler: SchedulerConfig
    azcam: AzcamConfig
    mount: DeviceConfig | None = None
    dome: DeviceConfig | None = None
    cameras: list[DeviceConfig] = []
    focusers: list[DeviceConfig] = []
    filterwheels: list[DeviceConfig] = []
    rotators: list[DeviceConfig] = []
    switches: list[DeviceConfig] = []
    weather: list[DeviceConfig] = []
    safety_monitors: list[DeviceConfig] = []
    cover_calibrators: list[DeviceConfig] = []
    spectrographs: list[DeviceConfig] = []


def validate_tree(tree: dict[str, Any]) -> NocturnaConfig:
    """Validate a merged plain tree (raises pydantic.ValidationError)."""
    return NocturnaConfig.model_validate(tree)
