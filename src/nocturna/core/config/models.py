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

from nocturna.core.config.local_only import LocalOnly
from nocturna.core.config.network import NetworkConfig
from nocturna.core.config.notifications import NotificationsConfig
from nocturna.core.config.quantity import (
    Altitude,
    Angle,
    Duration,
    Latitude,
    Length,
    Longitude,
    quantity_type,
)
from nocturna.core.config.ranges import repeated, within

# Allowed ranges shared by several keys.
Interval = Annotated[Duration, within(gt=0, le=3600)]  # a periodic check: above 0, up to 1 h
Exposure = Annotated[Duration, within(gt=0, le=3600)]
Port = Annotated[int, within(ge=1, le=65535)]
Frames = Annotated[int, within(ge=0, le=1000)]  # frames of one kind in one sequence
Adu = Annotated[float, within(gt=0, le=1e6)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


HorizonPoint = Annotated[
    list[Annotated[float, Field(ge=-90, le=360)]],
    Field(min_length=2, max_length=2, description="[altitude, azimuth] in degrees"),
]


class Horizon(Strict):
    """The local horizon: a default altitude and obstruction polygons."""

    default: Annotated[Altitude, within(ge=0, le=90)]
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

    flat: Annotated[Altitude, within(ge=-30, le=10)]
    focus: Annotated[Altitude, within(ge=-30, le=10)]
    observe: Annotated[Altitude, within(ge=-30, le=10)]


class Site(Strict):
    name: str = Field(min_length=1)
    telescope: str = Field(min_length=1, max_length=68)  # TELESCOP in image headers
    latitude: Latitude
    longitude: Longitude
    elevation: Annotated[Length, within(ge=-500, le=9000)]
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
    speed: Annotated[float, within(ge=0, le=1e6)]  # 0: time stands still

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class StorageConfig(Strict):
    url: Annotated[str | None, LocalOnly("where the database is, with its credentials")] = Field(
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
    file: Annotated[str | None, LocalOnly("which file the log is written to")] = None
    max_bytes: Annotated[int, within(ge=1024, le=2**40)]
    backups: Annotated[int, within(ge=0, le=1000)]


class ConfigServerConfig(Strict):
    host: str = Field(min_length=1)
    port: Port
    save: bool
    token: str | None = None


class DeviceConfig(BaseModel):
    """One device: which driver runs it and where it is. Drivers add their own keys."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    driver: Literal["sim", "alpaca", "indi", "ioptron", "astrohaven", "weather_board",
                    "power_board", "gphoto2"] = "sim"
    model: str | None = None
    address: str | None = None
    device_number: Annotated[int, within(ge=0, le=1000)] = 0
    port: str | None = None


class SafetyConfig(Strict):
    """What the unit checks before every state change and while it works."""

    check_interval: Interval
    min_free_disk_mb: Annotated[float, within(ge=0, le=1e8)]
    max_dome_offset: Annotated[Angle, within(ge=0, le=180)]
    max_wind_m_s: Annotated[float, within(gt=0, le=100)]
    max_rain_rate_mm_h: Annotated[float, within(ge=0, le=1000)]


class MeridianConfig(Strict):
    """German-mount meridian handling."""

    flip: bool
    # hour angle past the meridian at which to flip
    flip_after: Annotated[Angle, within(ge=0, le=45)]


class TwilightFlatsConfig(Strict):
    """Sky flats at dusk and dawn, exposure time adjusted frame by frame."""

    enabled: bool
    filters: list[str] | None = None  # None: the filters the fields use
    count: Annotated[int, within(ge=1, le=100)]
    target_adu: Adu
    tolerance: Annotated[float, within(gt=0, lt=1)]
    min_exptime: Exposure
    max_exptime: Exposure
    # where the mount points: opposite the Sun at this altitude
    altitude: Annotated[Altitude, within(ge=0, le=90)]


class DomeFlatsConfig(Strict):
    """Flats on the cover calibrator's panel, dome closed."""

    enabled: bool
    filters: list[str] | None = None
    count: Annotated[int, within(ge=1, le=100)]
    brightness: Annotated[float, within(gt=0, le=100)]  # percent of the panel's maximum
    target_adu: Adu
    max_exptime: Exposure


class CalibrationsConfig(Strict):
    bias: Frames
    darks: Frames  # per exposure time observed that night
    twilight_flats: TwilightFlatsConfig
    dome_flats: DomeFlatsConfig


Steps = Annotated[int, within(ge=1, le=1_000_000)]  # focuser steps
Temperature = quantity_type("K", "a temperature difference", 0)


class PlateSolverConfig(Strict):
    """astrometry.net's ``solve-field`` (see nocturna.images.solve)."""

    program: Annotated[str, LocalOnly("which program nocturna runs")]  # on PATH or a path
    timeout: Annotated[Duration, within(gt=0, le=3600)]  # the whole solve, killed after this
    cpu_limit: Annotated[Duration, within(gt=0, le=3600)]  # solve-field's own --cpulimit
    downsample: Annotated[int, within(ge=1, le=16)]
    search_radius: Annotated[Angle, within(gt=0, le=180)]  # around the mount's position
    scale_tolerance: Annotated[float, within(gt=0, lt=1)]  # ± fraction of the plate scale
    config_file: Annotated[str | None, LocalOnly(  # astrometry.cfg with the index files
        "which configuration and index files the plate solver reads")] = None  # None: system's


class PointingConfig(Strict):
    """Pointing correction after each slew: solve, sync, re-slew until within tolerance."""

    enabled: bool
    exposure: Exposure
    binning: Annotated[int, within(ge=1, le=8)]
    tolerance: Annotated[Angle, within(gt=0, le=3600, unit="arcsec")]
    max_iterations: Annotated[int, within(ge=1, le=20)]
    solve_time: Annotated[Duration, within(ge=0, le=3600)]  # what a solve costs on virtual time
    solver: PlateSolverConfig


class AutofocusConfig(Strict):
    """Autofocus sweeps, and when the night runs them (see nocturna.loops.autofocus)."""

    enabled: bool
    exposure: Exposure
    coarse_range: Steps  # focuser steps, whole sweep width
    coarse_step: Steps
    fine_range: Steps
    fine_step: Steps
    cutout: Annotated[int, within(ge=32, le=16384)]  # central square, pixels
    dark_frame: bool  # a dark first: dark subtraction and hot-pixel masking
    metric: Literal["vollath_f4", "hfr", "fwhm"]
    plots: bool
    # refocus after this long (0: only at the start of the night)
    interval: Annotated[Duration, within(ge=0, le=86400)]
    # refocus when the focuser temperature moved this much
    temperature_change: Annotated[Temperature, within(ge=0, le=50)]


class TrackingCorrectionConfig(Strict):
    """Guide corrections between the frames of an observation."""

    enabled: bool
    min_correction: Annotated[Angle, within(ge=0, le=3600, unit="arcsec")]  # smaller: ignored
    # larger ones are clipped to this
    max_correction: Annotated[Angle, within(gt=0, le=3600, unit="arcsec")]


class FaultRecoveryConfig(Strict):
    """Components in FAULT retry by themselves (see nocturna.components)."""

    enabled: bool
    first_retry: Annotated[Duration, within(gt=0, le=86400)]  # first attempt after the fault
    max_retry: Annotated[Duration, within(gt=0, le=86400)]  # the wait doubles up to this

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

    state_table: Annotated[str | None, LocalOnly("which state table drives the unit")] = None
    # None: the built-in nocturna/states/table.yaml
    safety: SafetyConfig
    meridian: MeridianConfig
    calibrations: CalibrationsConfig
    pointing: PointingConfig
    autofocus: AutofocusConfig
    tracking: TrackingCorrectionConfig
    heartbeat_interval: Interval
    fault_recovery: FaultRecoveryConfig
    status_interval: Interval  # telemetry of where the mount points


AngularSpeed = quantity_type("deg / s", "an angular speed", 0)
Weight = Annotated[float, within(ge=0, le=1000)]


class SchedulerWeights(Strict):
    """Weights of the soft constraints in a field's merit (a weighted mean of 0–1 scores)."""

    altitude: Weight
    moon: Weight
    priority: Weight
    visited: Weight


class SchedulerConfig(Strict):
    """Fields, constraints and night planning (see nocturna.scheduler)."""

    fields_file: str | None = None  # None: the built-in demo fields
    time_step: Annotated[Duration, within(ge=1, le=3600)]  # grid of the nightly tables
    min_moon_separation: Annotated[Angle, within(ge=0, le=180)]
    slew_rate: Annotated[AngularSpeed, within(gt=0, le=100)]
    settle_time: Annotated[Duration, within(ge=0, le=3600)]  # after each slew
    overhead: Annotated[Duration, within(ge=0, le=3600)]  # per frame besides a simulated
    # camera's readout
    weights: SchedulerWeights


class AzcamExposureConfig(Strict):
    """Where and how the azcam exposure tool writes its images."""

    folder: Annotated[str | None, LocalOnly("where images are written")] = None
    # None: data_dir/azcam
    root: str = Field(min_length=1)  # file name before the sequence number
    sequence_number: Annotated[int, within(ge=0, le=999_999_999)]  # of the next image
    sequence_digits: Annotated[int, within(ge=1, le=9)]
    auto_increment: bool
    filetype: Literal["FITS", "MEF", "BIN"]
    overwrite: bool
    display: bool  # write the latest image for a viewer (display folder)


class AzcamSendImageConfig(Strict):
    """The remote image server every new image is sent to (host null: none)."""

    host: Annotated[str | None, LocalOnly("where every new image is sent")] = None
    port: Port
    type: Literal["azcam", "dataserver"]
    filename: str = Field(min_length=1)  # remote name (without extension) by default


class AzcamTempconConfig(Strict):
    """Detector temperature control: a simulated cryostat or the camera's own cooler."""

    driver: Literal["sim", "camera"]
    set_point_c: Annotated[float, within(ge=-200, le=50)]


class AzcamLampConfig(Strict):
    """A comparison lamp: one channel of a switch device."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_+-]+$")
    switch: str = Field(min_length=1)
    channel: Annotated[int, within(ge=0, le=1000)]


class AzcamFocusConfig(Strict):
    """Defaults of the charge-shift focus frame (focus.set_pars changes them)."""

    exposure_time: Annotated[float, within(ge=0, le=3600)]
    number_exposures: Annotated[int, within(ge=1, le=100)]
    focus_step: Annotated[float, within(ge=-100_000, le=100_000)]
    detector_shift: Annotated[int, within(ge=0, le=10_000)]
    focus_component: Literal["instrument", "telescope"]


class AzcamConfig(Strict):
    """The azcam command server (``nocturna azcam serve``) and its tools."""

    host: Annotated[str, LocalOnly("who can reach the azcam command server")] = Field(
        min_length=1)  # another address than loopback needs --allow-remote
    port: Port
    default_tool: str | None = None  # a bare "method" goes to this tool
    camera: str | None = None  # None: the primary camera
    detector: dict[str, Any] | None = None  # None: the camera's own layout (see docs)
    exposure: AzcamExposureConfig
    sendimage: AzcamSendImageConfig
    tempcon: AzcamTempconConfig
    focus: AzcamFocusConfig
    lamps: list[AzcamLampConfig] = []
    imageserver_port: Port  # nocturna imageserver serve


class ApiToken(Strict):
    """One bearer token of the unit's API: its name (recorded with every command it
    sends), its role and the SHA-256 of the token (the token itself is never stored)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Literal["viewer", "operator"]
    hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")


class ApiConfig(Strict):
    """The unit's HTTP API and dashboard, served while ``nocturna run`` runs."""

    enabled: bool
    host: str = Field(min_length=1)  # another address than loopback requires tokens
    port: Annotated[int, within(ge=0, le=65535)]  # 0: a free port, printed at start
    open_viewer: bool  # viewer role without a token (loopback only)
    cors_origins: list[str] = []  # [] : no CORS headers
    tokens: list[ApiToken] = []

    @field_validator("tokens")
    @classmethod
    def _unique_names(cls, value: list[ApiToken]) -> list[ApiToken]:
        twice = repeated(token.name for token in value)
        if twice:
            raise ValueError(f"token names must be unique: {', '.join(twice)} appears twice")
        return value


class NocturnaConfig(Strict):
    """The whole configuration tree."""

    name: str = Field(min_length=1)
    data_dir: Annotated[str, LocalOnly("where images, the database and logs are written")] = (
        Field(min_length=1))
    site: Site
    clock: ClockConfig
    storage: StorageConfig
    instrument: InstrumentConfig
    logging: LoggingConfig
    config_server: Annotated[ConfigServerConfig, LocalOnly(
        "who can reach and change the configuration service")]
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
    notifications: NotificationsConfig
    api: Annotated[ApiConfig, LocalOnly("who can reach and command the running unit")]
    network: Annotated[NetworkConfig, LocalOnly(
        "which MQTT broker the unit publishes to, with its password")]


def validate_tree(tree: dict[str, Any]) -> NocturnaConfig:
    """Validate a merged plain tree (raises pydantic.ValidationError)."""
    return NocturnaConfig.model_validate(tree)
