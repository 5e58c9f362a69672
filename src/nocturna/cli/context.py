"""What every command shares: the global options and the configuration they select."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nocturna.core.errors import ConfigError

if TYPE_CHECKING:  # the configuration is imported when a command loads it, not at start-up
    from nocturna.core.config import Config


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"site.horizon.default=35 deg"`` → ``("site.horizon.default", "35 deg")``."""
    from nocturna.core.config.layers import parse_scalar

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. site.horizon.default='35 deg'")
    return key.strip(), parse_scalar(value)


def writable_directory(path: Path, what: str) -> Path:
    """``path``, created if missing; a :class:`ConfigError` naming it if nothing can be
    written there (read-only, not a directory, no permission)."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {str(path)!r} is not a directory: choose another with --data")
    try:
        path.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=path, prefix=".nocturna-probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{what} {str(path)!r} is not writable "
                          f"({exc.strerror or exc}): choose another with --data") from None
    return path


@dataclass
class CliContext:
    """Global options; the configuration is loaded on first use."""

    config_file: Path | None = None
    data_dir: Path | None = None
    verbosity: int = 0
    settings: list[str] = field(default_factory=list)
    _config: Config | None = None

    def overrides(self) -> dict[str, Any]:
        values = dict(parse_assignment(item) for item in self.settings)
        if self.data_dir is not None:
            values["data_dir"] = str(self.data_dir)
        return values

    def config(self) -> Config:
        if self._config is None:
            from nocturna.core.config import Config

            self._config = Config.load(self.config_file, overrides=self.overrides())
        return self._config

    def setup_logging(self, *, to_file: bool = True) -> Config:
        """Load the configuration and start logging as it says (file in the data dir)."""
        from nocturna.core.logs import setup_logging

        config = self.config()
        settings = config.model.logging
        log_file = None
        if to_file:
            writable_directory(config.data_dir, "data directory")
            default_file = config.data_dir / "logs" / "nocturna.log"
            log_file = Path(settings.file) if settings.file else default_file
            writable_directory(log_file.parent, "log directory")
        setup_logging(
            verbosity=self.verbosity, level=settings.level, log_file=log_file,
            file_level=settings.file_level, max_bytes=settings.max_bytes, backups=settings.backups,
        )
        return config
