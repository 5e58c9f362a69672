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

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nocturna.core.config.quantity import Altitude, Latitude, Length, Longitude


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


class NocturnaConfig(Strict):
    """The whole configuration tree."""

    name: str = Field(min_length=1)
    data_dir: str = Field(min_length=1)
    site: Site
    clock: ClockConfig
    storage: StorageConfig
    logging: LoggingConfig
    config_server: ConfigServerConfig
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
