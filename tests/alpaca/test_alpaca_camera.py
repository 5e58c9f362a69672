"""Camera over nocturna's Alpaca server: exposures, the frame set member by member,
ImageArray as ImageBytes (header, x-major pixels, smallest type, error form) and JSON.

Every test runs on both event loops of ``EVENT_LOOPS`` (uvloop's is the CLI's): the
image replies are streamed, which is where their transports differ.
"""

from __future__ import annotations

import re

import httpx
import numpy as np
import pytest
import uvloop
from alpaca_server_helpers import (
    EVENT_LOOPS,
    FakeCamera,
    alpaca_body,
    error_number,
    ok,
    small_sim_camera,
    unit,
    wait_for,
)

from nocturna.alpaca.runner import start_in_thread
from nocturna.devices.alpaca import imagebytes
from nocturna.devices.alpaca.imagebytes import ElementType

IMAGEBYTES = {"Accept": "application/imagebytes"}
SIM = "/api/v1/camera/0"
FAKE = "/api/v1/camera/1"


@pytest.fixture(scope="module")
def fake() -> FakeCamera:
    return FakeCamera("fake", np.zeros((3, 4), np.uint16))


@pytest.fixture(scope="module", params=list(EVENT_LOOPS))
def server(request, fake):
    with start_in_thread(unit(small_sim_camera(), fake),
                         new_loop=EVENT_LOOPS[request.param]) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def sim(http):
    """The simulated camera, idle, full frame, unbinned."""
    ok(http.put(f"{SIM}/abortexposure"))
    for member, value in (("BinX", 1), ("BinY", 1), ("StartX", 0), ("StartY", 0),
                          ("NumX", 64), ("NumY", 48)):
        ok(http.put(f"{SIM}/{member.lower()}", data={member: str(value)}))
    return SIM


def expose(http, base: str, duration: float = 0.0, light: bool = False) -> None:
    ok(http.put(f"{base}/startexposure",
                data={"Duration": str(duration), "Light": str(light).lower()}))
    wait_for(lambda: ok(http.get(f"{base}/imageready")))


def show(http, fake: FakeCamera, data: np.ndarray) -> None:
    """Give the fake camera ``data`` (a new sensor size, so set the frame) and expose it."""
    fake.data = data
    ok(http.put(f"{FAKE}/numx", data={"NumX": str(data.shape[1])}))
    ok(http.put(f"{FAKE}/numy", data={"NumY": str(data.shape[0])}))
    expose(http, FAKE)


def test_the_server_runs_on_the_loop_it_was_given(request, server):
    loop_name = request.node.callspec.params["server"]
    assert isinstance(server.loop, uvloop.Loop) is (loop_name == "uvloop")


# ---------------------------------------------------------------- ImageBytes
def test_imagebytes_header_and_x_major_pixels(http, fake):
    data = np.arange(4 * 5, dtype=np.uint16).reshape(4, 5) * 1000  # (y, x), above 255
    show(http, fake, data)
    response = http.get(f"{FAKE}/imagearray", headers=IMAGEBYTES,
                        params={"ClientTransactionID": 77})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/imagebytes"
    body = response.content
    assert int(response.headers["content-length"]) == len(body) == 44 + data.size * 2
    meta = imagebytes.parse_header(body)
    assert (meta.version, meta.error_number, meta.client_transaction_id) == (1, 0, 77)
    assert meta.server_transaction_id >= 1 and meta.data_start == 44
    assert (meta.image_type, meta.transmission_type) == (ElementType.INT32, ElementType.UINT16)
    assert meta.rank == 2 and meta.dimensions == (5, 4, 0)  # NumX, NumY
    # x-major: the first NumY values are column x = 0, top to bottom
    pixels = np.frombuffer(body, "<u2", offset=44)
    assert pixels[:4].tolist() == data[:, 0].tolist()
    assert pixels.tolist() == data.T.ravel().tolist()
    _, decoded = imagebytes.decode(body)
    assert np.array_equal(decoded, data)


@pytest.mark.parametrize(("values", "dtype", "image", "sent"), [
    ([0, 255], np.uint16, ElementType.INT32, ElementType.BYTE),
    ([0, 65535], np.uint16, ElementType.INT32, ElementType.UINT16),
    ([-5, 300], np.int32, ElementType.INT32, ElementType.INT16),
    ([-5, 70000], np.int32, ElementType.INT32, ElementType.INT32),
    ([0.5, 2.25], np.float64, ElementType.DOUBLE, ElementType.DOUBLE),
])
def test_imagebytes_uses_the_smallest_lossless_type(http, fake, values, dtype, image, sent):
    data = np.array([values, values[::-1]], dtype=dtype)
    show(http, fake, data)
    body = http.get(f"{FAKE}/imagearray", headers=IMAGEBYTES).content
    meta, decoded = imagebytes.decode(body)
    assert (meta.image_type, meta.transmission_type) == (image, sent)
    assert len(body) == 44 + data.size * imagebytes.DTYPES[sent].itemsize
    assert np.array_equal(decoded, data)


def test_imagebytes_of_a_colour_image_is_rank_3(http, fake):
    data = np.arange(2 * 3 * 3, dtype=np.uint16).reshape(2, 3, 3)  # (y, x, plane)
    show(http, fake, data)
    meta, decoded = imagebytes.decode(http.get(f"{FAKE}/imagearrayvariant",
                                               headers=IMAGEBYTES).content)
    assert meta.rank == 3 and meta.dimensions == (3, 2, 3)
    assert np.array_equal(decoded, data)


def test_a_large_image_streams_whole(http, fake):
    rng = np.random.default_rng(5)
    data = rng.integers(0, 60000, size=(1500, 2000)).astype(np.uint16)
    show(http, fake, data)
    response = http.get(f"{FAKE}/imagearray",
                        headers={"Accept": "application/json, application/imagebytes"})
    _, decoded = imagebytes.decode(response.content)
    assert np.array_equal(decoded, data)


def test_errors_come_in_the_imagebytes_form_when_it_was_accepted(http, sim):
    response = http.get(f"{sim}/imagearray", headers=IMAGEBYTES,
                        params={"ClientTransactionID": 5})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/imagebytes"
    meta = imagebytes.parse_header(response.content)
    assert (meta.error_number, meta.client_transaction_id, meta.rank) == (0x40B, 5, 0)
    assert response.content[meta.data_start:].decode("utf-8") == "camera 'cam0': no image " \
                                                                 "is ready"
    with pytest.raises(Exception, match="no image"):
        imagebytes.decode(response.content)


def test_other_members_ignore_the_imagebytes_accept_header(http):
    assert ok(http.get(f"{SIM}/cameraxsize", headers=IMAGEBYTES)) == 64


# ---------------------------------------------------------------------- JSON
def test_json_image_array_is_x_major_with_type_and_rank(http, fake):
    data = np.arange(12, dtype=np.uint16).reshape(3, 4)
    show(http, fake, data)
    response = http.get(f"{FAKE}/imagearray", params={"ClientTransactionID": 3})
    body = alpaca_body(response)
    assert (body["Type"], body["Rank"], body["ErrorNumber"]) == (2, 2, 0)
    assert body["ClientTransactionID"] == 3
    assert body["Value"] == data.T.tolist()  # Value[x][y]


def test_json_image_array_of_a_colour_float_image(http, fake):
    data = np.linspace(0, 1, 2 * 3 * 3).reshape(2, 3, 3)
    show(http, fake, data)
    body = alpaca_body(http.get(f"{FAKE}/imagearrayvariant"))
    assert (body["Type"], body["Rank"]) == (3, 3)
    assert body["Value"] == data.transpose(1, 0, 2).tolist()


def test_json_errors_have_no_value(http, sim):
    assert error_number(http.get(f"{sim}/imagearray")) == 0x40B


# ----------------------------------------------------------------- exposures
def test_a_binned_subframe_exposure_end_to_end(http, sim):
    for member, value in (("BinX", 2), ("BinY", 2), ("StartX", 4), ("StartY", 2),
                          ("NumX", 20), ("NumY", 10)):
        ok(http.put(f"{sim}/{member.lower()}", data={member: str(value)}))
    assert ok(http.get(f"{sim}/numx")) == 20 and ok(http.get(f"{sim}/binx")) == 2
    expose(http, sim, 0.01)
    assert ok(http.get(f"{sim}/camerastate")) == 0
    assert ok(http.get(f"{sim}/percentcompleted")) == 100
    assert ok(http.get(f"{sim}/lastexposureduration")) == pytest.approx(0.01)
    start = ok(http.get(f"{sim}/lastexposurestarttime"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", start)
    meta, data = imagebytes.decode(http.get(f"{sim}/imagearray", headers=IMAGEBYTES).content)
    assert data.shape == (10, 20) and meta.dimensions == (20, 10, 0)
    value = alpaca_body(http.get(f"{sim}/imagearray"))["Value"]
    assert np.array_equal(np.array(value).T, data)


def test_a_frame_that_does_not_fit_is_refused_when_the_exposure_starts(http, sim):
    ok(http.put(f"{sim}/numx", data={"NumX": "65"}))  # accepted on its own
    response = http.put(f"{sim}/startexposure", data={"Duration": "0", "Light": "false"})
    assert error_number(response) == 0x401 and "NumX" in response.json()["ErrorMessage"]
    ok(http.put(f"{sim}/numx", data={"NumX": "64"}))
    ok(http.put(f"{sim}/binx", data={"BinX": "2"}))  # 64 columns do not fit binned 2×
    assert error_number(http.put(f"{sim}/startexposure",
                                 data={"Duration": "0", "Light": "false"})) == 0x401


@pytest.mark.parametrize(("member", "value"), [("BinX", "0"), ("BinY", "5"), ("NumX", "0"),
                                                ("StartY", "-1")])
def test_impossible_frame_values_are_refused_at_once(http, sim, member, value):
    assert error_number(http.put(f"{sim}/{member.lower()}", data={member: value})) == 0x401


def test_an_invalid_duration_is_0x401(http, sim):
    assert error_number(http.put(f"{sim}/startexposure",
                                 data={"Duration": "-1", "Light": "true"})) == 0x401


def test_last_exposure_values_before_any_exposure_are_0x402(http):
    with start_in_thread(unit(small_sim_camera())) as running, \
            httpx.Client(base_url=running.url) as client:
        assert error_number(client.get(f"{SIM}/lastexposureduration")) == 0x402
        assert error_number(client.get(f"{SIM}/lastexposurestarttime")) == 0x402


def test_a_busy_camera_refuses_another_exposure_with_0x40b(http, sim):
    ok(http.put(f"{sim}/startexposure", data={"Duration": "30", "Light": "false"}))
    assert ok(http.get(f"{sim}/camerastate")) == 2  # exposing
    assert error_number(http.put(f"{sim}/startexposure",
                                 data={"Duration": "1", "Light": "false"})) == 0x40B
    assert error_number(http.get(f"{sim}/imagearray")) == 0x40B


def test_the_image_of_an_aborted_exposure_is_0x40e(http, sim):
    ok(http.put(f"{sim}/startexposure", data={"Duration": "30", "Light": "false"}))
    ok(http.put(f"{sim}/abortexposure"))
    assert ok(http.get(f"{sim}/camerastate")) == 0
    assert ok(http.get(f"{sim}/imageready")) is False
    assert error_number(http.get(f"{sim}/imagearray")) == 0x40E
    meta = imagebytes.parse_header(http.get(f"{sim}/imagearray", headers=IMAGEBYTES).content)
    assert meta.error_number == 0x40E
    expose(http, sim)  # a new exposure clears it
    assert ok(http.get(f"{sim}/imageready")) is True


def test_stop_exposure_keeps_the_image(http, sim):
    ok(http.put(f"{sim}/startexposure", data={"Duration": "30", "Light": "false"}))
    ok(http.put(f"{sim}/stopexposure"))
    wait_for(lambda: ok(http.get(f"{sim}/imageready")))
    assert ok(http.get(f"{sim}/lastexposureduration")) < 30


# -------------------------------------------------------------- capabilities
def test_capabilities_and_settings(http, sim):
    assert ok(http.get(f"{sim}/cameraxsize")) == 64 and ok(http.get(f"{sim}/cameraysize")) == 48
    assert ok(http.get(f"{sim}/sensortype")) == 0
    assert ok(http.get(f"{sim}/readoutmodes")) == ["normal", "fast"]
    ok(http.put(f"{sim}/readoutmode", data={"ReadoutMode": "1"}))
    assert ok(http.get(f"{sim}/fastreadout")) is True
    assert error_number(http.put(f"{sim}/readoutmode", data={"ReadoutMode": "2"})) == 0x401
    ok(http.put(f"{sim}/fastreadout", data={"FastReadout": "false"}))
    assert ok(http.get(f"{sim}/readoutmode")) == 0
    ok(http.put(f"{sim}/gain", data={"Gain": "150"}))
    assert ok(http.get(f"{sim}/gain")) == 150
    assert ok(http.get(f"{sim}/gainmin")) == 0 and ok(http.get(f"{sim}/gainmax")) == 300
    assert error_number(http.get(f"{sim}/gains")) == 0x400  # numeric gains only
    assert error_number(http.put(f"{sim}/gain", data={"Gain": "999"})) == 0x401
    ok(http.put(f"{sim}/setccdtemperature", data={"SetCCDTemperature": "-10.5"}))
    assert ok(http.get(f"{sim}/setccdtemperature")) == -10.5
    ok(http.put(f"{sim}/cooleron", data={"CoolerOn": "true"}))
    assert ok(http.get(f"{sim}/cooleron")) is True
    assert 0 <= ok(http.get(f"{sim}/coolerpower")) <= 100
    assert error_number(http.get(f"{sim}/bayeroffsetx")) == 0x400  # monochrome


def test_false_can_flags_make_their_members_0x400(http):
    assert ok(http.get(f"{FAKE}/canabortexposure")) is False
    assert error_number(http.put(f"{FAKE}/abortexposure")) == 0x400
    assert ok(http.get(f"{FAKE}/canstopexposure")) is False
    assert error_number(http.put(f"{FAKE}/stopexposure")) == 0x400
    assert ok(http.get(f"{FAKE}/canpulseguide")) is False
    assert error_number(http.put(f"{FAKE}/pulseguide",
                                 data={"Direction": "0", "Duration": "10"})) == 0x400
    assert error_number(http.get(f"{FAKE}/ispulseguiding")) == 0x400
    assert ok(http.get(f"{FAKE}/cangetcoolerpower")) is False
    assert error_number(http.get(f"{FAKE}/coolerpower")) == 0x400
    assert ok(http.get(f"{FAKE}/cansetccdtemperature")) is False
    assert error_number(http.get(f"{FAKE}/setccdtemperature")) == 0x400
    assert ok(http.get(f"{FAKE}/canfastreadout")) is False
    assert error_number(http.get(f"{FAKE}/fastreadout")) == 0x400
    assert error_number(http.get(f"{FAKE}/gain")) == 0x400
