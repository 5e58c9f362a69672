"""Printing values for people: scalars as text, trees as YAML, or JSON on request."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from nocturna.core.serialize import to_json, to_yaml
from nocturna.core.units import format_quantity, is_quantity

console = Console(highlight=False, soft_wrap=True)


def render(value: Any, *, as_json: bool = False) -> str:
    if as_json:
        return to_json(value, indent=2)
    if isinstance(value, dict | list):
        return to_yaml(value).rstrip("\n")
    if is_quantity(value) and value.isscalar:
        return format_quantity(value)
    if value is None:
        return "null"
    return str(value)


def show(value: Any, *, as_json: bool = False) -> None:
    print(render(value, as_json=as_json))
