"""Bodies that would hurt the service are refused: too large (413), too deep or not
JSON (400). Over real HTTP on 127.0.0.1, on asyncio's loop and on uvloop, the loop
``nocturna config serve`` runs on."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest
import uvloop

from nocturna.configserver.request_body import MAX_BODY_BYTES, MAX_DEPTH, nesting_depth
from nocturna.configserver.runner import start_in_thread
from nocturna.core.config import Config
from nocturna.core.listen import loop_factory

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def test_the_cli_serves_on_uvloop():
    assert loop_factory() is uvloop.new_event_loop  # so the uvloop case below is the CLI's


@pytest.fixture(params=sorted(LOOPS))
def service(request, tmp_path: Path):
    site = tmp_path / "site.yaml"
    site.write_text("name: limits-unit\n")
    running = start_in_thread(Config.load(site, environ={}), new_loop=LOOPS[request.param])
    yield running
    running.stop()


def nested(depth: int) -> bytes:
    return b'{"key": "name", "value": ' + b"[" * depth + b"]" * depth + b"}"


def raw_exchange(service, head: bytes, body: bytes = b"") -> tuple[bytes, bytes]:
    """Send ``head`` (+ ``body``) on a fresh socket; the response and what follows."""
    with socket.create_connection((service.host, service.port), timeout=10) as sock:
        sock.sendall(head + body)
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        head_end = received.index(b"\r\n\r\n") + 4
        length = int(next(line.split(b":")[1] for line in received[:head_end].split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        while len(received) < head_end + length:
            received += sock.recv(65536)
        rest = sock.recv(65536)  # b"" once the server has closed the connection
        return received[: head_end + length], rest


def test_deep_nesting_is_400_and_the_service_keeps_serving(service):
    for depth in (MAX_DEPTH + 1, 100_000):
        response = httpx.post(f"{service.url}/config", content=nested(depth))
        assert response.status_code == 400
        assert f"deeper than {MAX_DEPTH} levels" in response.json()["error"]
    assert httpx.get(f"{service.url}/config", params={"key": "name"}).json()["value"] == (
        "limits-unit")


def test_nesting_within_the_limit_reaches_validation(service):
    response = httpx.post(f"{service.url}/config", content=nested(MAX_DEPTH - 1))
    assert response.status_code == 422  # parsed, then refused as a name
    assert "name = " in response.json()["error"]


def test_brackets_inside_strings_do_not_count_as_nesting(service):
    text = "[" * 5000 + '\\"{' * 100
    body = json.dumps({"key": "name", "value": text}).encode()
    assert nesting_depth(body) == 1
    response = httpx.post(f"{service.url}/config", content=body)
    assert response.status_code == 200 and response.json()["value"] == text


def test_malformed_json_is_400(service):
    for body in (b'{"key": "name", "value": [1, 2}', b"\xff\xfe", b"[" * 10):
        response = httpx.post(f"{service.url}/config", content=body)
        assert response.status_code == 400, body


def test_a_large_declared_body_is_413_before_it_is_sent(service):
    head = (b"POST /config HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 20000000\r\n\r\n")
    response, rest = raw_exchange(service, head)  # no byte of the body is sent
    assert response.startswith(b"HTTP/1.1 413 ")
    assert f"larger than {MAX_BODY_BYTES:,} bytes".encode() in response
    assert b"connection: close" in response.lower() and rest == b""


def test_a_client_sending_a_20_mb_body_whole_reads_the_413(service):
    response = httpx.post(f"{service.url}/config", content=b"x" * 20_000_000)
    assert response.status_code == 413
    assert f"larger than {MAX_BODY_BYTES:,} bytes" in response.json()["error"]


def test_a_large_chunked_body_is_413_once_past_the_limit(service):
    def chunks():
        yield b'{"key": "name", "value": "'
        for _ in range(40):  # 20 MB if it were all read
            yield b"x" * 500_000
        yield b'"}'

    response = httpx.post(f"{service.url}/config", content=chunks())
    assert response.status_code == 413
    assert httpx.get(f"{service.url}/config", params={"key": "name"}).json()["value"] == (
        "limits-unit")


def test_a_body_just_under_the_limit_is_accepted(service):
    value = "x" * (MAX_BODY_BYTES - 100)
    body = json.dumps({"key": "name", "value": value, "save": False}).encode()
    assert len(body) <= MAX_BODY_BYTES
    response = httpx.post(f"{service.url}/config", content=body)
    assert response.status_code == 200 and len(response.json()["value"]) == len(value)

