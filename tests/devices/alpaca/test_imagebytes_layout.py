"""ImageBytes pixel order: the bytes :func:`imagebytes.chunks` emits are, byte for byte,
the layout the ImageBytes paper gives, whatever the element type, shape or block size."""

from __future__ import annotations

import numpy as np
import pytest

from nocturna.devices.alpaca import imagebytes
from nocturna.devices.alpaca.imagebytes import DTYPES, ElementType


def spec_layout(image: np.ndarray, kind: ElementType) -> bytes:
    """Element (x, y[, p]) of ImageArray[x][y][p] at index (x·NumY + y)·planes + p,
    little-endian: built by index arithmetic, not by a transpose."""
    num_y, num_x = image.shape[:2]
    planes = image.shape[2] if image.ndim == 3 else 1
    flat = np.empty(num_x * num_y * planes, dtype=DTYPES[kind])
    y, x, p = np.meshgrid(np.arange(num_y), np.arange(num_x), np.arange(planes),
                          indexing="ij")
    cube = image.reshape(num_y, num_x, planes)
    flat[(x * num_y + y) * planes + p] = cube[y, x, p]
    return flat.tobytes()


SHAPES = [(1, 1), (3, 5), (5, 3), (257, 300), (513, 7), (7, 513), (300, 257, 3), (2, 9, 4)]
KINDS = [ElementType.BYTE, ElementType.INT16, ElementType.UINT16, ElementType.INT32,
         ElementType.SINGLE, ElementType.DOUBLE, ElementType.INT64]


def image_of(shape: tuple[int, ...], kind: ElementType, seed: int) -> np.ndarray:
    info = np.iinfo(DTYPES[kind]) if DTYPES[kind].kind in "iu" else None
    rng = np.random.default_rng(seed)
    if info is None:
        return rng.normal(0, 1e3, shape).astype(DTYPES[kind])
    return rng.integers(info.min, info.max, shape, dtype=DTYPES[kind], endpoint=True)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
@pytest.mark.parametrize("chunk_bytes", [1, 1000, 1 << 21])
def test_chunks_are_the_spec_layout_byte_for_byte(shape, kind, chunk_bytes):
    image = image_of(shape, kind, seed=len(shape) * 31 + shape[0])
    blocks = list(imagebytes.chunks(image, kind, chunk_bytes=chunk_bytes))
    assert b"".join(blocks) == spec_layout(image, kind)
    assert all(isinstance(block, memoryview) and block.format == "B" for block in blocks)


def test_a_wider_source_is_narrowed_to_the_transmission_type():
    image = np.arange(600 * 301, dtype=np.int64).reshape(600, 301) % 65536
    sent = b"".join(imagebytes.chunks(image, ElementType.UINT16, chunk_bytes=4096))
    assert sent == spec_layout(image.astype(np.uint16), ElementType.UINT16)


def test_a_non_contiguous_view_is_sent_as_its_values():
    base = image_of((400, 600), ElementType.UINT16, seed=5)
    view = base[::2, 1::3]
    sent = b"".join(imagebytes.chunks(view, ElementType.UINT16, chunk_bytes=5000))
    assert sent == spec_layout(np.ascontiguousarray(view), ElementType.UINT16)


def test_every_block_has_a_buffer_of_its_own():
    image = image_of((300, 40), ElementType.UINT16, seed=9)
    blocks = list(imagebytes.chunks(image, ElementType.UINT16, chunk_bytes=600))
    copies = [bytes(block) for block in blocks]  # read after all were made
    assert len(blocks) > 1 and b"".join(copies) == spec_layout(image, ElementType.UINT16)


@pytest.mark.parametrize("shape", [(3, 5), (300, 257, 3)], ids=["2d", "colour"])
def test_decode_gives_back_the_image(shape):
    image = image_of(shape, ElementType.UINT16, seed=3)
    sent = ElementType.UINT16
    head = imagebytes.header(client_transaction_id=1, server_transaction_id=2,
                             image_type=ElementType.INT32, transmission_type=sent,
                             dimensions=imagebytes.ascom_shape(image))
    body = bytearray(head + b"".join(imagebytes.chunks(image, sent, chunk_bytes=777)))
    _, decoded = imagebytes.decode(body)
    assert len(body) == imagebytes.HEADER_SIZE + image.nbytes
    np.testing.assert_array_equal(decoded, image)
