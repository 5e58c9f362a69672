"""``nocturna fleet``: the central side of a network of units.

* ``fleet ingest --broker URL --db postgresql://…``: every unit's messages into the
  central database (:mod:`nocturna.fleet.ingest`), until Ctrl-C or SIGTERM;
* ``fleet status --db …``: the table of units and the ingest's lag;
* ``fleet park UNIT|--all --broker URL``: park units across the network (operator).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nocturna.cli.fleet_serve_cmd import add_serve
from nocturna.core.errors import InvalidValueError, StorageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from nocturna.network.broker import BrokerAddress

app = typer.Typer(help="The central side of a network of units.", no_args_is_help=True)

BrokerOption = Annotated[str, typer.Option(
    "--broker", metavar="URL", help="mqtt://USER:PASSWORD@HOST:1883 or mqtts://…:8883.")]
DbOption = Annotated[str, typer.Option(
    "--db", metavar="URL", help="The central PostgreSQL database: "
    "postgresql://USER:PASSWORD@HOST/DATABASE.")]
CaOption = Annotated[Path | None, typer.Option(
    "--ca-file", metavar="FILE", help="CA certificate to check an mqtts:// broker with "
    "[default: the system's].")]


def _broker(url: str) -> BrokerAddress:
    from nocturna.network.broker import BrokerAddress

    return BrokerAddress.parse(url)


def _engine(url: str) -> Engine:
    from nocturna.fleet.store import open_fleet_engine

    try:
        return open_fleet_engine(url)
    except StorageError as exc:  # a URL that cannot be used is the user's mistake
        raise InvalidValueError(f"--db: {exc}") from exc


def _check_ca(ca_file: Path | None) -> None:
    if ca_file is not None and not ca_file.is_file():
        raise InvalidValueError(f"--ca-file {str(ca_file)!r}: not a file")


@app.command()
def ingest(
    ctx: typer.Context,
    broker: BrokerOption,
    db: DbOption,
    client_id: Annotated[str, typer.Option(
        "--client-id", help="MQTT client id: the broker keeps this session's messages while "
        "the ingest is away.")] = "nocturna-ingest",
    report_every: Annotated[float, typer.Option(
        "--report-every", metavar="SECONDS", min=0.1,
        help="Log and store the lag this often.")] = 10.0,
    ca_file: CaOption = None,
) -> None:
    """Write every unit's messages into the central database until Ctrl-C or SIGTERM."""
    import signal

    from sqlalchemy.exc import DBAPIError

    from nocturna.core.logs import setup_logging
    from nocturna.core.storage.engine import mask_url
    from nocturna.fleet.ingest import Ingest
    from nocturna.fleet.migrations import migrate_fleet
    from nocturna.fleet.store import FleetStore

    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", client_id):
        raise InvalidValueError(f"--client-id {client_id!r}: 1 to 64 letters, digits, "
                                "'_', '.' or '-'")
    address = _broker(broker)
    _check_ca(ca_file)
    engine = _engine(db)
    setup_logging(verbosity=max(ctx.obj.verbosity if ctx.obj else 0, 1))
    try:
        migrate_fleet(engine)
    except DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise StorageError(f"cannot open the fleet database {mask_url(db)}: {reason}") from exc
    runner = Ingest(address, FleetStore(engine), client_id=client_id,
                    report_every_s=report_every, ca_file=ca_file)
    for which in (signal.SIGTERM, signal.SIGINT):
        signal.signal(which, lambda *_: runner.stop())
    typer.echo(f"ingest {client_id}: {address} → {mask_url(db)}; Ctrl-C stops it", err=True)
    runner.run()
    engine.dispose()


def _age(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "-"
    seconds = max(0.0, (now - when).total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


@app.command()
def status(
    db: DbOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show every unit (online, state, weather, tonight's frames, heartbeat) and the lag."""
    from rich.table import Table

    from nocturna.cli.output import console
    from nocturna.core.serialize import to_json
    from nocturna.fleet.views import read_fleet

    engine = _engine(db)
    try:
        units, ingests = read_fleet(engine)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(to_json({"units": [_plain(u) for u in units], "ingest": ingests},
                           indent=2))
        return
    now = datetime.now(UTC)
    table = Table(title=f"{len(units)} unit{'s' * (len(units) != 1)}")
    for column in ("unit", "online", "state", "weather", "tonight", "last heartbeat"):
        table.add_column(column)
    for u in units:
        online = {True: "[green]online[/]", False: "[red]offline[/]", None: "?"}[u.online]
        weather = {True: "safe", None: "-"}.get(u.weather_safe, "[red]unsafe[/]")  # type: ignore[arg-type]
        if u.weather_safe is False and u.weather_reasons:
            weather += f": {u.weather_reasons[0]}"
        tonight = f"{u.frames_tonight} ({u.night})" if u.night else str(u.frames_tonight)
        table.add_row(u.unit, online, u.state or "-", weather, tonight,
                      _age(u.last_heartbeat, now))
    console.print(table)
    if not ingests:
        console.print("ingest: never reported")
    for i in ingests:
        console.print(
            f"ingest {i['client_id']}: {'connected' if i['connected'] else 'disconnected'}, "
            f"{i['rate_per_s']:.1f} messages/s, lag event→receipt p50 "
            f"{_seconds(i['event_lag_p50_s'])} max {_seconds(i['event_lag_max_s'])}, "
            f"receipt→commit p50 {_seconds(i['write_lag_p50_s'])} p99 "
            f"{_seconds(i['write_lag_p99_s'])}, backlog {i['backlog']}; "
            f"{i['written']} written, {i['duplicates']} duplicates, {i['rejected']} "
            f"rejected; reported {_age(i['updated_at'], now)}")


def _plain(unit: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(unit)


@app.command()
def park(
    broker: BrokerOption,
    unit: Annotated[str | None, typer.Argument(
        metavar="UNIT", help="The unit's id (network.unit_id).", show_default=False)] = None,
    all_units: Annotated[bool, typer.Option(
        "--all", help="Every unit that is online.")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", metavar="SECONDS", min=0.1, help="How long to wait for each unit's "
        "answer.")] = 10.0,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who sends it, recorded by the unit [default: the broker user].")] = None,
    ca_file: CaOption = None,
) -> None:
    """Park a unit (or every online unit); exit 1 if any refused or did not answer."""
    from nocturna.cli.output import console
    from nocturna.core.config.network import UNIT_ID
    from nocturna.fleet.commands import command_units

    if (unit is None) == (not all_units):
        raise InvalidValueError("give one UNIT or --all")
    if unit is not None and not UNIT_ID.match(unit):
        raise InvalidValueError(f"UNIT {unit!r}: a unit id is letters, digits, '_' or '-'")
    address = _broker(broker)
    _check_ca(ca_file)
    sender = by or address.username or "operator"
    results = command_units(address, "park", None if all_units else [unit],  # type: ignore[list-item]
                            by=sender, timeout_s=timeout, ca_file=ca_file)
    if not results:
        console.print("no unit is online")
        raise typer.Exit(1)
    for r in results:
        if not r.sent:
            verdict = "[yellow]offline, not sent[/]"
        elif r.accepted:
            verdict = "[green]accepted[/]"
        elif r.accepted is None:
            verdict = "[red]no answer[/]"
        else:
            verdict = f"[red]refused[/] ({r.category})" if r.category else "[red]refused[/]"
        console.print(f"{r.unit}: {verdict}" + (f": {r.message}" if r.message else ""))
    if not all(r.ok for r in results):
        raise typer.Exit(1)


add_serve(app)
