"""INDI properties: vectors of Number, Switch, Text, Light and BLOB elements.

A server defines a property (``def*Vector``), updates it (``set*Vector``) and may delete
it (``delProperty``). :class:`PropertyStore` applies those messages and keeps, per
device, the properties as they are now. Values are Python values: numbers are floats
(sexagesimal text such as ``"12:30:00"`` is read too), switches are bools, lights are
state names, BLOBs are bytes-like views.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from nocturna.devices.indi.wire import IndiProtocolError, Message

KINDS = ("Number", "Switch", "Text", "Light", "BLOB")
STATES = ("Idle", "Ok", "Busy", "Alert")

_SEXAGESIMAL = re.compile(r"^\s*([-+]?)\s*(\d+(?:\.\d*)?)(?:[:; ](\d+(?:\.\d*)?))?"
                          r"(?:[:; ](\d+(?:\.\d*)?))?\s*$")


def parse_number(text: str) -> float:
    """An INDI number: decimal, or sexagesimal ``D:M:S`` / ``D:M`` (``:``, ``;`` or space)."""
    try:
        return float(text)
    except ValueError:
        pass
    found = _SEXAGESIMAL.match(text)
    if found is None:
        raise IndiProtocolError(f"{text!r} is not an INDI number")
    sign, whole, minutes, seconds = found.groups()
    value = float(whole) + float(minutes or 0) / 60 + float(seconds or 0) / 3600
    return -value if sign == "-" else value


def format_number(value: float) -> str:
    """A number as sent to a server (enough digits to round-trip)."""
    if not math.isfinite(value):
        raise IndiProtocolError(f"INDI numbers are finite, got {value!r}")
    return repr(float(value))


@dataclass(slots=True)
class Element:
    """One element of a vector."""

    name: str
    label: str
    value: Any
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    format: str = ""
    size: int = 0


@dataclass(slots=True)
class Vector:
    """One property of a device as the server last described it."""

    device: str
    name: str
    kind: str
    label: str = ""
    group: str = ""
    state: str = "Idle"
    perm: str = "ro"
    rule: str = ""
    timeout: float = 0.0
    timestamp: str = ""
    message: str = ""
    elements: dict[str, Element] = field(default_factory=dict)
    updates: int = 0
    """How many ``set`` messages have changed it since it was first defined (a repeated
    ``def`` leaves the count as it is)."""

    def __getitem__(self, element: str) -> Any:
        try:
            return self.elements[element].value
        except KeyError:
            raise IndiProtocolError(
                f"{self.device!r} property {self.name} has no element {element!r} "
                f"(it has {', '.join(self.elements) or 'none'})") from None

    def values(self) -> dict[str, Any]:
        return {name: element.value for name, element in self.elements.items()}

    def on(self) -> list[str]:
        """The switches that are On (Switch vectors)."""
        return [name for name, element in self.elements.items() if element.value is True]


def _value(kind: str, text: str, member: Any) -> Any:
    if kind == "Number":
        return parse_number(text)
    if kind == "Switch":
        if text not in ("On", "Off"):
            raise IndiProtocolError(f"a switch is On or Off, got {text!r}")
        return text == "On"
    if kind == "Light":
        if text not in STATES:
            raise IndiProtocolError(f"a light is one of {', '.join(STATES)}, got {text!r}")
        return text
    if kind == "BLOB":
        return member.blob if member.blob is not None else b""
    return text


def _float(attrs: dict[str, str], key: str) -> float | None:
    text = attrs.get(key)
    if text is None or text.strip() == "":
        return None
    return parse_number(text)


def _size(vector: Vector, text: str) -> int:
    """A BLOB's ``size`` attribute (bytes; 0 when absent)."""
    try:
        return int(text or 0)
    except ValueError:
        raise IndiProtocolError(f"{vector.device!r} {vector.name}: BLOB size {text!r} is not "
                                "a whole number") from None


def _kind(tag: str, prefix: str) -> str | None:
    if tag.startswith(prefix) and tag.endswith("Vector"):
        kind = tag[len(prefix):-len("Vector")]
        if kind in KINDS:
            return kind
    return None


class PropertyStore:
    """Every device's properties on one server connection, kept up to date."""

    def __init__(self) -> None:
        self.devices: dict[str, dict[str, Vector]] = {}

    def get(self, device: str, name: str) -> Vector | None:
        return self.devices.get(device, {}).get(name)

    def clear(self) -> None:
        self.devices.clear()

    def apply(self, message: Message) -> Vector | None:
        """Apply a def/set/del message; the vector it defined or changed (None for others).

        A ``set`` for a property never defined is ignored (INDI allows a client to miss
        definitions); a malformed value raises :class:`IndiProtocolError`.
        """
        tag = message.tag
        if tag == "delProperty":
            if message.name:
                self.devices.get(message.device, {}).pop(message.name, None)
            else:
                self.devices.pop(message.device, None)
            return None
        kind = _kind(tag, "def")
        if kind is not None:
            return self._define(kind, message)
        kind = _kind(tag, "set")
        if kind is not None:
            return self._update(kind, message)
        return None

    def _define(self, kind: str, message: Message) -> Vector:
        attrs = message.attrs
        if not message.device or not message.name:
            raise IndiProtocolError(f"{message.tag} without a device or a name")
        vector = Vector(message.device, message.name, kind, label=attrs.get("label", ""),
                        group=attrs.get("group", ""), perm=attrs.get("perm", "ro"),
                        rule=attrs.get("rule", ""))
        self._common(vector, attrs)
        for member in message.members:
            name = member.attrs.get("name", "")
            if not name:
                continue
            text = "" if kind == "BLOB" else member.text
            value = b"" if kind == "BLOB" else _value(kind, text, member)
            vector.elements[name] = Element(
                name, member.attrs.get("label", name), value,
                minimum=_float(member.attrs, "min"), maximum=_float(member.attrs, "max"),
                step=_float(member.attrs, "step"), format=member.attrs.get("format", ""))
        known = self.devices.setdefault(message.device, {})
        before = known.get(message.name)
        if before is not None:  # defined again (the server does so for every client's
            vector.updates = before.updates  # getProperties): the count neither restarts
            # nor moves on (a def is not the answer to a command: it may come before it)
        known[message.name] = vector
        return vector

    def _update(self, kind: str, message: Message) -> Vector | None:
        vector = self.get(message.device, message.name)
        if vector is None or vector.kind != kind:
            return None
        self._common(vector, message.attrs)
        vector.updates += 1
        for member in message.members:
            element = vector.elements.get(member.attrs.get("name", ""))
            if element is None:
                continue
            element.value = _value(kind, member.text, member)
            if kind == "BLOB":
                element.format = member.attrs.get("format", "")
                element.size = _size(vector, member.attrs.get("size", ""))
            elif kind == "Number":
                for key in ("min", "max", "step"):
                    if key in member.attrs:
                        setattr(element, {"min": "minimum", "max": "maximum"}.get(key, key),
                                _float(member.attrs, key))
        return vector

    @staticmethod
    def _common(vector: Vector, attrs: dict[str, str]) -> None:
        state = attrs.get("state")
        if state is not None:
            if state not in STATES:
                raise IndiProtocolError(f"{vector.device!r} {vector.name}: state {state!r} "
                                        f"is not one of {', '.join(STATES)}")
            vector.state = state
        if "timeout" in attrs:
            vector.timeout = _float(attrs, "timeout") or 0.0
        vector.timestamp = attrs.get("timestamp", vector.timestamp)
        vector.message = attrs.get("message", "")
