"""``nocturna run``: operate the unit.

The unattended night (scheduler, state machine) is not part of this version yet; with
``--simulate`` the command runs the foundation self-check on the simulated unit.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from nocturna.cli.context import CliContext
from nocturna.cli.output import console
from nocturna.cli.session import parse_start
from nocturna.core.errors import NocturnaError


def run(
    ctx: typer.Context,
    simulate: Annotated[bool, typer.Option(
        "--simulate", help="Simulate every device and run on a simulated clock.")] = False,
    speed: Annotated[float | None, typer.Option(
        min=0.001, max=1e6,
        help="Simulated clock speed (default: config clock.speed, or 600).")] = None,
    start: Annotated[str | None, typer.Option(
        metavar="TIME",
        help="Simulated start, ISO 8601 UTC (default: config clock.start or now).")] = None,
) -> None:
    """Run the unit (with --simulate: a simulated unit on the embedded defaults)."""
    state: CliContext = ctx.obj
    begin = parse_start(start)
    config = state.setup_logging()
    if not simulate:
        raise NocturnaError(
            "this version has no hardware drivers yet: use 'nocturna run --simulate'"
        )
    from nocturna.cli.selfcheck import run_selfcheck

    clock_settings = config.model.clock
    chosen_speed = speed or (clock_settings.speed if clock_settings.mode == "simulated" else 600.0)
    chosen_start = begin or clock_settings.start
    results = run_selfcheck(config, start=chosen_start, speed=chosen_speed)

    table = Table(title="nocturna: simulated unit self-check", show_lines=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for result in results:
        table.add_row(result.name, "[green]ok[/green]" if result.ok else "[red]FAILED[/red]",
                      result.detail)
    console.print(table)
    failed = [r.name for r in results if not r.ok]
    if failed:
        raise NocturnaError(f"self-check failed: {', '.join(failed)}")
    console.print("All foundation checks passed. The unattended simulated night (scheduler, "
                  "state machine) is not built yet; this command will run it once it is.")

