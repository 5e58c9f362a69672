"""Driver options of the simulators, read from a device's configuration entry.

A :class:`~nocturna.core.config.models.DeviceConfig` accepts extra, driver-specific
keys; for a simulator these are the keyword arguments of its constructor, written
as plain numbers in the documented unit (the unit is in the name: ``slew_rate_deg_s``)
or as quantities (``"4 deg/s"``). Unknown keys and bad values raise one
:class:`~nocturna.core.errors.ConfigError` that names every ``<device>.<key>`` at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nocturna.core.errors import ConfigError
from nocturna.core.units import is_quantity, parse_value

Converter = Callable[[Any], Any]

COMMON: dict[str, Converter] = {}  # filled below: options every simulator accepts


def number(unit: str | None = None, *, ge: float | None = None,
           le: float | None = None) -> Converter:
    """A float in ``unit`` (a plain number, or a quantity convertible to ``unit``)."""

    def convert(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("expected a number")
        parsed = parse_value(value)
        if is_quantity(parsed):
            if unit is None:
                raise ValueError("expected a plain number")
            import astropy.units as u

            try:
                parsed = parsed.to_value(u.Unit(unit))
            except u.UnitConversionError:
                raise ValueError(f"{parsed.unit} is not convertible to {unit}") from None
        if not isinstance(parsed, int | float):
            raise ValueError(f"expected a number{f' in {unit}' if unit else ''}")
        result = float(parsed)
        if (ge is not None and result < ge) or (le is not None and result > le):
            raise ValueError(f"expected a value in [{ge if ge is not None else '-inf'}, "
                             f"{le if le is not None else 'inf'}]")
        return result

    return convert


def integer(*, ge: int | None = None, le: int | None = None) -> Converter:
    """An int (a float with no fractional part is accepted)."""

    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("expected an integer")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("expected an integer")
        result = int(value)
        if (ge is not None and result < ge) or (le is not None and result > le):
            raise ValueError(f"expected an integer in [{ge if ge is not None else '-inf'}, "
                             f"{le if le is not None else 'inf'}]")
        return result

    return convert


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return value


def optional(convert: Converter) -> Converter:
    """``convert``, or None for a null value."""
    return lambda value: None if value is None else convert(value)


def list_of(convert: Converter, *, min_length: int = 0) -> Converter:
    def convert_list(value: Any) -> list[Any]:
        if not isinstance(value, list | tuple) or len(value) < min_length:
            raise ValueError(f"expected a list of at least {min_length} item(s)")
        return [convert(item) for item in value]

    return convert_list


def anything(value: Any) -> Any:
    return value


COMMON.update(description=text, timeout_s=number("s", ge=1e-3))


def driver_options(cfg: Any, spec: Mapping[str, Converter]) -> dict[str, Any]:
    """The extra keys of ``cfg`` converted by ``spec`` (plus :data:`COMMON`).

    ``cfg`` is a :class:`~nocturna.core.config.models.DeviceConfig` (or anything with
    ``name`` and ``model_extra``).
    """
    allowed = {**COMMON, **spec}
    extra: dict[str, Any] = dict(getattr(cfg, "model_extra", None) or {})
    options: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in extra.items():
        convert = allowed.get(key)
        if convert is None:
            problems.append(f"{cfg.name}.{key}: not an option of this simulator "
                            f"(options: {', '.join(sorted(allowed))})")
            continue
        try:
            options[key] = convert(value)
        except (ValueError, TypeError) as exc:
            problems.append(f"{cfg.name}.{key}: {exc}, got {value!r}")
    if problems:
        raise ConfigError(problems)
    return options


def device_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments every device takes from a factory's context."""
    return {key: context[key] for key in ("clock", "events") if context.get(key) is not None}
