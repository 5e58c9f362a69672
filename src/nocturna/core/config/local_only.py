"""Keys only the site file or the local override file, on the unit's machine, may change.

These keys decide who can reach the unit and where its data goes (the service's
address and token, the data directory, the database, programs nocturna runs...).
A model field is declared local-only by a marker in its annotation::

    data_dir: Annotated[str, LocalOnly("where images and the database are written")]

A marked section covers every key in it. The configuration service refuses to set
them, or to forget their saved values, over the network (HTTP 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel

from nocturna.core.config.keys import Path, format_key
from nocturna.core.config.scope import model_of
from nocturna.core.errors import InvalidValueError


@dataclass(frozen=True)
class LocalOnly:
    """Marks a configuration field (or section) as local-only; ``reason`` says why."""

    reason: str


class LocalOnlyKeyError(InvalidValueError):
    """A local-only key was to be changed over the network."""


def marked_keys(model: type[BaseModel], prefix: Path = ()) -> dict[Path, str]:
    """Every local-only key under ``model`` (sections, not their every key) → reason."""
    found: dict[Path, str] = {}
    for name, info in model.model_fields.items():
        marker = next((m for m in info.metadata if isinstance(m, LocalOnly)), None)
        if marker is not None:
            found[(*prefix, name)] = marker.reason
            continue
        inner = model_of(info.annotation)
        if inner is not None:
            found.update(marked_keys(inner, (*prefix, name)))
    return found


@cache
def local_only_keys() -> dict[Path, str]:
    """The local-only keys of the whole configuration tree."""
    from nocturna.core.config.models import NocturnaConfig

    return marked_keys(NocturnaConfig)


def local_only_at(path: Path) -> tuple[Path, str] | None:
    """The local-only key ``path`` is at or under, if any."""
    for key, reason in local_only_keys().items():
        if path[: len(key)] == key:
            return key, reason
    return None


def local_only_below(path: Path) -> tuple[Path, str] | None:
    """A local-only key at, under or containing ``path`` (a change there would reach it)."""
    for key, reason in local_only_keys().items():
        if path[: len(key)] == key or key[: len(path)] == path:
            return key, reason
    return None


def refuse_remote_change(path: Path, action: str = "set") -> None:
    """Raise LocalOnlyKeyError if ``action`` on ``path`` would change a local-only key."""
    hit = local_only_below(path)
    if hit is None:
        return
    key, reason = hit
    where = format_key(path) or "the whole configuration"
    held = "" if path[: len(key)] == key else f" (it holds {format_key(key)})"
    raise LocalOnlyKeyError(
        f"cannot {action} {where} over the network{held}: {format_key(key)} decides {reason}, "
        "so it can only be changed in the site file or the local override file on the "
        "unit's machine (by hand, or with 'nocturna config set' without --url)"
    )
