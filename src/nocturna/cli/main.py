"""Entry point of the ``nocturna`` command.

Errors reach the user as one line on stderr, never a traceback: bad options, bad
values and invalid configuration exit with 2, other failures with 1 (``-vv``
adds the traceback to the log).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from nocturna import __version__
from nocturna.cli.context import CliContext
from nocturna.cli.lazy import CommandSpec, LazyGroup
from nocturna.core.errors import (
    ConfigError,
    ConfigKeyError,
    InvalidValueError,
    NocturnaError,
    UnitBusyError,
)

COMMANDS: dict[str, CommandSpec] = {
    "components": CommandSpec(
        "nocturna.cli.components_cmd:components",
        "Bring every device and the instrument under control (ENABLED) and show their "
        "summary states and heartbeats."),
    "run": CommandSpec("nocturna.cli.run_cmd:run",
                       "Run the unit through the night (with --simulate: a simulated unit)."),
    "plan": CommandSpec("nocturna.cli.plan_cmd:plan",
                        "Plan a whole night: the best field at each free moment, slews "
                        "included."),
    "focus": CommandSpec("nocturna.cli.focus_cmd:focus",
                         "Autofocus: sweep the focuser, fit the focus curve, move to the best "
                         "position."),
    "config": CommandSpec("nocturna.cli.config_cmd:app",
                          "Read and change the configuration; run the configuration service."),
    "devices": CommandSpec("nocturna.cli.devices_cmd:app", "The unit's devices."),
    "camera": CommandSpec("nocturna.cli.camera_cmd:app", "Take pictures."),
    "mount": CommandSpec("nocturna.cli.mount_cmd:app", "Point the telescope."),
    "take": CommandSpec("nocturna.cli.take_cmd:app",
                        "Take a sequence of frames (LATISS-style image types)."),
    "alpaca": CommandSpec("nocturna.cli.alpaca_cmd:app",
                          "ASCOM Alpaca: serve the unit's devices to Alpaca clients."),
    "indi": CommandSpec("nocturna.cli.indi_cmd:app",
                        "INDI: find the devices an INDI server offers."),
    "azcam": CommandSpec("nocturna.cli.azcam_cmd:app",
                         "azcam compatibility: serve the azcam command protocol."),
    "imageserver": CommandSpec("nocturna.cli.imageserver_cmd:app",
                               "Image server: receive files from azcam's sendimage clients."),
    "status": CommandSpec("nocturna.cli.unit_cmd:status",
                          "Show the running unit's status (state, observation, safety, "
                          "devices)."),
    "park": CommandSpec("nocturna.cli.unit_cmd:park",
                        "Park and close the running unit now (it stays parked until resume)."),
    "pause": CommandSpec("nocturna.cli.unit_cmd:pause",
                         "Pause the running unit's night after the frame being exposed."),
    "resume": CommandSpec("nocturna.cli.unit_cmd:resume",
                          "Resume a paused or operator-parked night."),
    "end-night": CommandSpec("nocturna.cli.unit_cmd:end_night",
                             "End the running unit's night: park, close, calibrations, summary."),
    "observe": CommandSpec("nocturna.cli.unit_cmd:observe",
                           "Observe a target now (target of opportunity, observed next)."),
    "api": CommandSpec("nocturna.cli.api_cmd:app",
                       "The running unit's HTTP API: make tokens."),
    "fleet": CommandSpec("nocturna.cli.fleet_cmd:app",
                         "A network of units: ingest their messages, show them, park them."),
}
"""Every command: where it lives (imported only when it runs) and its line in --help."""


class NocturnaGroup(LazyGroup):
    """The ``nocturna`` command group."""

    lazy = COMMANDS


app = typer.Typer(
    name="nocturna",
    help="nocturna: autonomous observatory control.",
    cls=NocturnaGroup,
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nocturna {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(
        "--config", envvar="NOCTURNA_CONFIG", metavar="FILE",
        help="Site configuration file (YAML); FILE_local.yaml beside it is read too.")] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", metavar="DIR", help="Data directory [default: ./nocturna-data].")] = None,
    verbose: Annotated[int, typer.Option(
        "-v", "--verbose", count=True, help="More output: -v info, -vv debug.")] = 0,
    settings: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a configuration key (repeatable).")] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """nocturna: autonomous observatory control."""
    ctx.obj = CliContext(config_file=config, data_dir=data, verbosity=verbose,
                         settings=list(settings or []))
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


VALUE_LIMIT = 200
"""A value the user gave that is longer than this (paths are shorter) is cut in error
messages to its first ``VALUE_KEPT`` characters and its length."""
VALUE_KEPT = 40
MESSAGE_LIMIT = 1000
"""No error line is longer than this, whatever it quotes."""


def clip_message(message: str, values: list[str] | tuple[str, ...] = ()) -> str:
    """One line: the message's lines joined, each long value of ``values`` (the
    command line) cut to its start and its length, the whole capped."""
    text = " ".join(line.strip() for line in message.strip().splitlines() if line.strip())
    given = {token.partition("=")[2] if token.startswith("--") else token for token in values}
    for value in sorted({v for v in given if len(v) > VALUE_LIMIT}, key=len, reverse=True):
        short = f"{value[:VALUE_KEPT]}… ({len(value)} characters)"
        for form in (value, repr(value)[1:-1]):
            text = text.replace(form, short)
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 1] + "…"


def _fail(message: str, code: int, argv: list[str] | tuple[str, ...] = ()) -> int:
    print(f"nocturna: error: {clip_message(message, argv)}", file=sys.stderr)
    return code


def _given_value(argv: list[str], param: object) -> str | None:
    """The text the user gave for an option, to quote it back in an error."""
    for name in getattr(param, "opts", []):
        for index, token in enumerate(argv):
            if token == name and index + 1 < len(argv):
                return argv[index + 1]
            if token.startswith(name + "="):
                return token[len(name) + 1 :]
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="nocturna", standalone_mode=False)
    except typer.Abort:
        return _fail("interrupted", 130, argv)
    except typer.TyperException as exc:  # usage errors: bad option, bad value, missing argument
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        given = _given_value(argv, getattr(exc, "param", None))
        if given is not None and repr(given) not in message:
            message = f"{message} (got {given!r})"
        return _fail(message, getattr(exc, "exit_code", 2), argv)
    except KeyboardInterrupt:
        return _fail("interrupted", 130, argv)
    except (ConfigError, ConfigKeyError, InvalidValueError, UnitBusyError) as exc:
        return _fail(str(exc), 2, argv)
    except NocturnaError as exc:
        return _fail(str(exc), 1, argv)
    except OSError as exc:  # the system refused: say what and where, no "unexpected"
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}", 1, argv)
    except Exception as exc:  # last resort: still one line, details in the log
        logging.getLogger("nocturna").debug("unexpected error", exc_info=True)
        return _fail(f"unexpected {type(exc).__name__}: {exc} (run with -vv for details)", 1, argv)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
