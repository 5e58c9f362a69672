"""``nocturna run``: the unattended night.

With ``--simulate`` every device is simulated and time is virtual: by default the run
starts at the next evening twilight at the site and goes as fast as the computer can
(``--speed 60`` paces it at 60 times real time, to watch it). The same ``--seed``
gives the same night. A live status line shows the state, the field, the frame, the
Sun and the safety verdict; the night summary follows. SIGTERM, SIGINT (Ctrl-C) and
SIGHUP park and close before exiting (0 after SIGTERM and SIGHUP, 130 after Ctrl-C);
a second signal forces the exit.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from nocturna.cli.context import CliContext
from nocturna.cli.output import console
from nocturna.cli.session import parse_start
from nocturna.core.clock import parse_instant
from nocturna.core.errors import InvalidValueError, NocturnaError

if TYPE_CHECKING:
    from nocturna.api.server import ApiServer
    from nocturna.core.config.models import ApiConfig
    from nocturna.core.events import Subscription
    from nocturna.observatory.summary import NightSummary
    from nocturna.observatory.unit import Observatory
    from nocturna.runtime.control import UnitControl


def _until(value: str | None) -> str | None:
    if value is None or value == "morning":
        return value
    try:
        parse_instant(value)
    except InvalidValueError:
        raise InvalidValueError(f"--until {value!r}: expected 'morning' or an ISO 8601 time "
                                "such as 2026-12-15T17:00Z") from None
    return value


def run(
    ctx: typer.Context,
    simulate: Annotated[bool, typer.Option(
        "--simulate", help="Simulate every device and run on a simulated clock.")] = False,
    start: Annotated[str | None, typer.Option(
        metavar="TIME|continue",
        help="Simulated start, ISO 8601 UTC (default: before the next evening twilight); "
             "'continue': just after the last time the data directory records.")
    ] = None,
    speed: Annotated[float | None, typer.Option(
        min=0.001, max=1e6,
        help="Pace simulated time at this many times real time, to watch a night "
             "(default: as fast as possible).")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Seed of the simulators: the same seed, the same night (default: 1).")
    ] = None,
    until: Annotated[str | None, typer.Option(
        metavar="morning|TIME",
        help="Stop in the morning after the calibrations (default) or at an ISO time.")
    ] = "morning",
    fields: Annotated[Path | None, typer.Option(
        metavar="FILE", help="Fields to observe (YAML; default: the configured/demo fields).")
    ] = None,
    weather: Annotated[str | None, typer.Option(
        metavar="SCENARIO",
        help="Simulated weather: a scenario file or clear, rain, unsafe, random.")] = None,
    summary_json: Annotated[Path | None, typer.Option(
        "--summary-json", metavar="FILE",
        help="Also write the night summary as JSON to FILE.")] = None,
    no_api: Annotated[bool, typer.Option(
        "--no-api", help="Do not serve the unit's API and dashboard during the run.")] = False,
    api_host: Annotated[str | None, typer.Option(
        metavar="HOST", help="Serve the API on this address (default: api.host).")] = None,
    api_port: Annotated[int | None, typer.Option(
        min=0, max=65535, help="Serve the API on this port (default: api.port; 0: a free "
                               "port).")] = None,
) -> None:
    """Run the unit through the night (with --simulate: a simulated unit)."""
    from nocturna.runtime.runner import run as run_unit

    state: CliContext = ctx.obj
    begin = start if start == "continue" else parse_start(start)
    stop = _until(until)
    if fields is not None and not fields.is_file():
        raise InvalidValueError(f"--fields {str(fields)!r}: no such file")
    config = state.setup_logging()
    if weather is not None:
        from nocturna.runtime.plan import weather_source

        weather_source(weather)  # a clear error before anything starts
    api = None if no_api or not config.model.api.enabled else \
        open_api(config.model.api, api_host, api_port)
    display = _StatusDisplay(api)
    try:
        with display:
            result = run_unit(
                config, simulate=simulate, start=begin, until=stop, speed=speed, seed=seed,
                fields=fields, weather=weather, on_status=display.update,
                on_unit=display.attach, on_control=display.serve if api else None)
    finally:
        if api is not None:
            api.stop()
    summary = result.summary
    print_summary(summary)
    if summary_json is not None:
        from nocturna.core.atomic import atomic_write_text
        from nocturna.core.serialize import to_json

        atomic_write_text(summary_json, to_json(summary.as_dict(), indent=2) + "\n",
                          overwrite=True, mode=0o644)
    if summary.failure is not None:
        raise NocturnaError(f"the night ended early: {summary.failure}")
    if not (summary.parked and summary.closed):
        raise NocturnaError("the night ended with the unit not parked and closed "
                            f"(parked: {summary.parked}, closed: {summary.closed})")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def open_api(settings: ApiConfig, host: str | None, port: int | None) -> ApiServer:
    """The API server, its socket bound (refused settings, a busy port: an error before
    the night starts); it serves once the unit exists."""
    from nocturna.api.server import ApiServer

    try:
        api = ApiServer(settings, host=host, port=port)
    except InvalidValueError:
        raise
    except NocturnaError as exc:  # the port is taken, the address is not this machine's
        raise InvalidValueError(f"the API: {exc} (choose another with --api-port or "
                                "api.port, or run with --no-api)") from None
    console.print(f"API and dashboard: {api.url}/ (documentation: {api.url}/docs)",
                  markup=False)
    if not settings.tokens and not settings.open_viewer:
        console.print("  no API tokens yet: every request needs one; make one with "
                      "'nocturna api token --name NAME --role viewer|operator' (or set "
                      "api.open_viewer: true to read without one on this machine)",
                      markup=False)
    return api


class _StatusDisplay:
    """A live status line on a terminal; state changes as plain lines elsewhere, and
    there (piped, or under a service manager) the progress of every sequence too, so a
    long state such as the flats still shows it is moving. With an API server, it
    starts serving when the unit's control exists."""

    def __init__(self, api: ApiServer | None = None) -> None:
        self.live = Live(Text(""), console=console, refresh_per_second=4, transient=True) \
            if console.is_terminal else None
        self.subscriptions: list[Subscription] = []
        self.api = api
        self.unit: Observatory | None = None

    def __enter__(self) -> _StatusDisplay:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for subscription in self.subscriptions:
            subscription.close()
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def attach(self, unit: Observatory) -> None:
        self.unit = unit
        topics = ["unit.state"] if self.live is not None else ["unit.state", "unit.progress"]
        self.subscriptions = [unit.events.subscribe(topic) for topic in topics]

    def serve(self, control: UnitControl) -> None:
        if self.api is not None and self.unit is not None:
            self.api.attach(self.unit, control)

    def update(self, unit: Observatory) -> None:
        events = [event for subscription in self.subscriptions
                  for event in subscription.drain()]
        for event in sorted(events, key=lambda e: e.time):  # stable: same-time order kept
            data = event.data
            if event.topic == "unit.progress":
                line = f"{data['what']}: {data['done']} of {data['of']}"
            else:
                line = f"{data['from_state'] or '-'} → {data['to_state']}: {data['reason']}"
            console.print(f"{event.time:%Y-%m-%d %H:%M:%SZ}  {line}", markup=False)
        if self.live is not None:
            self.live.update(Text(unit.status.line(unit.clock.now())))


def print_summary(summary: NightSummary) -> None:
    hours = (summary.end - summary.start).total_seconds() / 3600
    table = Table(title=f"Night summary {summary.start:%Y-%m-%d %H:%M}Z – "
                        f"{summary.end:%Y-%m-%d %H:%M}Z ({hours:.1f} h)")
    table.add_column("field")
    table.add_column("frames", justify="right")
    for name, frames in sorted(summary.light_frames.items()):
        table.add_row(name, str(frames))
    for kind, frames in sorted(summary.calibration_frames.items()):
        table.add_row(f"[dim]{kind.lower()} (calibration)[/dim]", str(frames))
    console.print(table)
    console.print(f"light frames: {sum(summary.light_frames.values())}, calibration frames: "
                  f"{sum(summary.calibration_frames.values())}, files: {summary.files}")
    if len(summary.camera_frames) > 1:
        console.print("per camera: " + "; ".join(
            f"{name} {counts['light']} light, {counts['calibration']} calibration"
            for name, counts in sorted(summary.camera_frames.items())), markup=False)
    console.print(f"time exposing: {summary.exposing_s / 3600:.2f} h of "
                  f"{summary.dark_s / 3600:.2f} h dark time ({100 * summary.efficiency:.0f} %)")
    _print_loops(summary)
    if summary.dark_time_s:
        parts = [f"{name} {100 * seconds / summary.dark_s:.0f} %"
                 for name, seconds in summary.dark_time_s.items()
                 if summary.dark_s > 0 and seconds >= 0.5 * 0.01 * summary.dark_s]
        console.print("dark time: " + ", ".join(parts), markup=False)
    if summary.interruptions:
        for item in summary.interruptions:
            end = f"{item['end']:%H:%M}Z" if item["end"] else "the end"
            closed = "" if item["closed_after_s"] is None else \
                f", closed after {item['closed_after_s']:.0f} s"
            console.print(f"weather interruption {item['start']:%H:%M}Z – {end}{closed}: "
                          f"{'; '.join(item['reasons'][:2])}", markup=False)
        worst = summary.worst_safety_latency_s
        if worst is not None:
            console.print(f"worst time from unsafe weather to parked and closed: {worst:.0f} s")
    else:
        console.print("weather interruptions: none")
    for park in summary.parks:
        console.print(f"parked {park['start']:%H:%M}Z for {park['duration_s'] / 60:.0f} min: "
                      f"{park['reason']}", markup=False)
    for warning in summary.warnings:
        console.print(f"warning: {warning}", markup=False)
    if summary.failure:
        console.print(f"FAILED: {summary.failure}", markup=False)
    console.print(f"state transitions: {summary.transitions}, meridian flips: {summary.flips}; "
                  f"ended {'parked' if summary.parked else 'NOT parked'} and "
                  f"{'closed' if summary.closed else 'NOT closed'}"
                  + (f" ({summary.time_base}, seed {summary.seed})" if summary.seed is not None
                     else ""))


def _print_loops(summary: NightSummary) -> None:
    """Pointing corrections, focus runs and tracking corrections of the night."""
    errors = summary.pointing_errors_arcsec()
    if summary.pointing:
        good = sum(1 for p in summary.pointing if p["success"])
        iterations = [len(p["iterations"]) for p in summary.pointing]
        line = f"pointing: {len(summary.pointing)} corrections ({good} within tolerance, " \
               f"{summary.pointing_frames} frames, at most {max(iterations)} per slew)"
        if errors:
            finals = [p["final_error_arcsec"] for p in summary.pointing
                      if p.get("final_error_arcsec") is not None]
            line += f"; error after slew median {statistics.median(errors):.0f}″ " \
                    f"(max {max(errors):.0f}″), after correction median " \
                    f"{statistics.median(finals):.1f}″"
        console.print(line)
    for run in summary.focus_runs:
        kinds = "+".join(sweep["kind"] for sweep in run.get("sweeps", [])) or run.get("kind", "")
        outcome = "ok" if run["success"] else f"FAILED ({run.get('reason', '')})"
        console.print(f"focus {run['started'][11:16]}Z {kinds}: {run['start_position']} → "
                      f"{run['best_position']} ({run.get('trigger', '')}) {outcome}")
    if summary.tracking_measured:
        console.print(f"tracking: {summary.tracking_measured} frames measured against the "
                      f"first after their slew, {summary.tracking_corrections} guide corrections")
