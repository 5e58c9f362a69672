"""ImageArray downloads: ImageBytes of every element type, and the JSON fallback."""

from __future__ import annotations

import numpy as np
import pytest
from aiohttp import web

from nocturna.core.errors import InvalidOperationError, NocturnaError
from nocturna.devices.alpaca import imagebytes
from nocturna.devices.alpaca.imagebytes import ElementType
from nocturna.devices.alpaca.transport import lease

PATH = "/api/v1/camera/0/imagearray"

SAMPLES = {  # transmission type → values that need it
    ElementType.BYTE: [0, 7, 255],
    ElementType.INT16: [-32768, -1, 32767],
    ElementType.UINT16: [0, 1000, 65535],
    ElementType.INT32: [-(2**31), 5, 2**31 - 1],
    ElementType.UINT32: [0, 2**31, 2**32 - 1],
    ElementType.INT64: [-(2**63), 0, 2**62],
    ElementType.UINT64: [0, 2**63, 2**64 - 1],
    ElementType.SINGLE: [-1.5, 0.25, 3.0e38],
    ElementType.DOUBLE: [-1e300, 0.5, 1e-300],
}


def nocturna_image(kind: ElementType, planes: int = 0) -> np.ndarray:
    """A (y, x[, plane]) image of 3 rows and 5 columns holding ``kind``'s samples."""
    dtype = imagebytes.DTYPES[kind]
    values = np.resize(np.array(SAMPLES[kind], dtype=dtype), 15 * max(1, planes))
    shape = (3, 5, planes) if planes else (3, 5)
    image = values.reshape(shape).copy()
    image[0, 1, ...] = SAMPLES[kind][2]  # row 0, column 1: not symmetric
    return image


def imagebytes_body(image: np.ndarray, kind: ElementType, tid: int) -> bytes:
    """An ImageBytes body built by hand: ASCOM [x][y][plane] order, y fastest."""
    planes = image.shape[2] if image.ndim == 3 else 0
    head = imagebytes.HEADER.pack(1, 0, tid, 9, 44, int(ElementType.INT32), int(kind),
                                  3 if planes else 2, image.shape[1], image.shape[0], planes)
    ascom = image.transpose(1, 0, 2) if image.ndim == 3 else image.T
    return head + np.ascontiguousarray(ascom, dtype=imagebytes.DTYPES[kind]).tobytes()


def tid_of(seen) -> int:
    return int(seen.query["ClientTransactionID"])


def serve_imagebytes(fake, image, kind, *, chunked=False):
    def reply(seen):
        body = imagebytes_body(image, kind, tid_of(seen))
        if not chunked:
            return web.Response(body=body, content_type=imagebytes.MIME)

        async def stream():
            response = web.StreamResponse(headers={"Content-Type": imagebytes.MIME})
            response.enable_chunked_encoding()
            await response.prepare(seen.request)
            for start in range(0, len(body), 37):
                await response.write(body[start:start + 37])
            await response.write_eof()
            return response

        return stream()

    fake.reply = reply


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda k: k.name)
async def test_every_transmission_type_decodes_in_nocturna_orientation(fake_alpaca, kind):
    image = nocturna_image(kind)
    serve_imagebytes(fake_alpaca, image, kind)
    async with lease(fake_alpaca.address) as client:
        got = await client.get_image(PATH)
    assert got.imagebytes
    assert got.transmission_type == kind
    assert got.data.shape == (3, 5)
    assert got.data.dtype == imagebytes.DTYPES[kind]
    np.testing.assert_array_equal(got.data, image)
    assert got.data.flags.writeable


async def test_the_client_asks_for_imagebytes_then_json(fake_alpaca):
    serve_imagebytes(fake_alpaca, nocturna_image(ElementType.UINT16), ElementType.UINT16)
    async with lease(fake_alpaca.address) as client:
        await client.get_image(PATH)
    accept = fake_alpaca.requests[0].headers["Accept"]
    assert [a.strip() for a in accept.split(",")] == ["application/imagebytes",
                                                      "application/json"]


async def test_colour_images_keep_their_planes(fake_alpaca):
    image = nocturna_image(ElementType.UINT16, planes=3)
    serve_imagebytes(fake_alpaca, image, ElementType.UINT16)
    async with lease(fake_alpaca.address) as client:
        got = await client.get_image(PATH)
    assert got.data.shape == (3, 5, 3)
    np.testing.assert_array_equal(got.data, image)


async def test_a_body_without_content_length_is_read_whole(fake_alpaca):
    image = nocturna_image(ElementType.INT32)
    serve_imagebytes(fake_alpaca, image, ElementType.INT32, chunked=True)
    async with lease(fake_alpaca.address) as client:
        got = await client.get_image(PATH)
    np.testing.assert_array_equal(got.data, image)


async def test_an_imagebytes_error_body_raises_the_typed_error(fake_alpaca):
    fake_alpaca.reply = lambda seen: web.Response(
        body=imagebytes.error_response(0x40B, "no image yet",
                                       client_transaction_id=tid_of(seen),
                                       server_transaction_id=3),
        content_type=imagebytes.MIME)
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(InvalidOperationError, match="no image yet"):
            await client.get_image(PATH)


async def test_an_imagebytes_reply_to_another_transaction_is_refused(fake_alpaca):
    image = nocturna_image(ElementType.UINT16)
    fake_alpaca.reply = lambda seen: web.Response(
        body=imagebytes_body(image, ElementType.UINT16, tid_of(seen) + 1),
        content_type=imagebytes.MIME)
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError, match="ClientTransactionID"):
            await client.get_image(PATH)


async def test_a_truncated_imagebytes_body_is_an_error(fake_alpaca):
    image = nocturna_image(ElementType.UINT16)
    fake_alpaca.reply = lambda seen: web.Response(
        body=imagebytes_body(image, ElementType.UINT16, tid_of(seen))[:-2],
        content_type=imagebytes.MIME)
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError, match="data bytes"):
            await client.get_image(PATH)


@pytest.mark.parametrize(("kind", "dtype"), [(2, np.int32), (1, np.int32), (3, np.float64)])
async def test_the_json_form_is_the_fallback(fake_alpaca, kind, dtype):
    image = np.arange(15).reshape(3, 5) * (0.5 if kind == 3 else 7) - 20
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(seen, image.T.tolist(), Type=kind, Rank=2)
    async with lease(fake_alpaca.address) as client:
        got = await client.get_image(PATH)
    assert not got.imagebytes
    assert got.image_type == kind
    assert got.data.shape == (3, 5)
    assert got.data.dtype == dtype
    np.testing.assert_array_equal(got.data, image)


async def test_a_json_colour_image_keeps_its_planes(fake_alpaca):
    image = np.arange(45).reshape(3, 5, 3)
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(
        seen, image.transpose(1, 0, 2).tolist(), Type=2, Rank=3)
    async with lease(fake_alpaca.address) as client:
        got = await client.get_image(PATH)
    np.testing.assert_array_equal(got.data, image)


async def test_a_json_error_reply_to_an_image_request_raises_the_typed_error(fake_alpaca):
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(seen, None, ErrorNumber=0x40B,
                                                    ErrorMessage="camera busy")
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(InvalidOperationError, match="camera busy"):
            await client.get_image(PATH)


async def test_a_json_image_without_rank_is_an_error(fake_alpaca):
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(seen, [[1, 2]], Type=2)
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError, match="Rank"):
            await client.get_image(PATH)
