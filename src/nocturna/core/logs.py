"""Structured logging: a quiet console and a rotating JSON-lines file.

Library code logs through ``logging.getLogger(__name__)`` and passes structured
fields with ``extra``: ``log.info("slew done", extra={"ra_deg": 10.5})``. The console
shows ``time level logger: message key=value`` lines (warnings only by default,
``-v`` info, ``-vv`` debug); the file in ``<data>/logs/`` keeps one JSON object per
line with every field, the wall time and, when the clock is simulated, its time.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nocturna.core.clock import RealClock, get_clock
from nocturna.core.serialize import to_plain

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}
_HANDLER_TAG = "_nocturna_handler"


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a caller attached with ``extra=``."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


def _plain(value: Any) -> Any:
    try:
        return to_plain(value)
    except TypeError:
        return repr(value)


class ConsoleFormatter(logging.Formatter):
    """``04:00:12 INFO nocturna.core.config: loaded key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        text = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"
        extras = " ".join(f"{k}={v}" for k, v in fields_of(record).items())
        if extras:
            text = f"{text} {extras}"
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        clock = get_clock()
        if not isinstance(clock, RealClock):
            entry["clock_time"] = clock.now().isoformat()
        for key, value in fields_of(record).items():
            entry[key] = _plain(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=repr)


def console_level(verbosity: int, configured: str = "warning") -> int:
    """-v → info, -vv → debug; otherwise the configured level."""
    if verbosity >= 2:
        return logging.DEBUG
    if verbosity == 1:
        return min(logging.INFO, _LEVELS[configured])
    return _LEVELS[configured]


def setup_logging(
    *,
    verbosity: int = 0,
    level: str = "warning",
    log_file: Path | None = None,
    file_level: str = "info",
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
) -> None:
    """Configure the ``nocturna`` logger: console on stderr, optional rotating file.

    Calling it again replaces the handlers it installed before.
    """
    logger = logging.getLogger("nocturna")
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_TAG, False):
            logger.removeHandler(handler)
            handler.close()
    levels = [console_level(verbosity, level)]
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(levels[0])
    console.setFormatter(ConsoleFormatter())
    setattr(console, _HANDLER_TAG, True)
    logger.addHandler(console)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        file_handler.setLevel(min(_LEVELS[file_level], levels[0]))
        file_handler.setFormatter(JsonFormatter())
        setattr(file_handler, _HANDLER_TAG, True)
        logger.addHandler(file_handler)
        levels.append(file_handler.level)
    logger.setLevel(min(levels))
    logger.propagate = False
