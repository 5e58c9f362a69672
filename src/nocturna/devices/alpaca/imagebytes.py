"""The Alpaca ImageBytes format, and the JSON ImageArray form, both ways.

An ImageBytes response is a 44-byte little-endian header (metadata version 1, error
number, client and server transaction ids, data offset, image and transmission
element types, rank, three dimensions) followed either by the pixels or, when the
error number is not 0, by the UTF-8 error message.

ASCOM image arrays are indexed ``[x][y]`` (``[x][y][plane]`` for colour) and
serialised row-major, so y varies fastest; nocturna's arrays are ``(y, x)`` (and
``(y, x, plane)``), the numpy and FITS order. :func:`chunks` therefore emits column
blocks of the nocturna array, transposed and converted tile by tile, and
:func:`decode` returns a transposed *view* of the received buffer (no copy).

Integer images are sent in the smallest element type that holds every value without
loss (Byte, then UInt16 or Int16, else Int32), as the ImageBytes paper prescribes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from nocturna.core.errors import InvalidValueError, NocturnaError

MIME = "application/imagebytes"
METADATA_VERSION = 1
HEADER = struct.Struct("<iiIIiiiiiii")
HEADER_SIZE = HEADER.size  # 44


class ElementType(IntEnum):
    """ImageArrayElementTypes of the ImageBytes paper."""

    UNKNOWN = 0
    INT16 = 1
    INT32 = 2
    DOUBLE = 3
    SINGLE = 4
    UINT64 = 5
    BYTE = 6
    INT64 = 7
    UINT16 = 8
    UINT32 = 9


DTYPES: dict[ElementType, np.dtype[Any]] = {
    ElementType.INT16: np.dtype("<i2"),
    ElementType.INT32: np.dtype("<i4"),
    ElementType.DOUBLE: np.dtype("<f8"),
    ElementType.SINGLE: np.dtype("<f4"),
    ElementType.UINT64: np.dtype("<u8"),
    ElementType.BYTE: np.dtype("u1"),
    ElementType.INT64: np.dtype("<i8"),
    ElementType.UINT16: np.dtype("<u2"),
    ElementType.UINT32: np.dtype("<u4"),
}


@dataclass(frozen=True)
class Metadata:
    """The decoded 44-byte header."""

    version: int
    error_number: int
    client_transaction_id: int
    server_transaction_id: int
    data_start: int
    image_type: ElementType
    transmission_type: ElementType
    rank: int
    dimensions: tuple[int, int, int]


def element_types(data: np.ndarray) -> tuple[ElementType, ElementType]:
    """(image element type, smallest lossless transmission type) for an image."""
    if data.dtype.kind == "f":
        kind = ElementType.DOUBLE if data.dtype.itemsize > 4 else ElementType.SINGLE
        return ElementType.DOUBLE, kind
    if data.dtype.kind not in "iub":
        raise InvalidValueError(f"an image must hold numbers, not {data.dtype}")
    if data.size == 0:
        return ElementType.INT32, ElementType.INT32
    high = int(data.max())
    low = 0 if data.dtype.kind in "ub" else int(data.min())  # unsigned: no second pass
    if low >= 0 and high <= 0xFF:
        return ElementType.INT32, ElementType.BYTE
    if low >= 0 and high <= 0xFFFF:
        return ElementType.INT32, ElementType.UINT16
    if low >= -0x8000 and high <= 0x7FFF:
        return ElementType.INT32, ElementType.INT16
    if low >= -0x8000_0000 and high <= 0x7FFF_FFFF:
        return ElementType.INT32, ElementType.INT32
    return ElementType.INT64, ElementType.INT64


def ascom_shape(data: np.ndarray) -> tuple[int, int, int]:
    """The ASCOM dimensions (NumX, NumY, planes or 0) of a nocturna image."""
    if data.ndim == 2:
        return data.shape[1], data.shape[0], 0
    if data.ndim == 3:
        return data.shape[1], data.shape[0], data.shape[2]
    raise InvalidValueError(f"an image has 2 or 3 dimensions, not {data.ndim}")


def header(*, client_transaction_id: int, server_transaction_id: int,
           image_type: ElementType, transmission_type: ElementType,
           dimensions: tuple[int, int, int], error_number: int = 0) -> bytes:
    rank = 0 if error_number else (3 if dimensions[2] else 2)
    return HEADER.pack(METADATA_VERSION, error_number, client_transaction_id,
                       server_transaction_id, HEADER_SIZE, int(image_type),
                       int(transmission_type), rank, *dimensions)


def error_response(number: int, message: str, *, client_transaction_id: int,
                   server_transaction_id: int) -> bytes:
    """The complete ImageBytes body for a failed request."""
    head = header(client_transaction_id=client_transaction_id,
                  server_transaction_id=server_transaction_id,
                  image_type=ElementType.UNKNOWN, transmission_type=ElementType.UNKNOWN,
                  dimensions=(0, 0, 0), error_number=number)
    return head + message.encode("utf-8")


TILE_ROWS = 256
"""Rows of the source read per tile when transposing: a tile of a column block and its
transposed copy stay in the CPU cache (about twice as fast as one strided copy)."""


def chunks(data: np.ndarray, transmission_type: ElementType, *,
           chunk_bytes: int = 1 << 21) -> Iterator[memoryview]:
    """The pixel bytes of a nocturna image in ImageBytes order, in blocks of about
    ``chunk_bytes``: each block holds whole columns (x) of the image, transposed and
    converted tile by tile into a new buffer of its own (so a block handed to a
    transport is never overwritten)."""
    dtype = DTYPES[transmission_type]
    num_y, num_x = data.shape[:2]
    planes = data.shape[2:]
    column_bytes = max(1, num_y * (planes[0] if planes else 1) * dtype.itemsize)
    step = max(1, chunk_bytes // column_bytes)
    axes = (1, 0, 2) if planes else (1, 0)
    for x0 in range(0, num_x, step):
        x1 = min(num_x, x0 + step)
        block = np.empty((x1 - x0, num_y, *planes), dtype=dtype)
        for y0 in range(0, num_y, TILE_ROWS):
            y1 = min(num_y, y0 + TILE_ROWS)
            block[:, y0:y1] = data[y0:y1, x0:x1].transpose(axes)
        yield memoryview(block).cast("B")


def parse_header(buffer: bytes | bytearray | memoryview) -> Metadata:
    """The metadata at the start of an ImageBytes body (:class:`NocturnaError` if bad)."""
    if len(buffer) < HEADER_SIZE:
        raise NocturnaError(f"ImageBytes body of {len(buffer)} bytes is shorter than its "
                            f"{HEADER_SIZE}-byte header")
    values = HEADER.unpack_from(buffer, 0)
    version, error, client_id, server_id, start, image, sent, rank, d1, d2, d3 = values
    if version != METADATA_VERSION:
        raise NocturnaError(f"ImageBytes metadata version {version} is not supported (1 is)")
    try:
        image_type, transmission_type = ElementType(image), ElementType(sent)
    except ValueError:
        raise NocturnaError(f"ImageBytes element types {image}/{sent} are unknown") from None
    if not HEADER_SIZE <= start <= len(buffer):
        raise NocturnaError(f"ImageBytes data start {start} is outside the body")
    return Metadata(version, error, client_id, server_id, start, image_type,
                    transmission_type, rank, (d1, d2, d3))


def decode(buffer: bytes | bytearray | memoryview) -> tuple[Metadata, np.ndarray]:
    """The metadata and the image (nocturna orientation, a view of ``buffer``).

    A body carrying an error raises the typed error for its number.
    """
    from nocturna.core.errors import error_for_number

    meta = parse_header(buffer)
    if meta.error_number:
        message = bytes(buffer[meta.data_start:]).decode("utf-8", errors="replace")
        raise error_for_number(meta.error_number, message)
    if meta.rank not in (2, 3) or meta.transmission_type not in DTYPES:
        raise NocturnaError(f"ImageBytes rank {meta.rank} / transmission type "
                            f"{meta.transmission_type.name} cannot be decoded")
    dtype = DTYPES[meta.transmission_type]
    shape = meta.dimensions[:meta.rank]
    count = int(np.prod(shape))
    if len(buffer) - meta.data_start != count * dtype.itemsize:
        raise NocturnaError(f"ImageBytes body holds {len(buffer) - meta.data_start} data bytes, "
                            f"expected {count * dtype.itemsize} for {shape} {dtype.name}")
    array = np.frombuffer(buffer, dtype=dtype, count=count, offset=meta.data_start)
    array = array.reshape(shape)
    return meta, (array.T if meta.rank == 2 else array.transpose(1, 0, 2))


def from_json_value(value: list[Any], rank: int, element_type: int) -> np.ndarray:
    """A nocturna image from the JSON ImageArray ``Value`` (``[x][y]`` lists)."""
    dtype = np.float64 if element_type == ElementType.DOUBLE else np.int64
    array = np.asarray(value, dtype=dtype)
    if array.ndim != rank:
        raise NocturnaError(f"JSON image array has rank {array.ndim}, its Rank says {rank}")
    if dtype is np.int64 and array.size and array.min() >= -0x8000_0000 \
            and array.max() <= 0x7FFF_FFFF:
        array = array.astype(np.int32)
    return array.T if rank == 2 else array.transpose(1, 0, 2)
