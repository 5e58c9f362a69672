"""The Alpaca device members, per device type, as ``members.json`` lists them.

``members.json`` is generated from the ASCOM OpenAPI description by
``scripts/alpaca_members.py``: ``{kind or "common": {member: {"GET" | "PUT":
{"params": {Name: json type}, "required": [Name, ...], "response": schema}}}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

COMMON = "common"
KINDS = ("camera", "telescope", "dome", "focuser", "filterwheel", "rotator", "switch",
         "safetymonitor", "observingconditions", "covercalibrator")
"""Every ASCOM device type Alpaca serves, by its lower-case URL name."""

NO_VALUE_RESPONSES = frozenset({"MethodResponse"})
IMAGE_RESPONSES = frozenset({"ImageArrayResponse", "ImageArrayVariantResponse"})


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """One operation: a member of a device type with one HTTP method."""

    kind: str  # "common" or a device type
    member: str
    method: str
    params: dict[str, str]  # spec-cased name → "integer" | "number" | "boolean" | "string"
    required: tuple[str, ...]
    response: str

    @property
    def returns_value(self) -> bool:
        return self.response not in NO_VALUE_RESPONSES

    @property
    def is_image(self) -> bool:
        return self.response in IMAGE_RESPONSES


@cache
def table() -> dict[str, dict[str, dict[str, Any]]]:
    """The raw table (cached)."""
    text = resources.files("nocturna.alpaca").joinpath("members.json").read_text("utf-8")
    return json.loads(text)


def specs(kind: str) -> list[MemberSpec]:
    """Every operation of ``kind`` ("common" included for a device type)."""
    raw = table()
    sources = [COMMON, kind] if kind != COMMON else [COMMON]
    return [MemberSpec(source, member, method, dict(op["params"]), tuple(op["required"]),
                       op["response"])
            for source in sources
            for member, ops in raw[source].items()
            for method, op in ops.items()]
