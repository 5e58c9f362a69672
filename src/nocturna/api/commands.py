"""Command endpoints (operator role): each is sent to the unit's loop and recorded there.

Accepted → 202 ``{id, command, accepted: true, detail}``; refused by the unit → 409
``{detail, reason}`` (reason: unsafe, daylight, fault, state, invalid). A
configuration set follows the configuration service's rules: a local-only key is 403
naming it, an unknown key or a value out of its range 422; accepted or refused, it
is recorded with who sent it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from nocturna.api.access import Link, Operator
from nocturna.api.encoding import json_response
from nocturna.runtime.control import CalibrationRequest, TargetRequest
from nocturna.runtime.control import Operator as Sender

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["commands"])

RESULT = {"content": {"application/json": {}},
          "description": "accepted: {id, command, accepted, detail}"}
REFUSED = {"description": "refused by the unit: {detail, reason}"}
ANSWERS: dict[int | str, dict[str, Any]] = {202: RESULT, 409: REFUSED, 401: {}, 403: {}}


class PauseRequest(BaseModel):
    """Why the night is paused (recorded with the command)."""

    reason: str = Field("", max_length=500)


class ConfigValue(BaseModel):
    """The new value of a configuration key (as ``nocturna config set`` takes it)."""

    value: Any


def sender(who: Any, request: Request) -> Sender:
    client = request.client
    return Sender(who.name, who.role, None if client is None else client.host)


async def _send(link: Any, name: str, *args: Any) -> Response:
    method = getattr(link.control, name)
    result = await link.on_unit(lambda: method(*args))
    return json_response(result, 202)


@router.post("/park", status_code=202, responses=ANSWERS, response_class=Response,
             summary="Abort the exposure, park and close now; stay parked until resume")
async def park(who: Operator, link: Link, request: Request) -> Response:
    return await _send(link, "park", sender(who, request))


@router.post("/pause", status_code=202, responses=ANSWERS, response_class=Response,
             summary="After the frame being exposed, start no new work until resume")
async def pause(who: Operator, link: Link, request: Request,
                body: Annotated[PauseRequest | None, Body()] = None) -> Response:
    return await _send(link, "pause", sender(who, request), body.reason if body else "")


@router.post("/resume", status_code=202, responses=ANSWERS, response_class=Response,
             summary="Leave a pause or an operator park")
async def resume(who: Operator, link: Link, request: Request) -> Response:
    return await _send(link, "resume", sender(who, request))


@router.post("/end-night", status_code=202, responses=ANSWERS, response_class=Response,
             summary="Park, close, do the morning housekeeping, end the run")
async def end_night(who: Operator, link: Link, request: Request) -> Response:
    return await _send(link, "end_night", sender(who, request))


@router.post("/observe", status_code=202, responses=ANSWERS, response_class=Response,
             summary="A target of opportunity: the next field observed")
async def observe(who: Operator, link: Link, request: Request,
                  target: TargetRequest) -> Response:
    return await _send(link, "observe", sender(who, request), target)


@router.post("/calibrations", status_code=202, responses=ANSWERS, response_class=Response,
             summary="A calibration sequence (bias, darks, dome flats)")
async def calibrations(who: Operator, link: Link, request: Request,
                       calibration: CalibrationRequest) -> Response:
    return await _send(link, "calibrate", sender(who, request), calibration)


@router.post("/abort", status_code=202, responses=ANSWERS, response_class=Response,
             summary="Abort the exposure in progress (its frame is discarded)")
async def abort(who: Operator, link: Link, request: Request) -> Response:
    return await _send(link, "abort_exposure", sender(who, request))


@router.put("/config/{key}", status_code=202, response_class=Response,
            responses={**ANSWERS, 422: {}},
            summary="Set a configuration key (no local-only key over the network)")
async def set_config(who: Operator, link: Link, request: Request, key: str,
                     body: ConfigValue) -> Response:
    from nocturna.core.config import parse_key
    from nocturna.core.config.local_only import refuse_remote_change
    from nocturna.core.errors import NocturnaError
    from nocturna.core.serialize import from_plain

    operator = sender(who, request)
    args = {"key": key, "value": body.value}

    async def apply() -> tuple[int, Any]:
        try:
            refuse_remote_change(parse_key(key))
            new = link.config.set(key, from_plain(body.value))
        except NocturnaError as exc:
            link.control.record(operator, "config", args, False, str(exc))
            raise
        return link.control.record(operator, "config", args, True, f"{key} set"), new

    record_id, new = await link.on_unit(apply)
    if link.config.local_path is not None:
        try:
            await asyncio.to_thread(link.config.persist, [key])
        except Exception:
            log.exception("saving configuration failed", extra={"keys": [key]})
    return json_response({"id": record_id, "command": "config", "accepted": True,
                          "detail": f"{key} set", "key": key, "value": new}, 202)
