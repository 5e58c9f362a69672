"""The Alpaca client's HTTP transport against a scripted server."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from nocturna.core.errors import (
    ConfigError,
    DeviceTimeoutError,
    InvalidOperationError,
    InvalidValueError,
    InvalidWhileParkedError,
    NocturnaError,
    NotConnectedError,
    NotImplementedByDeviceError,
    OperationCancelledError,
    ValueNotSetError,
)
from nocturna.devices.alpaca import transport
from nocturna.devices.alpaca.transport import (
    AlpacaClient,
    acquire,
    encode_value,
    lease,
    next_transaction_id,
    parse_address,
    release,
)


async def test_get_sends_ids_and_spec_cased_parameters_in_the_query(fake_alpaca):
    async with lease(fake_alpaca.address) as client:
        value = await client.get("/api/v1/switch/0/getswitchname", {"Id": 3})
    assert value == 1
    seen = fake_alpaca.requests[0]
    assert (seen.method, seen.path) == ("GET", "/api/v1/switch/0/getswitchname")
    assert seen.query["Id"] == "3"
    assert seen.query["ClientID"] == str(transport.CLIENT_ID)
    assert 1 <= transport.CLIENT_ID <= 65535
    assert int(seen.query["ClientTransactionID"]) >= 1


async def test_put_sends_a_form_body_with_true_false_booleans(fake_alpaca):
    async with lease(fake_alpaca.address) as client:
        await client.put("/api/v1/camera/0/startexposure", {"Duration": 1.5, "Light": False})
    seen = fake_alpaca.requests[0]
    assert seen.method == "PUT"
    assert seen.query == {}
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen.form["Duration"] == "1.5"
    assert seen.form["Light"] == "False"
    assert seen.form["ClientID"] == str(transport.CLIENT_ID)


async def test_transaction_ids_increase_by_one_per_request(fake_alpaca):
    async with lease(fake_alpaca.address) as client:
        for _ in range(3):
            await client.get("/api/v1/focuser/0/position")
        await client.put("/api/v1/focuser/0/halt")
    sent = [int(r.query.get("ClientTransactionID") or r.form["ClientTransactionID"])
            for r in fake_alpaca.requests]
    assert sent == list(range(sent[0], sent[0] + 4))


def test_transaction_ids_wrap_from_uint32_max_to_one(monkeypatch):
    import itertools

    monkeypatch.setattr(transport, "_transactions", itertools.count(0xFFFF_FFFE))
    assert [next_transaction_id() for _ in range(3)] == [0xFFFF_FFFE, 0xFFFF_FFFF, 1]


async def test_a_reply_to_another_transaction_is_refused(fake_alpaca):
    def wrong(seen):
        return web.json_response({"ClientTransactionID": 999_999, "ServerTransactionID": 1,
                                  "ErrorNumber": 0, "ErrorMessage": "", "Value": 5})

    fake_alpaca.reply = wrong
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError, match="ClientTransactionID 999999"):
            await client.get("/api/v1/focuser/0/position")


async def test_a_server_that_does_not_echo_the_transaction_id_is_tolerated(fake_alpaca):
    fake_alpaca.reply = lambda seen: web.json_response(
        {"ClientTransactionID": 0, "ServerTransactionID": 1, "ErrorNumber": 0,
         "ErrorMessage": "", "Value": 42})
    async with lease(fake_alpaca.address) as client:
        assert await client.get("/api/v1/focuser/0/position") == 42


@pytest.mark.parametrize(("number", "error"), [
    (0x400, NotImplementedByDeviceError), (0x401, InvalidValueError),
    (0x402, ValueNotSetError), (0x407, NotConnectedError),
    (0x408, InvalidWhileParkedError), (0x40B, InvalidOperationError),
    (0x40E, OperationCancelledError),
])
async def test_error_numbers_become_typed_errors(fake_alpaca, number, error):
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(seen, None, ErrorNumber=number,
                                                    ErrorMessage="the device says no")
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(error, match="the device says no") as caught:
            await client.put("/api/v1/telescope/0/park")
    assert caught.value.ascom_number == number


async def test_a_driver_specific_error_number_is_kept(fake_alpaca):
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(seen, None, ErrorNumber=0x555,
                                                    ErrorMessage="hardware fault")
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError, match="hardware fault") as caught:
            await client.get("/api/v1/dome/0/azimuth")
    assert caught.value.ascom_number == 0x555


async def test_an_error_message_with_error_number_zero_is_an_error(fake_alpaca):
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(seen, 3, ErrorMessage="odd")
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError, match="odd"):
            await client.get("/api/v1/dome/0/azimuth")


async def test_the_error_is_checked_before_the_value(fake_alpaca):
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(seen, None, ErrorNumber=0x401,
                                                    ErrorMessage="bad", Value=None)
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(InvalidValueError, match="bad"):
            await client.get("/api/v1/dome/0/azimuth")


async def test_a_missing_value_is_an_error(fake_alpaca):
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(seen, None)
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError, match="no Value"):
            await client.get("/api/v1/dome/0/azimuth")
        assert await client.put("/api/v1/dome/0/park") is None  # methods need none


async def test_http_400_is_an_invalid_value_with_the_servers_text(fake_alpaca):
    fake_alpaca.reply = lambda seen: web.Response(status=400, text="Unknown member frob")
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(InvalidValueError, match="Unknown member frob"):
            await client.get("/api/v1/dome/0/frob")


@pytest.mark.parametrize("status", [404, 500, 503])
async def test_other_http_statuses_name_the_status_and_url(fake_alpaca, status):
    fake_alpaca.reply = lambda seen: web.Response(status=status, text="broken")
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError) as caught:
            await client.get("/api/v1/dome/0/azimuth")
    assert f"HTTP {status}" in str(caught.value)
    assert f"{fake_alpaca.address}/api/v1/dome/0/azimuth" in str(caught.value)
    assert not isinstance(caught.value, InvalidValueError)


async def test_a_reply_that_is_not_json_is_an_error(fake_alpaca):
    fake_alpaca.reply = lambda seen: web.Response(text="<html>hello</html>",
                                                  content_type="text/html")
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError, match="text/html"):
            await client.get("/api/v1/dome/0/azimuth")


async def test_malformed_json_is_an_error(fake_alpaca):
    fake_alpaca.reply = lambda seen: web.Response(text="{not json",
                                                  content_type="application/json")
    async with lease(fake_alpaca.address) as client:
        with pytest.raises(NocturnaError, match="malformed JSON"):
            await client.get("/api/v1/dome/0/azimuth")


async def test_an_unreachable_server_is_not_connected_naming_the_address():
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    async with lease(address) as client:
        with pytest.raises(NotConnectedError, match=address):
            await client.get("/api/v1/dome/0/azimuth")


async def test_a_slow_reply_is_a_device_timeout_naming_the_address(fake_alpaca):
    gate = asyncio.Event()

    async def stall(seen):
        await gate.wait()
        return fake_alpaca.ok(seen)

    fake_alpaca.reply = stall
    try:
        async with lease(fake_alpaca.address) as client:
            with pytest.raises(DeviceTimeoutError, match=fake_alpaca.address):
                await client.get("/api/v1/dome/0/azimuth", timeout_s=0.2)
    finally:
        gate.set()


async def test_devices_on_one_server_share_one_client():
    first = acquire("127.0.0.1:40001")
    second = acquire("127.0.0.1:40001")
    other = acquire("127.0.0.1:40002")
    assert first is second
    assert other is not first
    await release(first)
    assert acquire("127.0.0.1:40001") is first  # still held by the second user
    for client in (first, first, other):
        await release(client)
    assert acquire("127.0.0.1:40001") is not first  # the last release closed it
    await release(acquire("127.0.0.1:40001"))


@pytest.mark.parametrize("value", [None, "", "localhost", "host:", "host:0", "host:70000",
                                   ":11111", "host:port", "http://host:1/x"])
def test_malformed_addresses_are_config_errors(value):
    with pytest.raises(ConfigError, match="host:port"):
        parse_address(value, owner="cam0")


def test_addresses_parse_including_ipv6():
    assert parse_address("192.0.2.10:11111") == ("192.0.2.10", 11111)
    assert parse_address("[::1]:32323") == ("::1", 32323)
    assert AlpacaClient("[::1]:32323").base_url == "http://[::1]:32323"


@pytest.mark.parametrize(("value", "wire"), [(True, "True"), (False, "False"), (3, "3"),
                                             (0.1, "0.1"), (1e-7, "1e-07"), ("a b", "a b")])
def test_values_are_encoded_culture_invariant(value, wire):
    assert encode_value(value) == wire


def test_non_finite_numbers_are_not_sent():
    with pytest.raises(InvalidValueError):
        encode_value(float("nan"))
