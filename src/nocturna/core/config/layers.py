"""Reading the configuration layers: YAML files and environment variables.

Layers, lowest first: built-in defaults → site file → ``<site>_local.yaml`` →
environment (``NOCTURNA_…``) → command line → values set at run time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path as FilePath
from typing import Any

from nocturna.core.config.keys import Path, format_key, get_path, parse_key, set_path
from nocturna.core.errors import ConfigError, ConfigKeyError, InvalidValueError

ENV_PREFIX = "NOCTURNA_"
# NOCTURNA_ variables that are not configuration keys.
RESERVED_ENV = frozenset({"CONFIG", "CONFIG_URL", "CONFIG_TOKEN", "TEST_PG"})


@dataclass
class Layer:
    """One source of configuration: a whole tree (files) or a list of key settings."""

    label: str
    tree: dict[str, Any] = field(default_factory=dict)
    settings: list[tuple[Path, Any]] = field(default_factory=list)

    def defines(self, path: Path) -> bool:
        if any(path[: len(p)] == p or p[: len(path)] == path for p, _ in self.settings):
            return True
        try:
            get_path(self.tree, path)
        except ConfigKeyError:
            return False
        return True


def _rt_yaml():  # type: ignore[no-untyped-def]
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True)


def parse_yaml_text(text: str, label: str) -> Any:
    """Parse YAML, turning syntax errors into a ConfigError that names the source."""
    from ruamel.yaml import YAMLError

    try:
        return _rt_yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{label}:{where}: not valid YAML ({problem})") from None


def read_yaml_file(path: FilePath) -> dict[str, Any]:
    """A YAML file holding a mapping (an empty file is an empty mapping)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"configuration file {str(path)!r} does not exist") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ConfigError(f"configuration file {str(path)!r} cannot be read: {exc}") from None
    data = parse_yaml_text(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}"
        )
    return data


def defaults_layer() -> Layer:
    """The built-in defaults shipped inside the package."""
    text = resources.files("nocturna.core.config").joinpath("defaults.yaml").read_text("utf-8")
    return Layer("built-in defaults", tree=parse_yaml_text(text, "built-in defaults"))


def file_layer(path: FilePath, label: str | None = None) -> Layer:
    return Layer(label or str(path), tree=read_yaml_file(path))


def local_path_for(site_file: FilePath) -> FilePath:
    """``/etc/nocturna/site.yaml`` → ``/etc/nocturna/site_local.yaml``."""
    return site_file.with_name(f"{site_file.stem}_local{site_file.suffix or '.yaml'}")


def parse_scalar(text: str) -> Any:
    """A command-line or environment value, read as a YAML scalar/flow value.

    ``"5"`` → 5, ``"true"`` → True, ``"[1, 2]"`` → [1, 2], ``"35 deg"`` stays text
    (units are parsed later). Text that is not valid YAML stays text.
    """
    from ruamel.yaml import YAMLError

    try:
        value = _rt_yaml().load(text)
    except YAMLError:
        return text
    return text if value is None and text.strip() not in ("null", "~", "") else value


def env_layer(environ: Mapping[str, str], sections: set[str]) -> Layer:
    """``NOCTURNA_SITE__HORIZON__DEFAULT="35 deg"`` → ``site.horizon.default``.

    Nesting uses a double underscore; digits are list indices
    (``NOCTURNA_CAMERAS__0__MODEL``). Variables whose first part is not a top-level
    section are ignored unless they use ``__`` (then the unknown section is an error).
    """
    settings: list[tuple[Path, Any]] = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :]
        if rest in RESERVED_ENV:
            continue
        parts = [p.lower() for p in rest.split("__")]
        if parts[0] not in sections:
            if len(parts) > 1:
                raise ConfigError(
                    f"environment variable {name}: unknown section {parts[0]!r} "
                    f"(sections: {', '.join(sorted(sections))})"
                )
            continue
        if any(p == "" for p in parts):
            raise ConfigError(f"environment variable {name}: empty key part")
        path = tuple(int(p) if p.isdigit() else p for p in parts)
        settings.append((path, parse_scalar(environ[name])))
    return Layer("environment", settings=settings)


def settings_layer(label: str, overrides: Mapping[str, Any]) -> Layer:
    """Key/value settings (command line ``--set KEY=VALUE``, ``--data DIR``...)."""
    settings: list[tuple[Path, Any]] = []
    for key, value in overrides.items():
        try:
            path = parse_key(key)
        except InvalidValueError as exc:
            raise ConfigError(f"{label}: {exc}") from None
        if not path:
            raise ConfigError(f"{label}: empty configuration key")
        settings.append((path, value))
    return Layer(label, settings=settings)


def apply_settings(tree: dict[str, Any], layer: Layer) -> None:
    for path, value in layer.settings:
        try:
            set_path(tree, path, value)
        except (ConfigKeyError, InvalidValueError) as exc:
            raise ConfigError(f"{format_key(path)} (from {layer.label}): {exc}") from None


def env_site_file(environ: Mapping[str, str] | None = None) -> str | None:
    """The site file named by ``NOCTURNA_CONFIG``, if any."""
    return (environ if environ is not None else os.environ).get(ENV_PREFIX + "CONFIG") or None
