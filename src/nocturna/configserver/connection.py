"""One keep-alive HTTP/1.1 connection for small JSON requests (the client's transport).

Each request goes out in one ``send()`` (``http.client`` sends the headers and the
body separately: two packets, two wake-ups of the server per set) and the answer is
read with a plain ``Content-Length`` parser, without ``http.client``'s e-mail header
machinery. Enough for the configuration service's answers; a chunked or
length-less answer is read until the server closes the connection.
"""

from __future__ import annotations

import socket


class ProtocolError(ConnectionError):
    """The server's answer is not HTTP this connection understands."""


class HttpConnection:
    """A socket to ``host:port``, opened on first use and again after a close."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._host_header = f"Host: {host}:{port}\r\n".encode()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer.clear()

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection((self.host, self.port), self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
        return self._sock

    def request(self, method: str, target: str, headers: bytes = b"",
                body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request (``headers``: complete ``Name: value\\r\\n`` lines) and
        return the status and the body of the answer."""
        length = b"" if body is None else b"Content-Length: %d\r\n" % len(body)
        message = b"".join((f"{method} {target} HTTP/1.1\r\n".encode(), self._host_header,
                            headers, length, b"\r\n", body or b""))
        sock = self._socket()
        sock.sendall(message)
        return self._read_response(sock)

    def _read_more(self, sock: socket.socket) -> None:
        chunk = sock.recv(65536)
        if not chunk:
            self.close()
            raise ConnectionResetError("the server closed the connection")
        self._buffer += chunk

    def _read_response(self, sock: socket.socket) -> tuple[int, bytes]:
        buffer = self._buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            self._read_more(sock)
        lines = bytes(buffer[:end]).split(b"\r\n")
        del buffer[: end + 4]
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError):
            self.close()
            raise ProtocolError(f"not an HTTP status line: {lines[0][:80]!r}") from None
        size: int | None = None
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                size = int(value)
            elif name == b"connection":
                close = b"close" in value.lower()
            elif name == b"transfer-encoding":
                size, close = None, True
        if size is None:  # read to the end of the connection
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
            size, close = len(buffer), True
        while len(buffer) < size:
            self._read_more(sock)
        body = bytes(buffer[:size])
        del buffer[:size]
        if close:
            self.close()
        return status, body
