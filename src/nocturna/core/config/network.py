"""The ``network:`` section: the MQTT broker a unit publishes its telemetry to.

``broker`` is ``mqtt://user:password@host:1883`` or ``mqtts://user:password@host:8883``
(TLS); null turns the network off. The section is local-only: the URL carries the
unit's broker password. ``unit_id`` names the unit under ``nocturna/<unit_id>/`` (null:
the unit's ``name``); only letters, digits, ``_`` and ``-`` may be used, since it is a
topic level.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from nocturna.core.config.quantity import Duration
from nocturna.core.config.ranges import within

UNIT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What a unit id may be: one MQTT topic level without wildcards or separators."""
SCHEMES = {"mqtt": 1883, "mqtts": 8883}
"""The broker URL schemes and their default ports."""


def check_unit_id(value: str) -> str:
    """``value`` if it can be a unit id, else ValueError saying what it may be."""
    if not UNIT_ID.match(value):
        raise ValueError(f"{value!r} cannot be a unit id: use 1 to 64 letters, digits, "
                         "'_' or '-' (it is a level of the MQTT topics)")
    return value


class NetworkConfig(BaseModel):
    """Publishing to an MQTT broker (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    broker: str | None = None  # None: no network
    unit_id: str | None = None  # None: the unit's name
    ca_file: str | None = None  # TLS: the CA that signed the broker's certificate
    cert_file: str | None = None  # TLS: the unit's client certificate (with key_file)
    key_file: str | None = None
    keepalive: Annotated[Duration, within(ge=5, le=3600)]
    status_interval: Annotated[Duration, within(ge=0, le=3600)]  # real seconds
    weather_interval: Annotated[Duration, within(gt=0, le=86400)]  # clock seconds
    flush_timeout: Annotated[Duration, within(ge=0, le=600)]  # real seconds

    @field_validator("broker")
    @classmethod
    def _broker_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            url = urlsplit(value)
            url.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ValueError(f"not a broker URL ({exc})") from None
        if url.scheme not in SCHEMES or not url.hostname:
            raise ValueError("expected mqtt://user:password@host:1883 or "
                             "mqtts://user:password@host:8883")
        if url.path not in ("", "/") or url.query or url.fragment:
            raise ValueError("a broker URL has no path, query or fragment")
        return value

    @field_validator("unit_id")
    @classmethod
    def _unit_id(cls, value: str | None) -> str | None:
        return None if value is None else check_unit_id(value)

    @field_validator("key_file")
    @classmethod
    def _key_with_certificate(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (info.data.get("cert_file") is None) != (value is None):
            raise ValueError("cert_file and key_file go together (a client certificate "
                             "and its private key): set both or neither")
        return value

    def effective_unit_id(self, name: str) -> str:
        """The unit id: ``unit_id``, or the unit's ``name`` (ValueError if it cannot be)."""
        return self.unit_id if self.unit_id is not None else check_unit_id(name)
