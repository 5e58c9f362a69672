"""From a parsed request to a tool method call: the declared allow-list and argument
conversion.

:class:`CommandTable` is built once from the tools (``{"exposure": ExposureTool, …}``).
Only methods marked :func:`nocturna.azcam.remote.remote` are in it; a request for
anything else (an attribute, a private method, ``exit``) is refused by name. Each
method's signature says how the request's text tokens convert: ``str`` as is, ``int``
(``"3"``, also ``"3.0"``), ``float``, ``bool`` (``1/0/true/false/yes/no/on/off``), an
optional of one (``None``/``none`` gives None). Missing, surplus, unknown keyword and
unconvertible arguments are refused naming the method and the argument.
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nocturna.azcam.protocol import Request, printable
from nocturna.azcam.remote import remote_methods
from nocturna.azcam.values import FALSE, TRUE
from nocturna.core.errors import InvalidValueError, NocturnaError


class UnknownCommandError(NocturnaError):
    """The request names no declared tool method."""


def _to_int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        value = float(text)
        if not math.isfinite(value) or value != int(value):
            raise ValueError(text) from None
        return int(value)


def _to_float(text: str) -> float:
    return float(text)


def _to_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise ValueError(text)


_CONVERTERS: dict[Any, tuple[Callable[[str], Any], str]] = {
    str: (str, "text"),
    int: (_to_int, "an integer"),
    float: (_to_float, "a number"),
    bool: (_to_bool, "a flag (1/0, true/false, yes/no, on/off)"),
    Any: (str, "text"),
    inspect.Parameter.empty: (str, "text"),
}


@dataclass(frozen=True)
class Argument:
    """One parameter of a remote method and how its token converts."""

    name: str
    convert: Callable[[str], Any]
    expected: str
    optional_none: bool  # "None" gives None
    required: bool
    variadic: bool = False
    keyword_only: bool = False  # only as key=value

    def value(self, command: str, text: str) -> Any:
        if self.optional_none and text.strip().lower() == "none":
            return None
        try:
            return self.convert(text)
        except (ValueError, OverflowError):
            raise InvalidValueError(f"{command}: {self.name} must be {self.expected}, "
                                    f"got {printable(text)!r}") from None


@dataclass(frozen=True)
class Method:
    """A remote method with its converted signature."""

    name: str  # tool.method
    call: Callable[..., Any]
    arguments: tuple[Argument, ...]
    doc: str

    def bind(self, args: tuple[str, ...], kwargs: dict[str, str]) -> tuple[list[Any],
                                                                         dict[str, Any]]:
        """Converted positional and keyword arguments for :attr:`call`."""
        fixed = [a for a in self.arguments if not a.variadic and not a.keyword_only]
        variadic = next((a for a in self.arguments if a.variadic), None)
        if len(args) > len(fixed) and variadic is None:
            names = ", ".join(a.name for a in fixed) or "none"
            raise InvalidValueError(f"{self.name} takes at most {len(fixed)} argument(s) "
                                    f"({names}), got {len(args)}")
        values: list[Any] = []
        given: set[str] = set()
        for position, text in enumerate(args):
            argument = fixed[position] if position < len(fixed) else variadic
            assert argument is not None
            values.append(argument.value(self.name, text))
            given.add(argument.name)
        by_name = {a.name: a for a in self.arguments if not a.variadic}
        keywords: dict[str, Any] = {}
        for key, text in kwargs.items():
            argument = by_name.get(key)
            if argument is None:
                names = ", ".join(by_name) or "none"
                raise InvalidValueError(f"{self.name}: unknown keyword {key!r} "
                                        f"(accepted: {names})")
            if key in given:
                raise InvalidValueError(f"{self.name}: {key} given twice")
            keywords[key] = argument.value(self.name, text)
            given.add(key)
        missing = [a.name for a in by_name.values() if a.required and a.name not in given]
        if missing:
            raise InvalidValueError(f"{self.name}: missing argument(s) {', '.join(missing)}")
        return values, keywords

    def usage(self) -> str:
        parts = []
        for a in self.arguments:
            label = f"{a.name}..." if a.variadic else \
                f"{a.name}=" if a.keyword_only else a.name
            parts.append(label if a.required else f"[{label}]")
        return " ".join([self.name, *parts])


def _argument(parameter: inspect.Parameter, hint: Any, owner: str) -> Argument:
    optional_none = False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        optional_none = len(members) < len(typing.get_args(hint))
        if len(members) != 1:
            raise TypeError(f"{owner}: parameter {parameter.name} has an unsupported type "
                            f"{hint!r} for a remote method")
        hint = members[0]
    if hint not in _CONVERTERS:
        raise TypeError(f"{owner}: parameter {parameter.name} has an unsupported type "
                        f"{hint!r} for a remote method")
    convert, expected = _CONVERTERS[hint]
    return Argument(parameter.name, convert, expected, optional_none,
                    parameter.default is inspect.Parameter.empty
                    and parameter.kind is not inspect.Parameter.VAR_POSITIONAL,
                    parameter.kind is inspect.Parameter.VAR_POSITIONAL,
                    parameter.kind is inspect.Parameter.KEYWORD_ONLY)


def describe(name: str, call: Callable[..., Any]) -> Method:
    """The :class:`Method` of a bound remote method (its type hints decide conversion)."""
    function = getattr(call, "__func__", call)
    hints = typing.get_type_hints(function)
    arguments = []
    for parameter in inspect.signature(call).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            raise TypeError(f"{name}: **{parameter.name} is not allowed in a remote method")
        arguments.append(_argument(parameter, hints.get(parameter.name,
                                                        inspect.Parameter.empty), name))
    doc = inspect.getdoc(call) or ""
    return Method(name, call, tuple(arguments), doc.splitlines()[0] if doc else "")


@dataclass(frozen=True, slots=True)
class Call:
    """A request bound to its method: converted arguments, ready to call (any number of
    times: the values are immutable)."""

    method: Method
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __call__(self) -> Any:
        """The method's result (an awaitable for a coroutine method)."""
        return self.method.call(*self.args, **self.kwargs)


class CommandTable:
    """The tools' declared remote methods, looked up by request. Fixed once built, so a
    request line always binds to the same :class:`Call` (the server caches them)."""

    def __init__(self, tools: dict[str, object], default_tool: str | None = None) -> None:
        if default_tool is not None and default_tool not in tools:
            raise InvalidValueError(f"default tool {default_tool!r} is not one of "
                                    f"{', '.join(sorted(tools))}")
        self.default_tool = default_tool
        self.tools = dict(tools)
        self.methods: dict[str, dict[str, Method]] = {
            tool_name: {name: describe(f"{tool_name}.{name}", call)
                        for name, call in remote_methods(tool).items()}
            for tool_name, tool in tools.items()
        }

    def lookup(self, request: Request) -> Method:
        """The method a request names, or :class:`UnknownCommandError` saying why not."""
        tool = request.tool if request.tool is not None else self.default_tool
        if tool is None:
            raise UnknownCommandError(f"{request.method!r} is not a command and there is no "
                                      "default tool; use tool.method")
        methods = self.methods.get(tool)
        if methods is None:
            raise UnknownCommandError(f"unknown tool {tool!r} (tools: "
                                      f"{', '.join(sorted(self.methods))})")
        method = methods.get(request.method)
        if method is None:
            raise UnknownCommandError(f"{tool} has no remote method {request.method!r}")
        return method

    def bind(self, request: Request) -> Call:
        """The request's method with its arguments converted (errors name what is wrong)."""
        method = self.lookup(request)
        args, kwargs = method.bind(request.args, request.kwargs)
        return Call(method, tuple(args), kwargs)

    async def execute(self, request: Request) -> Any:
        """Convert the arguments, call the method (awaiting a coroutine), return its value."""
        result = self.bind(request)()
        if inspect.isawaitable(result):
            result = await result
        return result

    def help(self) -> list[str]:
        """Every command's usage, sorted."""
        return sorted(m.usage() for methods in self.methods.values()
                      for m in methods.values())
