"""``nocturna status``, ``park``, ``pause``, ``resume``, ``end-night``, ``observe``:
talking to a running unit over its API (``nocturna run`` serves it).

The unit is found at ``--url`` (default: ``api.host``/``api.port`` of the
configuration); the token comes from ``--token`` or ``NOCTURNA_TOKEN``. A unit that
does not answer is a one-line error naming the URL (exit 1); a refused command says
why (exit 1).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nocturna.cli.context import CliContext
from nocturna.cli.output import console

if TYPE_CHECKING:
    from nocturna.api.client import UnitClient

Url = Annotated[str | None, typer.Option(
    "--url", metavar="URL", help="The unit's API (default: http://api.host:api.port).")]
Token = Annotated[str | None, typer.Option(
    "--token", metavar="TOKEN", help="API token (default: $NOCTURNA_TOKEN).")]
WATCH_EVERY_S = 2.0


def default_url(state: CliContext) -> str:
    """The configured API address; a wildcard host is reached on loopback."""
    from nocturna.api.server import url_of
    from nocturna.core.errors import ConfigError

    settings = state.config().model.api
    if settings.port == 0:
        raise ConfigError("api.port is 0 (a free port, printed by 'nocturna run'): give --url")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
    return url_of(host, settings.port)


def client(ctx: typer.Context, url: str | None, token: str | None) -> UnitClient:
    from nocturna.api.client import UnitClient

    return UnitClient(url or default_url(ctx.obj), token)


def _value(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def status_view(snapshot: dict[str, Any]) -> Any:
    """The status snapshot as tables: the unit, safety, devices, components."""
    from rich import box
    from rich.console import Group
    from rich.table import Table

    unit = Table(box=box.SIMPLE_HEAD, show_header=False, pad_edge=False,
                 title=f"{snapshot.get('unit', '?')} at {snapshot.get('time', '?')} "
                       f"({snapshot.get('time_base', '?')} time)")
    unit.add_column(style="bold")
    unit.add_column(overflow="fold")
    state = str(snapshot.get("state", "?")) + (" (paused)" if snapshot.get("paused") else "")
    unit.add_row("state", f"{state} since {snapshot.get('since') or '-'}")
    unit.add_row("why", str(snapshot.get("reason") or "-"))
    obs = snapshot.get("observation")
    if obs:
        exposure = _value(obs.get("exposure_s"), " s")
        unit.add_row("observing", f"{obs.get('field')} frame {obs.get('frame')}/{obs.get('of')}"
                                  f", {obs.get('filter') or '-'}, {exposure}"
                                  f" {obs.get('image_type') or ''}")
    following = snapshot.get("next")
    if following:
        unit.add_row("next", f"{following.get('field')} at {following.get('start')}")
    progress = snapshot.get("progress")
    if progress:
        unit.add_row("progress", f"{progress.get('what')}: {progress.get('done')}/"
                                 f"{progress.get('of')}")
    safety = snapshot.get("safety") or {}
    verdict = {True: "safe", False: "UNSAFE"}.get(safety.get("safe"), "?")
    checks = []
    for name, check in (safety.get("checks") or {}).items():
        check = check or {}
        reasons = "; ".join(check.get("reasons") or [])
        checks.append(f"{name} {'ok' if check.get('ok') else 'NOT ok'}"
                      + (f" ({reasons})" if reasons else ""))
    unit.add_row("safety", verdict + (": " + ", ".join(checks) if checks else ""))
    unit.add_row("sky", f"Sun {_value(snapshot.get('sun_alt_deg'), '°')}, Moon "
                        f"{_value((snapshot.get('moon') or {}).get('alt_deg'), '°')}")
    mount = snapshot.get("mount")
    if mount:
        unit.add_row("mount", f"alt {_value(mount.get('alt_deg'), '°')} az "
                              f"{_value(mount.get('az_deg'), '°')}, tracking "
                              f"{_value(mount.get('tracking'))}, slewing "
                              f"{_value(mount.get('slewing'))}, parked "
                              f"{_value(mount.get('at_park'))}")
    dome = snapshot.get("dome")
    if dome:
        unit.add_row("dome", f"shutter {dome.get('shutter') or '-'}, az "
                             f"{_value(dome.get('azimuth_deg'), '°')}, parked "
                             f"{_value(dome.get('at_park'))}")
    camera = snapshot.get("camera")
    if camera:
        unit.add_row("camera", f"{camera.get('name')} {camera.get('state') or '-'}, "
                               f"{_value(camera.get('ccd_temp_c'), ' °C')}")
    weather = snapshot.get("weather")
    if weather:
        unit.add_row("weather", f"{_value(weather.get('temperature_c'), ' °C')}, humidity "
                                f"{_value(weather.get('humidity_pct'), ' %', 0)}, wind "
                                f"{_value(weather.get('wind_m_s'), ' m/s')}, clouds "
                                f"{_value(weather.get('cloud_cover_pct'), ' %', 0)}, rain "
                                f"{_value(weather.get('rain_rate_mm_h'), ' mm/h')}")
    components = Table("component", "kind", "state", "heartbeat age", "fault",
                       box=box.SIMPLE_HEAD, pad_edge=False)
    for row in snapshot.get("components") or []:
        components.add_row(str(row.get("name")), str(row.get("kind")), str(row.get("state")),
                           _value(row.get("heartbeat_age_s"), " s"),
                           str(row.get("fault_reason") or ""))
    return Group(unit, components)


def status(ctx: typer.Context, url: Url = None, token: Token = None,
           watch: Annotated[bool, typer.Option(
               "--watch", help="Keep showing it, refreshed every 2 s (Ctrl-C ends).")] = False,
           ) -> None:
    """Show the running unit's status (state, observation, safety, devices)."""
    api = client(ctx, url, token)
    if not watch:
        console.print(status_view(api.status()))
        return
    from rich.live import Live

    try:
        with Live(status_view(api.status()), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(WATCH_EVERY_S)
                live.update(status_view(api.status()), refresh=True)
    except KeyboardInterrupt:
        return


def _send(ctx: typer.Context, url: str | None, token: str | None, name: str,
          body: Any = None) -> None:
    result = client(ctx, url, token).command(name, body)
    console.print(f"{name}: accepted (command {result.get('id')}): {result.get('detail')}",
                  markup=False)


def park(ctx: typer.Context, url: Url = None, token: Token = None) -> None:
    """Abort the exposure, park and close now; the unit stays parked until 'resume'."""
    _send(ctx, url, token, "park")


def pause(ctx: typer.Context, url: Url = None, token: Token = None,
          reason: Annotated[str, typer.Option(help="Why (recorded).")] = "") -> None:
    """Pause the night after the frame being exposed (resume with 'resume')."""
    _send(ctx, url, token, "pause", {"reason": reason})


def resume(ctx: typer.Context, url: Url = None, token: Token = None) -> None:
    """Resume a paused or operator-parked night."""
    _send(ctx, url, token, "resume")


def end_night(ctx: typer.Context, url: Url = None, token: Token = None) -> None:
    """End the night: park, close, morning calibrations, summary."""
    _send(ctx, url, token, "end-night")


def observe(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The target's name.")],
    ra: Annotated[str, typer.Option(help="Right ascension: hours (5.588, 05:35:17) or 83.8d.")],
    dec: Annotated[str, typer.Option(help="Declination in degrees (-5.39, -05:23:28).")],
    priority: Annotated[float | None, typer.Option(
        help="Priority (default: above every planned field).")] = None,
    exposure: Annotated[float | None, typer.Option(
        min=0.001, help="Seconds per frame (default: the configured exposure).")] = None,
    count: Annotated[int, typer.Option(min=1, help="Frames.")] = 1,
    filter: Annotated[str | None, typer.Option(
        "--filter", help="Filter (one of the wheel's).")] = None,
    url: Url = None, token: Token = None,
) -> None:
    """Observe a target now: a target of opportunity, observed next."""
    from nocturna.cli.coordinates import parse_dec_deg, parse_ra_hours

    body: dict[str, Any] = {"name": name, "ra_deg": parse_ra_hours(ra) * 15.0,
                            "dec_deg": parse_dec_deg(dec), "count": count}
    for key, value in (("priority", priority), ("exposure_s", exposure), ("filter", filter)):
        if value is not None:
            body[key] = value
    _send(ctx, url, token, "observe", body)
