"""``nocturna azcam serve``: the azcam command protocol on the unit's instrument."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from nocturna.cli.output import console
from nocturna.cli.session import instrument_session
from nocturna.core.listen import check_host, loop_factory, until_stopped

app = typer.Typer(help="azcam compatibility: serve the azcam command protocol.")


@app.command("serve")
def serve(
    ctx: typer.Context,
    simulate: Annotated[bool, typer.Option(
        "--simulate", help="Simulate every device (simulated clock at speed 1, from now).")
    ] = False,
    host: Annotated[str | None, typer.Option(
        "--host", help="Address to listen on (default azcam.host, 127.0.0.1); another "
                       "than loopback needs --allow-remote.")] = None,
    port: Annotated[int | None, typer.Option(
        "--port", min=0, max=65535, help="TCP port (default azcam.port, 2402; 0: any "
                                         "free port).")] = None,
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote",
        help="Accept listening beyond this machine: the azcam protocol has no "
             "authentication, so anyone who reaches the port can take images and move "
             "the focus and the telescope.")] = False,
) -> None:
    """Serve the azcam tools (exposure, controller, tempcon, instrument, telescope,
    display, focus, parameters) until Ctrl-C or SIGTERM."""
    from nocturna.azcam.runner import build_azcam
    from nocturna.azcam.server import CommandServer

    state = ctx.obj
    settings = state.config().model.azcam
    host = host or settings.host
    port = settings.port if port is None else port
    check_host(host, allow_remote, "the azcam protocol")

    async def main() -> None:
        async with instrument_session(state, simulate=simulate, camera=settings.camera,
                                      all_devices=True) as session:
            azcam = await build_azcam(settings, instrument=session.instrument,
                                      devices=session.devices,
                                      data_dir=session.config.data_dir,
                                      unit_name=session.config.model.name, simulate=simulate)
            server = CommandServer(azcam.table, host=host, port=port)
            await server.start()
            console.print(f"azcam command server on {host}:{server.port} "
                          f"(tools: {', '.join(sorted(azcam.table.tools))}; default tool "
                          f"{azcam.table.default_tool}); images in {azcam.folder}; "
                          "Ctrl-C stops it", soft_wrap=True, highlight=False)
            try:
                await until_stopped()
            finally:
                await server.close()
                await azcam.close()
        console.print("azcam command server stopped")

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main())
