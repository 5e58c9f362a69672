"""Reading a YAML file with errors that name it (safe loader, no custom tags)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nocturna.core.errors import ConfigError


def read_yaml(path: Path, what: str) -> Any:
    """The parsed contents of ``path``.

    Raises :class:`ConfigError`: ``"<what> '<path>': cannot read it (…)"`` or
    ``"<name>: line N: not valid YAML (…)"``.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{what} {str(path)!r}: cannot read it "
                          f"({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {str(path)!r}: not UTF-8 text (byte "
                          f"0x{exc.object[exc.start]:02x} at position {exc.start})") from None
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path.name}:{where} not valid YAML ({problem})") from None
