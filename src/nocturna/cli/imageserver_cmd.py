"""``nocturna imageserver serve``: receive files sent in azcam's sendimage format."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from nocturna.azcam.imageserver import ImageServer
from nocturna.azcam.sendimage import DEFAULT_PORT
from nocturna.cli.output import console
from nocturna.core.errors import InvalidValueError
from nocturna.core.listen import check_host, loop_factory, until_stopped
from nocturna.core.storage import Storage

app = typer.Typer(help="Image server: receive files from azcam's sendimage clients.")


@app.callback()
def image_server() -> None:
    """Image server: receive files from azcam's sendimage clients."""


@app.command("serve")
def serve(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Option(
        "--dir", metavar="DIR", help="Directory the files go into (names are taken relative "
                                     "to it; it must exist).")],
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on; another than loopback needs --allow-remote.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        "--port", min=0, max=65535, help="TCP port (0 picks a free one).")] = DEFAULT_PORT,
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote",
        help="Accept listening beyond this machine: there is no authentication.")] = False,
) -> None:
    """Receive files until Ctrl-C or SIGTERM; each is recorded in the unit's storage."""
    check_host(host, allow_remote, "the image server", "fill the directory")
    if not directory.is_dir():
        raise InvalidValueError(f"--dir {str(directory)!r}: not an existing directory")
    state = ctx.obj
    config = state.setup_logging()

    async def main() -> None:
        with Storage.open(config.model.storage.url, data_dir=config.data_dir) as storage:
            async with ImageServer(directory, host=host, port=port,
                                   storage=storage) as server:
                console.print(f"image server listening on {server.address}, writing into "
                              f"{directory.resolve()}; Ctrl-C stops it")
                await until_stopped()
        console.print("image server stopped")

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main())
