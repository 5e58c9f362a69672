"""The server's own OpenAPI 3.1 description, built from the members table.

Served at ``GET /openapi.json``. It is built when the server starts from what that
server serves, so every enumeration in it answers: each device type's members are
listed under ``/api/v1/{type}/{device_number}/...`` with the device numbers that type
has, the members common to every type under ``/api/v1/{device_type}/...`` with the
served types and the numbers every one of them has, and the management API under
``/management/...``. Parameters and their JSON types come from ``members.json``; the
``Value`` each reply carries comes from :data:`VALUES`, keyed by the response name the
table gives (``scripts/alpaca_members.py`` checks both against ASCOM's description).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nocturna import __version__
from nocturna.alpaca.members import COMMON, MemberSpec, specs

PATH = "/openapi.json"

Schema = dict[str, Any]


def _integer(**extra: Any) -> Schema:
    return {"type": "integer", "format": "int32", **extra}


def _choice(count: int, *extra: int) -> Schema:
    """An int32 that is one of 0..count-1 (and ``extra``)."""
    return _integer(enum=sorted({*range(count), *extra}))


def _nested(items: Schema, depth: int) -> Schema:
    for _ in range(depth):
        items = {"type": "array", "items": items}
    return items


_NUMBER: Schema = {"type": "number", "format": "double"}
_UTC_DATE = r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$"
_FITS_DATE = r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$"
_DRIVE_RATE = _choice(4)  # sidereal, lunar, solar, King

VALUES: dict[str, Schema | None] = {
    "MethodResponse": None,  # no Value
    "BoolResponse": {"type": "boolean"},
    "DoubleResponse": dict(_NUMBER),
    "PercentDoubleResponse": {**_NUMBER, "minimum": 0, "maximum": 100},
    "IntResponse": _integer(),
    "IntMinimum1Response": _integer(minimum=1),
    "PercentIntResponse": _integer(minimum=0, maximum=100),
    "IntArrayResponse": {"type": "array", "items": _integer()},
    "StringResponse": {"type": "string"},
    "StringArrayResponse": {"type": "array", "items": {"type": "string"}},
    "CameraStateResponse": _choice(6),  # idle, waiting, exposing, reading, download, error
    "SensorTypeResponse": _choice(6),  # monochrome, colour, RGGB, CMYG, CMYG2, LRGB
    "ShutterStateResponse": _choice(5),  # open, closed, opening, closing, error
    "CalibratorStatusResponse": _choice(6),
    "CoverStatusResponse": _choice(6),
    "AlignmentModeResponse": _choice(3),  # alt-az, polar, German polar
    "EquatorialCoordinateTypeResponse": _choice(5),
    "PierSideResponse": _choice(2, -1),  # east, west, unknown (-1)
    "DriveRateResponse": _DRIVE_RATE,
    "DriveRatesResponse": {"type": "array", "minItems": 1, "items": _DRIVE_RATE},
    "RightAscensionResponse": {"type": "number", "minimum": 0.0, "maximum": 23.9999999999},
    "DeclinationResponse": {"type": "number", "minimum": -90.0, "maximum": 90.0},
    "TelescopeUTCDateResponse": {"type": "string", "format": "date-time",
                                 "pattern": _UTC_DATE},
    "LastExposureStartTimeResponse": {"type": "string", "format": "date-time-fits",
                                      "pattern": _FITS_DATE},
    "AxisRatesResponse": {"type": "array", "minItems": 0, "items": {
        "type": "object", "required": ["Maximum", "Minimum"],
        "properties": {"Maximum": {"type": "number"}, "Minimum": {"type": "number"}}}},
    "DeviceStateResponse": {"type": "array", "items": {
        "type": "object", "required": ["Name", "Value"],
        "properties": {"Name": {"type": "string"}, "Value": {"oneOf": [
            {"type": "string"}, {"type": "number"}, {"type": "boolean"},
            {"type": "string", "format": "date-time", "pattern": _UTC_DATE}]}}}},
    # images: [x][y] (rank 2) or [x][y][plane] (rank 3) in the JSON form
    "ImageArrayResponse": {"oneOf": [_nested(_integer(), 2), _nested(_integer(), 3)]},
    "ImageArrayVariantResponse": {"oneOf": [_nested({"type": "number"}, 2),
                                            _nested({"type": "number"}, 3)]},
}
"""The ``Value`` of each response the members table names (None: it has none)."""

IMAGE_EXTRA: dict[str, Schema] = {"Type": _integer(enum=[2, 3]), "Rank": _integer(enum=[2, 3])}
"""The JSON image replies' other keys (Int32 or Double elements, 2 or 3 dimensions)."""

PARAMETER_TYPES: dict[str, Schema] = {
    "integer": _integer(), "number": dict(_NUMBER), "boolean": {"type": "boolean"},
    "string": {"type": "string"},
}

_UINT32: Schema = {"type": "integer", "format": "uint32", "minimum": 0,
                   "maximum": 0xFFFF_FFFF}
_TRANSACTION = {"ClientID": _UINT32, "ClientTransactionID": _UINT32}

_ENVELOPE: Schema = {
    "type": "object", "required": ["ClientTransactionID", "ServerTransactionID",
                                   "ErrorNumber", "ErrorMessage"],
    "properties": {"ClientTransactionID": _UINT32,
                   "ServerTransactionID": {**_UINT32, "minimum": 1},
                   "ErrorNumber": {"type": "integer", "format": "int32", "oneOf": [
                       {"const": 0}, {"minimum": 0x400, "maximum": 0xFFF}]},
                   "ErrorMessage": {"type": "string"}}}

_MANAGEMENT: dict[str, tuple[str, Schema]] = {
    "/management/apiversions": ("The Alpaca API versions served", {
        "type": "array", "items": {"type": "integer", "minimum": 1}}),
    "/management/v1/description": ("The server: name, manufacturer, version, location", {
        "type": "object", "properties": {key: {"type": "string"} for key in (
            "ServerName", "Manufacturer", "ManufacturerVersion", "Location")}}),
    "/management/v1/configureddevices": ("Every device served", {
        "type": "array", "items": {"type": "object", "properties": {
            "DeviceName": {"type": "string"}, "DeviceType": {"type": "string"},
            "DeviceNumber": {"type": "integer", "minimum": 0},
            "UniqueID": {"type": "string"}}}}),
}


def response_schema(name: str) -> Schema:
    """The JSON body of a successful reply named ``name`` in the members table."""
    value = VALUES[name]
    extra: Schema = {}
    if value is not None:
        extra = {"Value": value, **(IMAGE_EXTRA if name.startswith("ImageArray") else {})}
    return {"allOf": [{"$ref": "#/components/schemas/AlpacaResponse"},
                      {"properties": extra}]}


def _reply(name: str, image: bool) -> Schema:
    content: Schema = {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
    if image:
        content["application/imagebytes"] = {"schema": {"type": "string",
                                                        "format": "binary"}}
    return {"description": name, "content": content}


_REJECTED: Schema = {"description": "The request could not be understood (the reason as text)",
                     "content": {"text/plain": {"schema": {"type": "string"}}}}


def _operation(spec: MemberSpec, path_params: list[Schema]) -> Schema:
    names = dict(spec.params)
    fields = {name: PARAMETER_TYPES[kind] for name, kind in names.items()}
    op: Schema = {"operationId": f"{spec.method.lower()}_{spec.kind}_{spec.member}",
                  "responses": {"200": _reply(spec.response, spec.is_image),
                                "400": _REJECTED}}
    if spec.method == "GET":
        op["parameters"] = path_params + [
            {"name": name, "in": "query", "required": name in spec.required,
             "schema": schema} for name, schema in {**fields, **_TRANSACTION}.items()]
    else:
        op["parameters"] = path_params
        body: Schema = {"type": "object", "properties": {**fields, **_TRANSACTION}}
        if spec.required:
            body["required"] = list(spec.required)
        op["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": body}}}
    return op


def _numbers(numbers: Iterable[int]) -> Schema:
    return {"name": "device_number", "in": "path", "required": True,
            "schema": {"type": "integer", "enum": sorted(numbers)}}


def _member_paths(kind: str, operations: list[MemberSpec],
                  path_params: list[Schema]) -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for spec in operations:
        path = f"/api/v1/{kind}/{{device_number}}/{spec.member}"
        paths.setdefault(path, {})[spec.method.lower()] = _operation(spec, path_params)
    return paths


def document(served: Mapping[str, Iterable[int]], *, title: str = "nocturna") -> Schema:
    """The OpenAPI 3.1 description of a server serving ``served`` (device type → device
    numbers; types with none are left out)."""
    numbers = {kind: set(found) for kind, found in served.items() if found}
    paths: dict[str, Schema] = {}
    used: set[str] = set()
    for kind in sorted(numbers):
        own = [spec for spec in specs(kind) if spec.kind != COMMON]
        used.update(spec.response for spec in own)
        paths.update(_member_paths(kind, own, [_numbers(numbers[kind])]))
    shared = set.intersection(*numbers.values()) if numbers else set()
    if shared:
        kinds = {"name": "device_type", "in": "path", "required": True,
                 "schema": {"type": "string", "enum": sorted(numbers)}}
        common = specs(COMMON)
        used.update(spec.response for spec in common)
        paths.update(_member_paths("{device_type}", common, [kinds, _numbers(shared)]))
    for path, (summary, value) in _MANAGEMENT.items():
        paths[path] = {"get": {"summary": summary, "operationId": path.strip("/").replace(
            "/", "_"), "parameters": [{"name": name, "in": "query", "required": False,
                                       "schema": schema}
                                      for name, schema in _TRANSACTION.items()],
            "responses": {"200": {"description": summary, "content": {"application/json": {
                "schema": {"allOf": [{"$ref": "#/components/schemas/AlpacaResponse"},
                                     {"properties": {"Value": value}}]}}}},
                "400": _REJECTED}}}
    schemas: Schema = {"AlpacaResponse": _ENVELOPE}
    schemas.update((name, response_schema(name)) for name in sorted(used))
    return {"openapi": "3.1.0",
            "info": {"title": f"{title}: ASCOM Alpaca device and management API",
                     "version": __version__},
            "paths": paths, "components": {"schemas": schemas}}
