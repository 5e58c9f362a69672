"""Frames (viewer role): the list with filters, one frame, its header, a preview, the file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from nocturna.api.access import Link, Viewer
from nocturna.api.encoding import json_response
from nocturna.api.reads import JSON, Limit, Since, Until

router = APIRouter(prefix="/api/frames", tags=["frames"])

Name = Annotated[str | None, Query(min_length=1, max_length=100)]
ImageId = str


def frame(row: Any) -> dict[str, Any]:
    """What the API says of one exposure row."""
    header = row.header or {}
    return {"image_id": row.image_id, "camera": row.camera, "image_type": row.image_type,
            "field": header.get("OBJECT"), "filter": header.get("FILTER"),
            "exposure_s": row.exposure_time_s, "start_time": row.start_time,
            "path": row.path, "size_bytes": row.size_bytes}


def _list(link: Any, image_type: str | None, camera: str | None, field: str | None,
          since: Any, until: Any, limit: int) -> list[dict[str, Any]]:
    rows = link.storage.list_exposures(camera=camera, image_type=image_type, since=since,
                                       until=until, limit=None if field else limit)
    found = [frame(row) for row in rows]
    if field is not None:
        found = [item for item in found if item["field"] == field][:limit]
    return found


def _row(link: Any, image_id: str) -> Any:
    row = link.storage.get_exposure(image_id)
    if row is None:
        raise HTTPException(404, f"no frame {image_id[:100]!r}")
    return row


def _file(row: Any) -> Path:
    path = Path(row.path)
    if not path.is_file():
        raise HTTPException(404, f"the file of frame {row.image_id!r} is gone ({row.path})")
    return path


@router.get("", summary="Frames, newest first", responses={200: JSON}, response_class=Response)
async def frames(who: Viewer, link: Link, image_type: Name = None, camera: Name = None,
                 field: Name = None, since: Since = None, until: Until = None,
                 limit: Limit = 100) -> Response:
    return json_response(await run_in_threadpool(_list, link, image_type, camera, field,
                                                 since, until, limit))


@router.get("/latest", summary="The newest frame", responses={200: JSON, 404: {}},
            response_class=Response)
async def latest(who: Viewer, link: Link, image_type: Name = None,
                 camera: Name = None) -> Response:
    found = await run_in_threadpool(_list, link, image_type, camera, None, None, None, 1)
    if not found:
        raise HTTPException(404, "no frame yet")
    return json_response(found[0])


@router.get("/{image_id}", summary="One frame", responses={200: JSON, 404: {}},
            response_class=Response)
async def one(who: Viewer, link: Link, image_id: ImageId) -> Response:
    return json_response(frame(await run_in_threadpool(_row, link, image_id)))


@router.get("/{image_id}/header", summary="One frame's FITS header as [key, value, comment]",
            responses={200: JSON, 404: {}}, response_class=Response)
async def header(who: Viewer, link: Link, image_id: ImageId) -> Response:
    def read() -> list[list[Any]]:
        from astropy.io import fits

        path = _file(_row(link, image_id))
        with fits.open(path, memmap=False) as hdus:
            hdu = next((h for h in hdus if h.header.get("NAXIS", 0)), hdus[0])
            return [[card.keyword, card.value if isinstance(card.value, bool | int | float | str)
                     else str(card.value), card.comment] for card in hdu.header.cards]

    return json_response({"image_id": image_id, "cards": await run_in_threadpool(read)})


def _preview(link: Any, image_id: str, kind: str, size: int,
             stretch: str) -> bytes:
    from nocturna.core.errors import NocturnaError
    from nocturna.images.bayer import pattern_at
    from nocturna.images.fits import read_fits
    from nocturna.images.preview import preview_bytes

    path = _file(_row(link, image_id))
    try:
        data, header = read_fits(path)
        return preview_bytes(data, format=kind, max_size=size,  # type: ignore[arg-type]
                             method=stretch, bayer=pattern_at(header))  # type: ignore[arg-type]
    except NocturnaError as exc:
        raise HTTPException(422, f"frame {image_id!r} has no preview: {exc}") from None


Size = Annotated[int, Query(ge=16, le=4096, description="the longest side, in pixels")]
Stretch = Annotated[Literal["asinh", "zscale"], Query(description="how pixels map to grey")]


@router.get("/{image_id}/preview.jpg", summary="A JPEG preview, stretched",
            responses={200: {"content": {"image/jpeg": {}}}, 404: {}}, response_class=Response)
async def preview_jpeg(who: Viewer, link: Link, image_id: ImageId, size: Size = 1024,
                       stretch: Stretch = "asinh") -> Response:
    return Response(await run_in_threadpool(_preview, link, image_id, "JPEG", size, stretch),
                    media_type="image/jpeg")


@router.get("/{image_id}/preview.png", summary="A PNG preview, stretched",
            responses={200: {"content": {"image/png": {}}}, 404: {}}, response_class=Response)
async def preview_png(who: Viewer, link: Link, image_id: ImageId, size: Size = 1024,
                      stretch: Stretch = "asinh") -> Response:
    return Response(await run_in_threadpool(_preview, link, image_id, "PNG", size, stretch),
                    media_type="image/png")


@router.get("/{image_id}/fits", summary="The FITS file itself",
            responses={200: {"content": {"application/fits": {}}}, 404: {}},
            response_class=FileResponse)
async def fits_file(who: Viewer, link: Link, image_id: ImageId) -> FileResponse:
    path = await run_in_threadpool(lambda: _file(_row(link, image_id)))
    return FileResponse(path, media_type="application/fits", filename=path.name)
