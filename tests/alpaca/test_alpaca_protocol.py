"""The Alpaca protocol rules of nocturna's server, over real HTTP on 127.0.0.1:
paths and 400s, parameters, transaction ids, error numbers, management, setup pages.

The server runs on the loop ``nocturna alpaca serve`` uses (uvloop's); the tests marked
``ON_BOTH_LOOPS`` (each kind of reply: 400 text, JSON after a form body, background
work after the reply, HTML) run on asyncio's own loop as well.
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
    fast_mount,
    ok,
    rejected,
    small_sim_camera,
    unit,
    wait_for,
)

from nocturna.alpaca.app import operations_for
from nocturna.alpaca.kinds import handlers_for
from nocturna.alpaca.members import KINDS, table
from nocturna.alpaca.registry import unique_id
from nocturna.alpaca.responses import encode, success
from nocturna.alpaca.runner import AlpacaServer, check_host, start_in_thread
from nocturna.core.errors import InvalidValueError
from nocturna.core.listen import loop_factory

FAKE_NAME = "fake<cam>&"


ON_BOTH_LOOPS = pytest.mark.parametrize("server", list(EVENT_LOOPS), indirect=True)


@pytest.fixture(scope="module")
def server(request):
    """The server on the CLI's loop, or on ``request.param`` (see ON_BOTH_LOOPS)."""
    mount = fast_mount()
    devices = unit(small_sim_camera(mount=mount),
                   FakeCamera(FAKE_NAME, np.arange(12, dtype=np.uint16).reshape(3, 4)),
                   FakeCamera("broken", np.zeros((2, 2), np.uint16), broken=True),
                   mount=mount)
    new_loop = EVENT_LOOPS[request.param] if hasattr(request, "param") else None
    with start_in_thread(devices, unit="test-unit", location="Test <site>",
                         new_loop=new_loop) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def test_by_default_the_server_runs_on_the_loop_the_cli_uses(server):
    assert loop_factory() is uvloop.new_event_loop  # what `nocturna alpaca serve` runs
    assert isinstance(server.loop, uvloop.Loop)


# ------------------------------------------------------------------- paths
@pytest.mark.parametrize("path", [
    "/apii/v1/telescope/0/altitude",  # bad root
    "/API/V1/TELESCOPE/0/CANSLEW",  # upper case
    "/api/v2/telescope/0/altitude",  # version
    "/api/1/telescope/0/altitude",
    "/api/v1/telescop/0/altitude",  # device type
    "/api/v1/Telescope/0/altitude",
    "/api/v1/telescope/1/altitude",  # device number not configured
    "/api/v1/rotator/0/position",  # a device type with no device
    "/api/v1/telescope/-1/altitude",  # not a non-negative integer
    "/api/v1/telescope/x/altitude",
    "/api/v1/telescope/99999999999999999999999/altitude",
    "/api/v1/telescope/0/altitudes",  # member
    "/api/v1/telescope/0/Altitude",
    "/api/v1/camera/0/canslew",  # a member of another type
    "/api/v1/telescope/0",  # too short / too long
    "/api/v1/telescope/0/altitude/",
    "/",
    "/favicon.ico",
    "/management/v2/description",
    "/management/v1/nothing",
])
def test_bad_paths_are_http_400_with_a_plain_text_reason(http, path):
    rejected(http.get(path))


@ON_BOTH_LOOPS
def test_the_reason_names_what_was_wrong(http):
    assert "v2" in rejected(http.get("/api/v1/telescope/0/altitude".replace("v1", "v2")))
    assert "telescop'" in rejected(http.get("/api/v1/telescop/0/altitude"))
    assert "number 1" in rejected(http.get("/api/v1/telescope/1/altitude"))
    assert "altitudes" in rejected(http.get("/api/v1/telescope/0/altitudes"))


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/api/v1/telescope/0/altitude"),  # GET-only property
    ("GET", "/api/v1/telescope/0/park"),  # PUT-only method
    ("POST", "/api/v1/telescope/0/altitude"),
    ("DELETE", "/api/v1/camera/0/binx"),
    ("PUT", "/management/apiversions"),
])
def test_methods_a_member_does_not_have_are_http_400(http, method, path):
    text = rejected(http.request(method, path))
    assert method in text


def test_a_device_number_with_leading_zeros_is_the_same_device(http):
    assert ok(http.get("/api/v1/camera/01/name")) == FAKE_NAME


# -------------------------------------------------------------- parameters
def test_get_query_keys_are_case_insensitive(http):
    for key in ("Axis", "axis", "AXIS"):
        rates = ok(http.get("/api/v1/telescope/0/axisrates", params={key: 0}))
        assert rates and set(rates[0]) == {"Minimum", "Maximum"}
    for key in ("ClientTransactionID", "clienttransactionid", "CLIENTTRANSACTIONID"):
        body = alpaca_body(http.get("/api/v1/telescope/0/name", params={key: 42}))
        assert body["ClientTransactionID"] == 42


@ON_BOTH_LOOPS
def test_put_form_keys_are_case_sensitive(http):
    text = rejected(http.put("/api/v1/telescope/0/targetdeclination",
                             data={"targetdeclination": "10"}))
    assert "TargetDeclination" in text
    rejected(http.put("/api/v1/camera/0/binx", data={"BINX": "1"}))
    ok(http.put("/api/v1/camera/0/binx", data={"BinX": "1"}))


def test_parameters_in_the_query_of_a_put_do_not_count(http):
    rejected(http.put("/api/v1/camera/0/binx", params={"BinX": "1"}))


@pytest.mark.parametrize(("method", "path", "params"), [
    ("GET", "/api/v1/telescope/0/axisrates", {}),
    ("PUT", "/api/v1/camera/0/startexposure", {"Duration": "1"}),
    ("PUT", "/api/v1/telescope/0/slewtocoordinatesasync", {"RightAscension": "1"}),
    ("PUT", "/api/v1/telescope/0/tracking", {}),
])
def test_a_missing_required_parameter_is_http_400(http, method, path, params):
    kwargs = {"params": params} if method == "GET" else {"data": params}
    assert "missing" in rejected(http.request(method, path, **kwargs))


@pytest.mark.parametrize(("method", "path", "params"), [
    ("GET", "/api/v1/telescope/0/axisrates", {"Axis": "abc"}),
    ("GET", "/api/v1/telescope/0/axisrates", {"Axis": "1.5"}),
    ("GET", "/api/v1/telescope/0/axisrates", {"Axis": "9999999999"}),
    ("GET", "/api/v1/telescope/0/axisrates", {"Axis": ""}),
    ("PUT", "/api/v1/camera/0/startexposure", {"Duration": "1,5", "Light": "true"}),
    ("PUT", "/api/v1/camera/0/startexposure", {"Duration": "1.5", "Light": "yes"}),
    ("PUT", "/api/v1/camera/0/startexposure", {"Duration": "1e999", "Light": "true"}),
    ("PUT", "/api/v1/camera/0/startexposure", {"Duration": "NaN", "Light": "true"}),
    ("PUT", "/api/v1/camera/0/startexposure", {"Duration": "1_000", "Light": "true"}),
    ("PUT", "/api/v1/telescope/0/siteelevation", {"SiteElevation": " 12"}),
])
def test_a_value_that_does_not_parse_is_http_400(http, method, path, params):
    kwargs = {"params": params} if method == "GET" else {"data": params}
    text = rejected(http.request(method, path, **kwargs))
    assert next(iter(params)) in text or "Light" in text


def test_booleans_are_true_or_false_in_any_case(http):
    for text, expected in (("TRUE", True), ("False", False), ("tRuE", True),
                           ("false", False)):
        ok(http.put("/api/v1/telescope/0/doesrefraction", data={"DoesRefraction": text}))
        assert ok(http.get("/api/v1/telescope/0/doesrefraction")) is expected


def test_numbers_use_the_invariant_culture(http):
    ok(http.put("/api/v1/telescope/0/siteelevation", data={"SiteElevation": "3400.5"}))
    assert ok(http.get("/api/v1/telescope/0/siteelevation")) == 3400.5
    ok(http.put("/api/v1/telescope/0/siteelevation", data={"SiteElevation": "3.4e3"}))
    assert ok(http.get("/api/v1/telescope/0/siteelevation")) == 3400.0


def test_unknown_parameters_are_ignored(http):
    assert ok(http.get("/api/v1/telescope/0/axisrates",
                       params={"Axis": 0, "Colour": "blue", "ClientID": 3}))
    ok(http.put("/api/v1/camera/0/binx", data={"BinX": "1", "Extra": "x"}))


# --------------------------------------------------------- transaction ids
@ON_BOTH_LOOPS
def test_the_client_transaction_id_is_echoed_everywhere(http):
    assert alpaca_body(http.get("/api/v1/telescope/0/name",
                                params={"ClientTransactionID": 7}))["ClientTransactionID"] == 7
    put = alpaca_body(http.put("/api/v1/camera/0/binx",
                               data={"BinX": "1", "ClientID": "1", "ClientTransactionID": "8"}))
    assert put["ClientTransactionID"] == 8
    failed = http.get("/api/v1/camera/1/lastexposureduration",
                      params={"ClientTransactionID": 9})
    assert error_number(failed) and failed.json()["ClientTransactionID"] == 9
    management = http.get("/management/v1/description", params={"ClientTransactionID": 10})
    assert alpaca_body(management)["ClientTransactionID"] == 10
    assert alpaca_body(http.get("/api/v1/telescope/0/name",
                                params={"ClientTransactionID": 4294967295}))[
        "ClientTransactionID"] == 4294967295


@pytest.mark.parametrize("given", [None, "abc", "-1", "4294967296", "1.5", ""])
def test_a_missing_or_invalid_client_transaction_id_is_echoed_as_0(http, given):
    params = {} if given is None else {"ClientTransactionID": given}
    body = alpaca_body(http.get("/api/v1/telescope/0/name", params=params))
    assert body["ClientTransactionID"] == 0 and body["ErrorNumber"] == 0


def test_the_server_transaction_id_increases_by_one_per_request(http):
    ids = [alpaca_body(http.get("/api/v1/telescope/0/name"))["ServerTransactionID"]
           for _ in range(3)]
    ids.append(alpaca_body(http.put("/api/v1/camera/0/binx",
                                    data={"BinX": "1"}))["ServerTransactionID"])
    ids.append(alpaca_body(http.get("/management/apiversions"))["ServerTransactionID"])
    assert ids == list(range(ids[0], ids[0] + 5)) and ids[0] >= 1


# ----------------------------------------------------------------- replies
def test_a_property_reply_has_a_value_and_a_method_reply_has_none(http):
    body = alpaca_body(http.get("/api/v1/telescope/0/name"))
    assert body["Value"] == "mount0" and body["ErrorMessage"] == ""
    assert "Value" not in alpaca_body(http.put("/api/v1/camera/0/binx", data={"BinX": "1"}))


def test_numpy_values_are_sent_as_plain_json_and_nan_is_refused():
    body = success({"n": np.int64(3), "x": np.float32(1.5), "a": np.arange(2)}, 4, 5,
                   has_value=True)
    assert body == (b'{"Value":{"n":3,"x":1.5,"a":[0,1]},"ClientTransactionID":4,'
                    b'"ServerTransactionID":5,"ErrorNumber":0,"ErrorMessage":""}')
    with pytest.raises(ValueError):
        encode(float("nan"))


def test_identity_members(http):
    assert ok(http.get("/api/v1/camera/0/name")) == "cam0"
    assert ok(http.get("/api/v1/camera/0/interfaceversion")) == 4  # ICameraV4 (Platform 7)
    assert ok(http.get("/api/v1/telescope/0/interfaceversion")) == 4
    assert "sim" in ok(http.get("/api/v1/camera/0/driverinfo"))
    assert isinstance(ok(http.get("/api/v1/camera/0/driverversion")), str)
    assert isinstance(ok(http.get("/api/v1/camera/0/description")), str)
    assert ok(http.get("/api/v1/camera/0/supportedactions")) == []


def test_device_state_lists_operational_properties_and_a_time_stamp(http):
    items = ok(http.get("/api/v1/telescope/0/devicestate"))
    names = [item["Name"] for item in items]
    assert names[-1] == "TimeStamp" and {"RightAscension", "AtPark", "Slewing"} <= set(names)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", items[-1]["Value"])
    camera = {item["Name"]: item["Value"] for item in ok(http.get("/api/v1/camera/0/devicestate"))}
    assert camera["CameraState"] in range(6) and isinstance(camera["ImageReady"], bool)


# ------------------------------------------------------------ error numbers
def test_not_implemented_is_0x400(http):
    assert error_number(http.get("/api/v1/camera/0/subexposureduration")) == 0x400
    assert error_number(http.put("/api/v1/camera/0/commandblind",
                                 data={"Command": "x", "Raw": "false"})) == 0x400
    assert ok(http.get("/api/v1/telescope/0/canslew")) is False
    assert error_number(http.put("/api/v1/telescope/0/slewtocoordinates",
                                 data={"RightAscension": "1", "Declination": "1"})) == 0x400


def test_an_invalid_value_is_0x401(http):
    # the API reference's own example
    response = http.put("/api/v1/telescope/0/siteelevation",
                        data={"SiteElevation": "-400", "ClientTransactionID": "23"})
    assert error_number(response) == 0x401
    assert "-300" in response.json()["ErrorMessage"]
    assert error_number(http.put("/api/v1/camera/0/binx", data={"BinX": "9"})) == 0x401


def test_a_value_not_set_is_0x402(http):
    assert error_number(http.get("/api/v1/telescope/0/targetrightascension")) == 0x402


def test_an_unknown_action_is_0x40c(http):
    assert error_number(http.put("/api/v1/camera/0/action",
                                 data={"Action": "dance", "Parameters": ""})) == 0x40C


def test_an_unexpected_exception_is_0x500_with_http_200(http):
    response = http.get("/api/v1/camera/2/camerastate")
    assert error_number(response) == 0x500
    assert "firmware crashed" in response.json()["ErrorMessage"]


def test_a_disconnected_device_answers_0x407_except_identity_and_connection(http):
    base = "/api/v1/camera/1"
    ok(http.put(f"{base}/connected", data={"Connected": "false"}))
    try:
        assert ok(http.get(f"{base}/connected")) is False
        for member in ("camerastate", "cameraxsize", "devicestate", "imageready"):
            assert error_number(http.get(f"{base}/{member}")) == 0x407
        assert error_number(http.put(f"{base}/startexposure",
                                     data={"Duration": "0", "Light": "true"})) == 0x407
        assert error_number(http.put(f"{base}/action",
                                     data={"Action": "x", "Parameters": ""})) == 0x407
        for member in ("name", "description", "driverinfo", "driverversion",
                       "interfaceversion", "supportedactions", "connecting"):
            ok(http.get(f"{base}/{member}"))
    finally:
        ok(http.put(f"{base}/connected", data={"Connected": "true"}))
    assert ok(http.get(f"{base}/cameraxsize")) == 4


@ON_BOTH_LOOPS
def test_connect_and_disconnect_run_after_the_reply(http):
    base = "/api/v1/camera/1"
    ok(http.put(f"{base}/disconnect"))
    wait_for(lambda: not ok(http.get(f"{base}/connecting")))
    assert ok(http.get(f"{base}/connected")) is False
    ok(http.put(f"{base}/connect"))
    wait_for(lambda: not ok(http.get(f"{base}/connecting")))
    assert ok(http.get(f"{base}/connected")) is True


# -------------------------------------------------------------- management
def test_management_api_versions(http):
    assert ok(http.get("/management/apiversions")) == [1]


def test_management_description(http):
    assert ok(http.get("/management/v1/description")) == {
        "ServerName": "test-unit", "Manufacturer": "nocturna",
        "ManufacturerVersion": ok(http.get("/management/v1/description"))[
            "ManufacturerVersion"],
        "Location": "Test <site>"}


@ON_BOTH_LOOPS
def test_management_configured_devices(http):
    devices = ok(http.get("/management/v1/configureddevices"))
    assert [(d["DeviceType"], d["DeviceNumber"], d["DeviceName"]) for d in devices] == [
        ("Camera", 0, "cam0"), ("Camera", 1, FAKE_NAME), ("Camera", 2, "broken"),
        ("Telescope", 0, "mount0")]
    assert len({d["UniqueID"] for d in devices}) == 4
    assert devices[0]["UniqueID"] == unique_id("test-unit", "camera", "cam0")


def test_unique_ids_are_stable_across_restarts_and_distinct_per_device():
    def ids(unit_name: str, *names: str) -> list[str]:
        devices = unit(*(FakeCamera(name, np.zeros((2, 2), np.uint16)) for name in names))
        with start_in_thread(devices, unit=unit_name) as running, \
                httpx.Client(base_url=running.url) as client:
            return [d["UniqueID"] for d in ok(client.get("/management/v1/configureddevices"))]

    first = ids("north", "a", "b")
    assert ids("north", "a", "b") == first
    assert ids("north", "b", "a") == first[::-1]  # follows the device, not its number
    assert set(ids("south", "a", "b")).isdisjoint(first)
    assert unique_id("u", "camera", "x") != unique_id("u", "focuser", "x")


# ------------------------------------------------------------- setup pages
@ON_BOTH_LOOPS
def test_the_server_setup_page_lists_the_devices_escaped(http):
    response = http.get("/setup")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "test-unit" in page and "nocturna" in page and "Test &lt;site&gt;" in page
    assert "fake&lt;cam&gt;&amp;" in page and FAKE_NAME not in page
    assert 'href="/setup/v1/camera/1/setup"' in page


def test_a_device_setup_page_shows_its_state(http):
    page = http.get("/setup/v1/telescope/0/setup")
    assert page.status_code == 200 and "mount0" in page.text and "at_park" in page.text
    fake = http.get("/setup/v1/camera/1/setup").text
    assert "fake&lt;cam&gt;&amp;" in fake and "<cam>" not in fake
    broken = http.get("/setup/v1/camera/2/setup")
    assert broken.status_code == 200 and "firmware crashed" in broken.text


@pytest.mark.parametrize("path", ["/setup/v1/camera/9/setup", "/setup/v1/dome/0/setup",
                                  "/setup/v1/telescope/0", "/setup/v2/telescope/0/setup",
                                  "/setup/whatever"])
def test_other_setup_paths_are_http_403(http, path):
    response = http.get(path)
    assert response.status_code == 403 and "text/html" in response.headers["content-type"]


# ------------------------------------------------------------------ tables
@pytest.mark.parametrize("kind", KINDS)
def test_every_member_of_the_specification_has_a_handler(kind):
    operations = operations_for(kind)  # raises KeyError naming a missing handler
    wanted = {(method, member) for source in ("common", kind)
              for member, ops in table()[source].items() for method in ops}
    assert {(method, member) for member, ops in operations.items() for method in ops} == wanted
    assert set(handlers_for(kind)) == wanted  # and no handler for a member it does not have


# ----------------------------------------------------------------- binding
@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.org"])
def test_listening_beyond_loopback_needs_the_explicit_flag(host):
    with pytest.raises(InvalidValueError, match="--allow-remote"):
        check_host(host, allow_remote=False)
    check_host(host, allow_remote=True)
    with pytest.raises(InvalidValueError):
        AlpacaServer(unit(), host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_no_flag(host):
    check_host(host, allow_remote=False)
