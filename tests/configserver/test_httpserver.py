"""The configuration service's HTTP server and the client's connection, over real
sockets on 127.0.0.1: keep-alive, pipelining, closing, limits and malformed input."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nocturna.configserver.client import ConfigClient
from nocturna.configserver.connection import HttpConnection
from nocturna.configserver.runner import start_in_thread
from nocturna.core.config import Config


@pytest.fixture
def service(tmp_path: Path):
    site = tmp_path / "site.yaml"
    site.write_text("name: http-unit\n")
    running = start_in_thread(Config.load(site, environ={}), save=False, idle_timeout=0.3)
    yield running
    running.stop()


def connect(service) -> socket.socket:
    return socket.create_connection((service.host, service.port), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


GET_NAME = b"GET /config?key=name HTTP/1.1\r\nHost: x\r\n\r\n"


def test_pipelined_requests_are_answered_in_order_on_one_connection(service):
    set_other = (b'POST /config HTTP/1.1\r\nHost: x\r\nContent-Length: 33\r\n\r\n'
                 b'{"key": "name", "value": "other"}')
    last = b"GET /config?key=name HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with connect(service) as sock:
        sock.sendall(GET_NAME + set_other + last)  # one packet, three requests
        answers = read_all(sock).split(b"HTTP/1.1 ")[1:]
    assert [a.split(b" ")[0] for a in answers] == [b"200"] * 3
    assert answers[0].endswith(b'"value": "http-unit"}')
    assert answers[2].endswith(b'"value": "other"}') and b"connection: close" in answers[2]


def test_http_1_0_gets_one_answer_and_the_connection_closes(service):
    with connect(service) as sock:
        sock.sendall(b"GET /config?key=name HTTP/1.0\r\n\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b'"http-unit"}')


def test_a_malformed_request_is_400_and_closes(service):
    with connect(service) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"malformed HTTP request" in answer


def test_oversized_headers_are_431_and_close(service):
    with connect(service) as sock:
        sock.sendall(b"GET /config HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_expect_100_continue_is_answered_before_the_body(service):
    body = b'{"key": "name", "value": "continued"}'
    with connect(service) as sock:
        sock.sendall(b"POST /config HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_unknown_paths_are_404_and_wrong_methods_405(service):
    connection = HttpConnection(service.host, service.port, 10)
    status, body = connection.request("GET", "/nothing")
    assert status == 404 and b"no endpoint '/nothing'" in body
    status, body = connection.request("DELETE", "/config")
    assert status == 405 and b"use GET, POST, PUT" in body
    connection.close()


def test_an_idle_connection_is_closed_and_the_client_reconnects(service):
    with connect(service) as sock:
        assert read_all(sock) == b""  # closed by the server after idle_timeout (0.3 s)
    client = ConfigClient(service.url)
    assert client.get("name") == "http-unit"
    socket_before = client._connection()._sock
    with connect(service) as probe:  # wait out the idle timeout on another connection
        read_all(probe)
    assert client.get("name") == "http-unit"  # the closed socket was replaced
    assert client._connection()._sock is not socket_before
    client.close()

