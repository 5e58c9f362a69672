"""Read endpoints (viewer role): status, plan, sky, history, summary, records, log."""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from nocturna.api.access import Link, Viewer
from nocturna.api.encoding import json_response

router = APIRouter(prefix="/api", tags=["read"])

Since = Annotated[datetime | None, Query(description="ISO 8601 time (UTC if no zone): "
                                                     "from this time on")]
Until = Annotated[datetime | None, Query(description="ISO 8601 time: before this time")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="at most this many, newest first")]
JSON = {"content": {"application/json": {}}}
PNG = {"content": {"image/png": {}}, "description": "a PNG image"}
FOCUS_FOLDER = "focus"


@router.get("/whoami", summary="The name and role of the request's token")
def whoami(who: Viewer) -> dict[str, str]:
    return {"name": who.name, "role": who.role}


@router.get("/status", summary="The unit's status now (state, observation, safety, devices)",
            responses={200: JSON}, response_class=Response)
def status(who: Viewer, link: Link) -> Response:
    return Response(link.status_bytes, media_type="application/json")


@router.get("/plan", summary="Tonight's plan: the planned sets with their alt/az path",
            responses={200: JSON}, response_class=Response)
async def plan(who: Viewer, request: Request) -> Response:
    return json_response(await run_in_threadpool(request.app.state.charts.plan))


@router.get("/plan.png", summary="Tonight's plan as a chart", responses={200: PNG},
            response_class=Response)
async def plan_png(who: Viewer, request: Request) -> Response:
    return Response(await run_in_threadpool(request.app.state.charts.chart_png),
                    media_type="image/png")


@router.get("/sky", summary="The sky chart: horizon, fields, the Moon, the telescope",
            responses={200: JSON}, response_class=Response)
async def sky(who: Viewer, link: Link, request: Request) -> Response:
    snapshot = json.loads(link.status_bytes)
    mount = snapshot.get("mount") or {}
    telescope = None if mount.get("alt_deg") is None else \
        {"alt_deg": mount["alt_deg"], "az_deg": mount.get("az_deg")}
    now = link.unit.clock.now()

    def compute() -> dict[str, Any]:
        done = {str(row.header.get("OBJECT")) for row in
                link.storage.list_exposures(since=link.started) if row.image_type in
                ("OBJECT", "LIGHT")}
        return request.app.state.charts.sky(now, telescope, done)

    return json_response(await run_in_threadpool(compute))


@router.get("/transitions", summary="State transitions, newest first",
            responses={200: JSON}, response_class=Response)
async def transitions(who: Viewer, link: Link, since: Since = None, until: Until = None,
                      limit: Limit = 1000) -> Response:
    rows = await run_in_threadpool(link.storage.list_transitions, since=since, until=until,
                                   limit=limit)
    return json_response(rows)


@router.get("/telemetry", summary="Telemetry readings, newest first",
            responses={200: JSON}, response_class=Response)
async def telemetry(who: Viewer, link: Link,
                    kind: Annotated[str | None, Query(
                        min_length=1, max_length=100,
                        description="e.g. weather, unit.status")] = None,
                    since: Since = None, until: Until = None, limit: Limit = 1000) -> Response:
    rows = await run_in_threadpool(link.storage.list_telemetry, kind, since=since, until=until,
                                   limit=limit)
    return json_response(rows)


@router.get("/records/{kind}", summary="The night's pointing, focus or tracking records",
            responses={200: JSON}, response_class=Response)
async def records(who: Viewer, link: Link, kind: Literal["pointing", "focus", "tracking"],
                  since: Since = None, until: Until = None, limit: Limit = 1000) -> Response:
    rows = await run_in_threadpool(link.storage.list_telemetry, kind, since=since or link.started,
                                   until=until, limit=limit)
    return json_response(rows)


@router.get("/commands", summary="Operator commands, accepted and refused, newest first",
            responses={200: JSON}, response_class=Response)
async def commands(who: Viewer, link: Link, since: Since = None, until: Until = None,
                   limit: Limit = 1000) -> Response:
    rows = await run_in_threadpool(link.storage.list_commands, since=since, until=until,
                                   limit=limit)
    return json_response(rows)


@router.get("/summary", summary="The night so far (or at its end)",
            responses={200: JSON}, response_class=Response)
async def summary(who: Viewer, link: Link) -> Response:
    from nocturna.observatory.summary import summarize

    result = await link.on_unit(lambda: summarize(link.unit, link.started,
                                                  link.unit.clock.now()))
    return json_response(result.as_dict())


def _focus_plots(link: Any) -> dict[str, Path]:
    folder = Path(link.unit.instrument.data_dir) / FOCUS_FOLDER
    found = sorted(folder.glob("*/*.png")) if folder.is_dir() else []
    return {path.name: path for path in found}


@router.get("/focus/plots", summary="The focus plots (names, newest last)",
            responses={200: JSON}, response_class=Response)
async def focus_plots(who: Viewer, link: Link) -> Response:
    plots = await run_in_threadpool(_focus_plots, link)
    return json_response([{"name": name, "size_bytes": path.stat().st_size}
                          for name, path in plots.items()])


@router.get("/focus/plots/{name}", summary="One focus plot", responses={200: PNG, 404: {}},
            response_class=FileResponse)
async def focus_plot(who: Viewer, link: Link, name: str) -> FileResponse:
    path = (await run_in_threadpool(_focus_plots, link)).get(name)
    if path is None:
        raise HTTPException(404, f"no focus plot {name[:100]!r}")
    return FileResponse(path, media_type="image/png")


def tail(path: Path, lines: int) -> list[str]:
    """The last ``lines`` lines of ``path`` ([] if there is no such file)."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]
    except FileNotFoundError:
        return []


@router.get("/log", summary="The tail of the unit's log file", responses={200: JSON},
            response_class=Response)
async def log_tail(who: Viewer, link: Link,
                   lines: Annotated[int, Query(ge=1, le=10_000)] = 200) -> Response:
    return json_response({"file": str(link.log_file),
                          "lines": await run_in_threadpool(tail, link.log_file, lines)})
