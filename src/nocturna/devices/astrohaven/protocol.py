"""The Astrohaven clamshell dome's RS-232 bytes (a Vision 130 PLC), shared by the
driver and the simulator.

One byte each way, no framing:

* status, sent about once a second when the PLC is not answering a command. The
  meaning is POCS's current one (older POCS named 1 and 2 the other way round, with a
  note to confirm them; we follow the newer reading): ``0`` both leaves fully closed,
  ``1`` only leaf A fully closed, ``2`` only leaf B fully closed, ``3`` neither fully
  closed (which is also what a half-open dome reports);
* commands: ``a``/``A`` open/close leaf A, ``b``/``B`` open/close leaf B, ``O``/``C``
  both at once (documented for the 18' dome; POCS found they do nothing on 7' domes,
  so the driver does not use them), ``R`` reset. A motor runs only while its command
  keeps coming; the PLC echoes the command byte while the leaf moves;
* limits, the answer to a command once the leaf is at its end: ``x``/``X`` A open/closed,
  ``y``/``Y`` B open/closed.
"""

from __future__ import annotations

from dataclasses import dataclass

BOTH_CLOSED, A_CLOSED, B_CLOSED, NONE_CLOSED = b"0", b"1", b"2", b"3"
STATUS_BYTES = frozenset(BOTH_CLOSED + A_CLOSED + B_CLOSED + NONE_CLOSED)
"""The four status bytes (as ints)."""
OPEN_BOTH, CLOSE_BOTH, RESET = b"O", b"C", b"R"


@dataclass(frozen=True)
class LeafBytes:
    """The bytes of one leaf: its commands and the limits that answer them."""

    name: str
    open_command: bytes
    close_command: bytes
    open_limit: bytes
    close_limit: bytes

    def command(self, opening: bool) -> bytes:
        return self.open_command if opening else self.close_command

    def limit(self, opening: bool) -> bytes:
        return self.open_limit if opening else self.close_limit


LEAF_A = LeafBytes("A", b"a", b"A", b"x", b"X")
LEAF_B = LeafBytes("B", b"b", b"B", b"y", b"Y")
LEAVES = (LEAF_A, LEAF_B)
REPLY_BYTES = frozenset(b"aAbBOCxXyY")
"""Bytes the PLC sends in answer to a command (echoes and limits, as ints)."""


def status_byte(a_closed: bool, b_closed: bool) -> bytes:
    """The status byte for which leaves are fully closed."""
    if a_closed and b_closed:
        return BOTH_CLOSED
    if a_closed:
        return A_CLOSED
    if b_closed:
        return B_CLOSED
    return NONE_CLOSED


def describe_status(byte: int) -> str:
    """A status byte in words (for messages)."""
    return {BOTH_CLOSED[0]: "both leaves closed", A_CLOSED[0]: "only leaf A closed",
            B_CLOSED[0]: "only leaf B closed",
            NONE_CLOSED[0]: "neither leaf closed"}.get(byte, f"not a status byte {bytes([byte])!r}")
