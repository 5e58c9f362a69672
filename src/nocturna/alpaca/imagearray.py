"""Sending ``ImageArray`` / ``ImageArrayVariant``: ImageBytes or JSON, streamed.

The camera handlers return an :class:`ImageReply`; the server sends it as ImageBytes
(``application/imagebytes``: the 44-byte header, then the pixels x-major in the
smallest lossless transmission type, Content-Length known up front) when the client's
``Accept`` header includes ``application/imagebytes``, otherwise as JSON
``{"Type", "Rank", "Value": [[...]], ...}`` (chunked). Either way the body is produced
in blocks of columns by a worker thread, never on the event loop, and the next block
is computed while the previous one is being sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from nocturna.alpaca.responses import encode
from nocturna.core.errors import InvalidValueError
from nocturna.devices.alpaca import imagebytes

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]

IMAGEBYTES_TYPE = imagebytes.MIME.encode()
CHUNK_BYTES = 1 << 20
JSON_CHUNK_ELEMENTS = 1 << 18


@dataclass(frozen=True, slots=True)
class ImageReply:
    """An image to send (nocturna orientation: ``(y, x)`` or ``(y, x, plane)``)."""

    data: np.ndarray


def accepts_imagebytes(headers: list[tuple[bytes, bytes]]) -> bool:
    """True if the request's ``Accept`` header includes ``application/imagebytes``."""
    return any(key == b"accept" and IMAGEBYTES_TYPE in value.lower() for key, value in headers)


def error_body(number: int, message: str, client_id: int, server_id: int) -> bytes:
    """A failed ImageArray request in the ImageBytes form."""
    return imagebytes.error_response(number, message or "error",
                                     client_transaction_id=client_id,
                                     server_transaction_id=server_id)


async def _pipeline(send: Send, blocks: Iterator[bytes]) -> None:
    """Send every block, computing the next one in a worker thread meanwhile."""
    loop = asyncio.get_running_loop()
    pending = loop.run_in_executor(None, next, blocks, None)
    try:
        while (block := await pending) is not None:
            pending = loop.run_in_executor(None, next, blocks, None)
            await send({"type": "http.response.body", "body": block, "more_body": True})
    finally:
        if not pending.done():
            pending.cancel()
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _prepare_imagebytes(data: np.ndarray, client_id: int, server_id: int
                        ) -> tuple[bytes, imagebytes.ElementType, int]:
    image_type, transmission = imagebytes.element_types(data)
    head = imagebytes.header(client_transaction_id=client_id, server_transaction_id=server_id,
                             image_type=image_type, transmission_type=transmission,
                             dimensions=imagebytes.ascom_shape(data))
    size = imagebytes.HEADER_SIZE + data.size * imagebytes.DTYPES[transmission].itemsize
    return head, transmission, size


async def send_imagebytes(send: Send, reply: ImageReply, client_id: int,
                          server_id: int) -> None:
    data = reply.data
    head, transmission, size = await asyncio.to_thread(_prepare_imagebytes, data, client_id,
                                                       server_id)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", IMAGEBYTES_TYPE),
                            (b"content-length", str(size).encode())]})
    await send({"type": "http.response.body", "body": head, "more_body": True})
    await _pipeline(send, imagebytes.chunks(data, transmission, chunk_bytes=CHUNK_BYTES))


def json_element_type(data: np.ndarray) -> int:
    """The JSON ``Type``: 2 (Int32) for integer images, 3 (Double) for others."""
    return 3 if data.dtype.kind == "f" else 2


def _json_blocks(data: np.ndarray, tail: str) -> Iterator[bytes]:
    """The ``Value`` array's items (x-major), comma-separated, then ``tail``."""
    num_x = data.shape[1]
    per_column = max(1, data.size // max(1, num_x))
    step = max(1, JSON_CHUNK_ELEMENTS // per_column)
    for x0 in range(0, num_x, step):
        block = data[:, x0:x0 + step]
        block = block.transpose(1, 0, 2) if block.ndim == 3 else block.T
        text = encode(block.tolist())[1:-1]
        yield (text if x0 == 0 else "," + text).encode()
    yield tail.encode()


async def send_json_image(send: Send, reply: ImageReply, client_id: int,
                          server_id: int) -> None:
    data = reply.data
    if data.ndim not in (2, 3):
        raise InvalidValueError(f"an image has 2 or 3 dimensions, not {data.ndim}")
    if data.dtype.kind == "f" and not await asyncio.to_thread(
            lambda: bool(np.isfinite(data).all())):
        raise InvalidValueError("the image holds NaN or infinite pixels, which JSON cannot "
                                "carry; ask for application/imagebytes")
    head = (f'{{"Type":{json_element_type(data)},"Rank":{data.ndim},'
            f'"ClientTransactionID":{client_id},"ServerTransactionID":{server_id},'
            f'"ErrorNumber":0,"ErrorMessage":"","Value":[')
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json; charset=utf-8")]})
    await send({"type": "http.response.body", "body": head.encode(), "more_body": True})
    await _pipeline(send, _json_blocks(data, "]}"))
