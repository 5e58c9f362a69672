"""``nocturna config serve | get | set | reset | check``.

Without ``--url`` the commands work on this machine's configuration files (``set``
writes the local override file). With ``--url`` (or ``$NOCTURNA_CONFIG_URL``) they
talk to a running configuration service.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nocturna.cli.context import CliContext
from nocturna.cli.output import console, show
from nocturna.core.config.layers import parse_scalar
from nocturna.core.errors import InvalidValueError

app = typer.Typer(help="Read and change the configuration; run the configuration service.",
                  invoke_without_command=True)


@app.callback()
def group(ctx: typer.Context) -> None:
    """Read and change the configuration; run the configuration service."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()

UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="NOCTURNA_CONFIG_URL",
                 help="Talk to the configuration service at this URL instead of the files."),
]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar="NOCTURNA_CONFIG_TOKEN", help="Service token.")
]


def _client(url: str, token: str | None):  # type: ignore[no-untyped-def]
    from nocturna.configserver.client import ConfigClient

    return ConfigClient(url, token=token)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535, help="Port (default 6563).")] = None,
    save: Annotated[bool | None, typer.Option("--save/--no-save",
                                              help="Persist set values to the local file.")] = None,
    token: TokenOption = None,
) -> None:
    """Run the configuration service in the foreground."""
    from nocturna.configserver.runner import serve as run_service

    state: CliContext = ctx.obj
    config = state.setup_logging()
    settings = config.model.config_server
    run_service(
        config,
        host=host or settings.host,
        port=settings.port if port is None else port,
        save=settings.save if save is None else save,
        token=token or settings.token,
    )


@app.command()
def get(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. site.horizon.default")] = "",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a configuration value (the whole tree without KEY)."""
    value = _client(url, token).get(key) if url else ctx.obj.config().get(key)
    show(value, as_json=as_json)


@app.command("set")
def set_value(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. site.horizon.default")],
    value: Annotated[str, typer.Argument(help="New value, e.g. '35 deg', 42, true, [1, 2]")],
    url: UrlOption = None,
    token: TokenOption = None,
    save: Annotated[bool, typer.Option("--save/--no-save",
                                       help="With --url: persist on the service.")] = True,
) -> None:
    """Set a value: validated, then saved to the local override file."""
    parsed = parse_scalar(value)
    if url:
        new = _client(url, token).set(key, parsed, save=save)
        show(new)
        return
    config = ctx.obj.config()
    new = config.set(key, parsed, save=True)
    show(new)
    typer.echo(f"saved to {config.local_path}", err=True)


def _layer_name(label: str) -> str:
    """A layer's label as it reads after "comes from": "the built-in defaults", a path."""
    named = label in ("built-in defaults", "environment", "command line")
    return f"the {label}" if named else label


@app.command()
def reset(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key; empty resets everything.")] = "",
    url: UrlOption = None,
    token: TokenOption = None,
    forget_saved: Annotated[bool, typer.Option(
        "--forget-saved", help="Also remove the key from the local override file.")] = False,
) -> None:
    """Undo values set at run time (service), or forget a saved local value (files)."""
    if url:
        _client(url, token).reset(key, forget_saved=forget_saved)
        done = "run-time value undone" + (" and saved value forgotten" if forget_saved else "")
        typer.echo(f"{key}: {done}" if key else "all run-time values undone")
        return
    if not key:
        raise InvalidValueError("config reset: name the KEY whose saved value should be removed")
    config = ctx.obj.config()
    held = config.reset(key, forget_saved=True)
    source = _layer_name(config.source_of(key))
    if held:
        typer.echo(f"removed {key} from {config.local_path}; its value now comes from {source}:")
    else:
        typer.echo(f"{key} was not saved in {config.local_path}; its value comes from {source}:")
    show(config.get(key))


@app.command()
def check(ctx: typer.Context) -> None:
    """Validate the layered configuration and say which files it comes from.

    Every device entry is also built (not connected), so its driver's own keys are
    checked (an ``indi`` entry's ``device``, an unknown option...)."""
    from nocturna.devices.factory import build_devices

    state: CliContext = ctx.obj
    config = state.config()
    build_devices(config)
    console.print(f"configuration valid: unit [bold]{config.model.name}[/bold] at "
                  f"{config.model.site.name}")
    console.print(f"site file:  {state.config_file or '(none: built-in defaults)'}")
    exists = config.local_path is not None and config.local_path.exists()
    console.print(f"local file: {config.local_path}{'' if exists else ' (not present)'}")
    console.print(f"data dir:   {config.data_dir}")
