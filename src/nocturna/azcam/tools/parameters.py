"""The ``parameters`` tool: ``get_par`` / ``set_par`` by name.

Server parameters (``imagefilename``, ``exposuretime``, ``camtemp``, ``version`` …) are
declared with a getter and, when writable, a setter on the tools that own the value.
Any other name given to ``set_par`` becomes a user parameter kept in its sub-dictionary
(default ``azcamserver``) for this server's lifetime, as azcam keeps script values;
``get_par`` of a name that is neither is an error listing the known names.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nocturna.azcam.remote import remote
from nocturna.core.errors import InvalidOperationError, InvalidValueError

DEFAULT_SUBDICT = "azcamserver"


@dataclass(frozen=True)
class Parameter:
    """A server parameter: how to read it and, if writable, how to set it from text."""

    name: str
    get: Callable[[], Any | Awaitable[Any]]
    set: Callable[[str], Any | Awaitable[Any]] | None = None
    doc: str = ""


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class ParametersTool:
    """``get_par`` / ``set_par`` over declared server parameters and user parameters."""

    name = "parameters"

    def __init__(self, parameters: Iterable[Parameter] = ()) -> None:
        self.parameters: dict[str, Parameter] = {}
        for parameter in parameters:
            self.add(parameter)
        self.user: dict[str, dict[str, str]] = {DEFAULT_SUBDICT: {}}

    def add(self, parameter: Parameter) -> None:
        key = parameter.name.lower()
        if key in self.parameters:
            raise InvalidValueError(f"parameter {parameter.name!r} is declared twice")
        self.parameters[key] = parameter

    @remote
    def get_par(self, parameter: str, subdict: str | None = None) -> Any:
        """The value of a server or user parameter (an awaitable of it when its getter
        must wait: the command server awaits it, a value at hand is answered at once)."""
        key = parameter.strip().lower()
        declared = self.parameters.get(key)
        if declared is not None and subdict in (None, DEFAULT_SUBDICT):
            return declared.get()
        values = self.user.get(subdict or DEFAULT_SUBDICT, {})
        if key in values:
            return values[key]
        known = ", ".join(sorted(self.parameters))
        raise InvalidValueError(f"unknown parameter {parameter!r}"
                                + (f" in {subdict!r}" if subdict else "")
                                + f" (server parameters: {known}; others must be set with "
                                "set_par first)")

    @remote
    async def set_par(self, parameter: str, value: str = "None",
                      subdict: str | None = None) -> None:
        """Set a server parameter (converted and checked by its owner) or a user one."""
        key = parameter.strip().lower()
        if not key:
            raise InvalidValueError("set_par needs a parameter name")
        declared = self.parameters.get(key)
        if declared is not None and subdict in (None, DEFAULT_SUBDICT):
            if declared.set is None:
                raise InvalidOperationError(f"parameter {key!r} is read-only")
            await _resolve(declared.set(value))
            return
        self.user.setdefault(subdict or DEFAULT_SUBDICT, {})[key] = value

    @remote
    async def get_pars(self) -> dict[str, Any]:
        """Every server parameter's current value, and the user parameters."""
        values: dict[str, Any] = {}
        for key, declared in sorted(self.parameters.items()):
            try:
                values[key] = await _resolve(declared.get())
            except Exception as exc:  # one unreadable value must not hide the others
                values[key] = f"unavailable: {exc}"
        values["user"] = {name: dict(d) for name, d in self.user.items() if d}
        return values
