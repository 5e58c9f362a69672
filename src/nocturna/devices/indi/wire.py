"""The INDI wire format: a stream of XML elements (no root), read incrementally.

:class:`WireReader` takes bytes as they arrive and returns whole messages
(:class:`Message`: the top element's tag and attributes, and its children's).
Expat parses everything but the payload of ``oneBLOB`` elements: the reader sees a
``<oneBLOB …>`` start tag coming, lets expat parse just that tag, then hands the
base64 text that follows straight to a :class:`BlobDecoder` (``pybase64``, SIMD: 4× the
speed of ``binascii``; chunk by chunk into one preallocated buffer) until the next
``<``. A 4096×4096 frame is never held as text, and expat never scans it.

Safety: a DOCTYPE (hence any entity declaration or external entity) is refused, as
are elements nested deeper than :data:`MAX_DEPTH`, a message whose XML (BLOB payloads
aside) exceeds ``max_message``, text beyond :data:`MAX_TEXT` in one element, and a
BLOB larger than ``max_blob``. Each raises :class:`IndiProtocolError`, after which the
reader is spent (the connection is dropped and a new one starts a new reader).
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from pybase64 import b64decode

from nocturna.core.errors import NocturnaError

MAX_DEPTH = 3
"""Levels of elements, counting the stream's synthetic root (1): a vector (2) and its
members (3); anything deeper is refused."""
MAX_TEXT = 1 << 20
"""Characters of text in one element (BLOB payloads aside)."""
MAX_MESSAGE = 16 << 20
"""Bytes of XML in one message (BLOB payloads aside)."""
MAX_BLOB = 1 << 30
"""Decoded bytes of one BLOB."""
MAX_TAG = 64 << 10
"""Bytes of a ``<oneBLOB …>`` start tag."""

_BLOB_START = b"<oneBLOB"
_CLOSE_OR_QUOTE = re.compile(rb"[>\"']")
_ROOT = b"<indi>"


class IndiProtocolError(NocturnaError):
    """The INDI server sent something that is not the INDI protocol."""


class BlobDecoder:
    """Decodes base64 text arriving in pieces into one preallocated buffer."""

    def __init__(self, expected: int, limit: int) -> None:
        self._limit = limit
        self._buffer = bytearray(max(0, min(expected, limit)))
        self._size = 0
        self._pending = b""

    def feed(self, data: bytes, start: int, end: int) -> None:
        """Decode ``data[start:end]`` (base64 text, any length; whitespace ignored)."""
        if start >= end:
            return
        text: bytes | memoryview = memoryview(data)[start:end]
        if self._pending or _has_space(data, start, end):
            text = (self._pending + bytes(text)).translate(None, b" \t\r\n")
        whole = len(text) - len(text) % 4
        self._pending = bytes(text[whole:])
        if whole:
            self._write(text[:whole])

    def _write(self, text: bytes | memoryview) -> None:
        try:
            chunk = b64decode(text, validate=True)  # whitespace is gone already
        except binascii.Error as exc:
            raise IndiProtocolError(f"a BLOB is not valid base64: {exc}") from None
        end = self._size + len(chunk)
        if end > self._limit:
            raise IndiProtocolError(f"a BLOB exceeds {self._limit} bytes")
        if end > len(self._buffer):
            self._buffer.extend(bytes(end - len(self._buffer)))
        self._buffer[self._size:end] = chunk
        self._size = end

    def finish(self) -> memoryview:
        """The decoded bytes (a view of the buffer; no copy)."""
        if self._pending:
            self._write(self._pending + b"=" * (-len(self._pending) % 4))
            self._pending = b""
        return memoryview(self._buffer)[:self._size]


@dataclass(slots=True)
class Member:
    """One child of a vector message: ``oneNumber``, ``defSwitch``, ``oneBLOB``…"""

    tag: str
    attrs: dict[str, str]
    text: str = ""
    blob: memoryview | None = None


@dataclass(slots=True)
class Message:
    """One top-level INDI element with its children."""

    tag: str
    attrs: dict[str, str]
    members: list[Member] = field(default_factory=list)
    text: str = ""

    @property
    def device(self) -> str:
        return self.attrs.get("device", "")

    @property
    def name(self) -> str:
        return self.attrs.get("name", "")


class WireReader:
    """Turns the bytes of an INDI stream into :class:`Message` objects (see above)."""

    def __init__(self, *, max_message: int = MAX_MESSAGE, max_blob: int = MAX_BLOB) -> None:
        self.max_message = max_message
        self.max_blob = max_blob
        self._parser = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._text
        self._parser.StartDoctypeDeclHandler = self._refuse_doctype
        self._parser.EntityDeclHandler = self._refuse_entity
        self._parser.ExternalEntityRefHandler = self._refuse_external
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._depth = 0
        self._message: Message | None = None
        self._member: Member | None = None
        self._text: list[str] = []
        self._text_size = 0
        self._done: list[Message] = []
        self._message_bytes = 0
        self._blob: BlobDecoder | None = None
        self._pending = b""  # a oneBLOB start tag not yet complete
        self._failed: IndiProtocolError | None = None
        self._parse(_ROOT)

    # --------------------------------------------------------------- input
    def feed(self, data: bytes) -> list[Message]:
        """Take the next bytes of the stream; the messages they complete."""
        if self._failed is not None:
            raise self._failed
        try:
            self._feed(bytes(data))
        except IndiProtocolError as exc:
            self._failed = exc
            raise
        done, self._done = self._done, []
        return done

    def _feed(self, data: bytes) -> None:
        if self._pending:
            data, self._pending = self._pending + data, b""
        at, size = 0, len(data)
        while at < size:
            if self._blob is not None:  # inside a BLOB's payload: up to the next "<"
                end = data.find(b"<", at)
                if end < 0:
                    self._blob.feed(data, at, size)
                    return
                self._blob.feed(data, at, end)
                self._close_blob()
                at = end
                continue
            start = data.find(_BLOB_START, at)
            if start < 0:  # keep a tail that may begin "<oneBLOB" for the next piece
                keep = _partial_tail(data, _BLOB_START)
                self._xml(data[at:size - keep])
                self._pending = data[size - keep:] if keep else b""
                return
            self._xml(data[at:start])
            close = _tag_end(data, start)
            if close < 0:
                if size - start > MAX_TAG:
                    raise IndiProtocolError("a oneBLOB start tag does not end")
                self._pending = data[start:]
                return
            self._xml(data[start:close + 1])
            at = close + 1

    def _xml(self, piece: bytes) -> None:
        if not piece:
            return
        self._message_bytes += len(piece)
        if self._message_bytes > self.max_message:
            raise IndiProtocolError(f"a message exceeds {self.max_message} bytes of XML")
        self._parse(piece)

    def _parse(self, piece: bytes) -> None:
        try:
            self._parser.Parse(piece, False)
        except expat.ExpatError as exc:
            raise IndiProtocolError(f"malformed INDI XML: {exc}") from None

    # ------------------------------------------------------------ handlers
    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        if self._depth == 1:
            return  # the synthetic root
        if self._depth > MAX_DEPTH:
            raise IndiProtocolError(f"elements nested deeper than {MAX_DEPTH - 1} levels "
                                    "(a vector and its members)")
        self._flush_text()
        if self._depth == 2:
            self._message = Message(tag, attrs)
        elif self._depth == 3 and self._message is not None:
            self._member = Member(tag, attrs)
            self._message.members.append(self._member)
            if tag == "oneBLOB":
                self._blob = BlobDecoder(_expected_size(attrs), self.max_blob)

    def _end(self, tag: str) -> None:
        text = self._flush_text()
        if self._depth == 3 and self._member is not None:
            if self._member.tag == "oneBLOB" and self._blob is not None:
                self._close_blob()
            elif self._member.blob is None:
                self._member.text = text
            self._member = None
        elif self._depth == 2 and self._message is not None:
            self._message.text = text
            self._done.append(self._message)
            self._message = None
            self._message_bytes = 0
        self._depth -= 1

    def _text(self, text: str) -> None:
        self._text_size += len(text)
        if self._text_size > MAX_TEXT:
            raise IndiProtocolError(f"an element holds more than {MAX_TEXT} characters")
        self._text.append(text)

    def _flush_text(self) -> str:
        text = "".join(self._text).strip()
        self._text.clear()
        self._text_size = 0
        return text

    def _close_blob(self) -> None:
        blob, self._blob = self._blob, None
        if blob is not None and self._member is not None:
            self._member.blob = blob.finish()

    def _refuse_doctype(self, *args: Any) -> None:
        raise IndiProtocolError("a DOCTYPE in the INDI stream (entities are refused)")

    def _refuse_entity(self, *args: Any) -> None:
        raise IndiProtocolError("an entity declaration in the INDI stream")

    def _refuse_external(self, *args: Any) -> int:
        raise IndiProtocolError("an external entity in the INDI stream")


def _tag_end(data: bytes, start: int) -> int:
    """Where the start tag at ``start`` ends (its ``>``; one inside a quoted attribute
    value does not count); -1 while the tag is incomplete."""
    at = start
    while (found := _CLOSE_OR_QUOTE.search(data, at)) is not None:
        at = found.start()
        if data[at] == ord(">"):
            return at
        closing = data.find(data[at:at + 1], at + 1)
        if closing < 0:
            return -1
        at = closing + 1
    return -1


def _has_space(data: bytes, start: int, end: int) -> bool:
    return any(data.find(c, start, end) >= 0 for c in (b"\n", b"\r", b" ", b"\t"))


def _partial_tail(data: bytes, needle: bytes) -> int:
    """How many trailing bytes of ``data`` are a proper prefix of ``needle``."""
    tail = data[-(len(needle) - 1):]
    for size in range(min(len(tail), len(needle) - 1), 0, -1):
        if needle.startswith(tail[-size:]):
            return size
    return 0


def _expected_size(attrs: dict[str, str]) -> int:
    """Decoded bytes to preallocate: from ``enclen`` (base64 length) or ``size``."""
    try:
        if "enclen" in attrs:
            return int(attrs["enclen"]) * 3 // 4
        return int(attrs.get("size", "0"))
    except ValueError:
        return 0


# ------------------------------------------------------------------ output
def element(tag: str, attrs: dict[str, Any], children: str | bytes = "") -> bytes:
    """``<tag a="…">children</tag>`` with attribute values escaped."""
    head = "".join(f" {key}={quoteattr(str(value))}" for key, value in attrs.items()
                   if value is not None)
    body = children.encode() if isinstance(children, str) else children
    if not body:
        return f"<{tag}{head}/>\n".encode()
    return f"<{tag}{head}>".encode() + body + f"</{tag}>\n".encode()


def member(tag: str, name: str, value: str) -> str:
    return f"<{tag} name={quoteattr(name)}>{escape(value)}</{tag}>"
