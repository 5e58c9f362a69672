"""``nocturna fleet serve``: the fleet page (:mod:`nocturna.fleet.web`).

:func:`add_serve` adds the command to the ``fleet`` group (``cli/fleet_cmd.py`` calls it),
so the page's command lives apart from ingest, status and park.
"""

from __future__ import annotations

from typing import Annotated

import typer

DEFAULT_PORT = 8090


def serve(
    db: Annotated[str, typer.Option(
        "--db", metavar="URL", envvar="NOCTURNA_FLEET_DB",
        help="The central database: postgresql://USER:PASSWORD@HOST/DATABASE.")],
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on; another than loopback needs --allow-remote.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        "--port", min=0, max=65535, help="TCP port (0 picks a free one).")] = DEFAULT_PORT,
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote",
        help="Accept listening beyond this machine: the page has no authentication.")
    ] = False,
) -> None:
    """Serve the fleet page (every unit at a glance) until Ctrl-C or SIGTERM."""
    import asyncio

    from nocturna.cli.output import console
    from nocturna.core.listen import check_host, loop_factory, until_stopped
    from nocturna.fleet.store import open_fleet_engine
    from nocturna.fleet.web import FleetPage, check_database, serve_until_stopped

    check_host(host, allow_remote, "the fleet page", "read every unit's telemetry")
    engine = open_fleet_engine(db)
    try:
        check_database(engine)
        page = FleetPage(engine, host, port)
        console.print(f"fleet page on {page.url}; Ctrl-C stops it")
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(serve_until_stopped(page, until_stopped()))
    finally:
        engine.dispose()
    console.print("fleet page stopped")


def add_serve(app: typer.Typer) -> None:
    """Add ``serve`` to the ``fleet`` command group ``app``."""
    app.command("serve")(serve)
