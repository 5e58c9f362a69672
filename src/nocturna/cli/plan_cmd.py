"""``nocturna plan``: the night's plan as a table, and optionally a chart (PNG)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from nocturna.cli.context import CliContext
from nocturna.cli.output import console
from nocturna.core.errors import InvalidValueError

if TYPE_CHECKING:
    from nocturna.core.config.models import NocturnaConfig
    from nocturna.scheduler import Block, NightWindow, Scheduler


def parse_night(value: str | None) -> date | datetime | None:
    """``--night``: a local evening date (YYYY-MM-DD) or an ISO 8601 instant."""
    if value is None:
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    from nocturna.core.clock import parse_instant

    try:
        return parse_instant(text)
    except InvalidValueError:
        raise InvalidValueError(f"--night: {value!r} is neither a date such as 2026-12-14 (the "
                                "local evening the night begins) nor an ISO 8601 time such "
                                "as 2026-12-15T08:00Z") from None


def _default_instant(config: NocturnaConfig) -> datetime:
    """Now, or the configured simulated clock's start."""
    clock = config.clock
    if clock.mode == "simulated" and clock.start is not None:
        return clock.start
    return datetime.now(UTC)


def plan_table(blocks: list[Block], zone: str) -> Table:
    """One row per block: start, end (UTC), field, frames, filters, what comes before the
    first frame (slew, pointing correction, autofocus), score."""
    table = Table("start", "end", "field", "frames", "filters", "slew", "point", "focus",
                  "score", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                  title=f"{len(blocks)} blocks, {sum(b.frames for b in blocks)} frames; "
                        f"times UTC (local time zone {zone})")
    for block in blocks:
        filters = ",".join(dict.fromkeys(f or "-" for f in block.field.filters))
        table.add_row(f"{block.start:%H:%M:%S}", f"{block.end:%H:%M:%S}", block.field.name,
                      str(block.frames), filters, _seconds(block.slew_s),
                      _seconds(block.pointing_s), _seconds(block.focus_s),
                      f"{block.score:.3f}")
    return table


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value > 0 else ""


def _draw(scheduler: Scheduler, window: NightWindow, blocks: list[Block], chart: Path) -> Path:
    from nocturna.scheduler.chart import plot_plan

    try:
        return plot_plan(scheduler, window, blocks, chart)
    except OSError as exc:
        raise InvalidValueError(f"--chart: cannot write {str(chart)!r} "
                                f"({exc.strerror or exc})") from None


def _summary(window: NightWindow, zone: str) -> str:
    from zoneinfo import ZoneInfo

    local = window.start.astimezone(ZoneInfo(zone))
    hours = window.duration.total_seconds() / 3600.0
    return (f"night of {local:%Y-%m-%d} ({zone}): observing {window.start:%Y-%m-%d %H:%M} – "
            f"{window.end:%H:%M} UTC ({hours:.1f} h); flats from {window.flat_start:%H:%M} "
            f"and until {window.flat_end:%H:%M} UTC")


def plan(
    ctx: typer.Context,
    fields: Annotated[Path | None, typer.Option(
        "--fields", metavar="FILE",
        help="Fields file (YAML); default: scheduler.fields_file, else the demo fields.")]
    = None,
    night: Annotated[str | None, typer.Option(
        "--night", metavar="DATE",
        help="Local evening date (YYYY-MM-DD) or an ISO time in the night; default: "
             "the night of now (or of the simulated clock's start).")] = None,
    chart: Annotated[Path | None, typer.Option(
        "--chart", metavar="PNG", help="Also write a chart of the plan (PNG).")] = None,
) -> None:
    """Plan a whole night as the unit will observe it: the best field at each free
    moment, set by set, with slews, pointing corrections and autofocus runs."""
    from nocturna.observatory.overheads import unit_overheads
    from nocturna.scheduler import Scheduler, load_fields

    state: CliContext = ctx.obj
    config = state.setup_logging(to_file=False).model
    when = parse_night(night)
    if chart is not None and not chart.parent.is_dir():
        raise InvalidValueError(f"--chart: the folder of {str(chart)!r} does not exist")
    with Console(stderr=True, highlight=False).status("reading the fields") as progress:
        chosen = load_fields(fields) if fields is not None else None
        scheduler = Scheduler.from_config(config, chosen, overheads=unit_overheads(config))
        progress.update("finding the night: the Sun, Earth orientation (IERS tables)")
        window = scheduler.resolve_night(when if when is not None
                                         else _default_instant(config))
        progress.update(f"computing the night's tables: the Moon, {len(scheduler.fields)} "
                        "fields at every time step")
        scheduler.tables(window)
        progress.update("planning the night")
        blocks = scheduler.plan(window.start)
        written = None
        if chart is not None:
            progress.update(f"drawing the chart {chart}")
            written = _draw(scheduler, window, blocks, chart)
    zone = config.site.timezone
    console.print(_summary(window, zone))
    console.print(plan_table(blocks, zone))
    if written is not None:
        console.print(f"chart written to {written}")
    if not blocks:
        console.print("nothing observable in this night")
