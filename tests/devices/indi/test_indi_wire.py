"""The INDI wire reader and property store, fed bytes directly (no server).

Split streams, BLOB payloads against :mod:`base64`, sexagesimal numbers, def/set/del,
and a hypothesis fuzz: whatever the bytes, the reader returns messages or raises
:class:`IndiProtocolError`, quickly and within its memory limits.
"""

from __future__ import annotations

import base64
import itertools
import os
import tracemalloc
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocturna.devices.indi.properties import KINDS, PropertyStore, parse_number
from nocturna.devices.indi.wire import (
    MAX_TEXT,
    IndiProtocolError,
    Message,
    WireReader,
    element,
    member,
)

PAYLOAD = bytes(range(256)) * 3 + b"\x00\xff\x10"
"""771 bytes: every byte value, and a length that needs base64 padding."""


def blob_message(payload: bytes, *, text: bytes | None = None, attrs: str = "") -> bytes:
    encoded = base64.encodebytes(payload) if text is None else text
    return (b'<setBLOBVector device="CCD Simulator" name="CCD1" state="Ok">\n'
            b'  <oneBLOB name="CCD1" size="' + str(len(payload)).encode() +
            b'" format=".fits"' + attrs.encode() + b">\n" + encoded +
            b"</oneBLOB>\n</setBLOBVector>\n")


STREAM = (
    b'<defNumberVector device="Telescope Simulator" name="EQUATORIAL_EOD_COORD" '
    b'label="Eq. Coordinates" group="Main Control" state="Idle" perm="rw" timeout="60">\n'
    b'  <defNumber name="RA" label="RA (hh:mm:ss)" format="%010.6m" min="0" max="24" '
    b'step="0">\n    12:30:00\n  </defNumber>\n'
    b'  <defNumber name="DEC" label="DEC (dd:mm:ss)" format="%010.6m" min="-90" max="90" '
    b'step="0">-45:15:36</defNumber>\n</defNumberVector>\n'
    b'<message device="Telescope Simulator" timestamp="2026-01-01T00:00:00" '
    b'message="[INFO] caf\xc3\xa9 &amp; &lt;ok&gt;"/>\n'
    b'<setNumberVector device="Telescope Simulator" name="EQUATORIAL_EOD_COORD" '
    b'state="Busy"><oneNumber name="RA">1.5</oneNumber></setNumberVector>'
    + blob_message(PAYLOAD)
    + b'<delProperty device="Telescope Simulator" name="EQUATORIAL_EOD_COORD"/>\n'
)


def summary(messages: list[Message]) -> list[Any]:
    """Messages as plain data (BLOBs as bytes), for comparing two parses."""
    return [(m.tag, m.attrs, m.text,
             [(x.tag, x.attrs, x.text, None if x.blob is None else bytes(x.blob))
              for x in m.members]) for m in messages]


def parse(*pieces: bytes, reader: WireReader | None = None) -> list[Message]:
    reader = reader or WireReader()
    return [message for piece in pieces for message in reader.feed(piece)]


WHOLE = summary(parse(STREAM))


# ------------------------------------------------------------------- splitting
def test_the_sample_stream_parses_into_its_five_messages():
    assert [m[0] for m in WHOLE] == ["defNumberVector", "message", "setNumberVector",
                                     "setBLOBVector", "delProperty"]
    assert WHOLE[0][3][0][2] == "12:30:00"
    assert WHOLE[1][1]["message"] == "[INFO] café & <ok>"
    assert WHOLE[3][3][0][3] == PAYLOAD


def test_a_stream_split_at_every_byte_boundary_parses_the_same():
    for cut in range(len(STREAM) + 1):
        assert summary(parse(STREAM[:cut], STREAM[cut:])) == WHOLE, cut


def test_a_stream_fed_byte_by_byte_parses_the_same():
    assert summary(parse(*(STREAM[i:i + 1] for i in range(len(STREAM))))) == WHOLE


def test_a_stream_cut_in_three_around_the_blob_parses_the_same():
    start = STREAM.index(b"<oneBLOB")
    end = STREAM.index(b"</oneBLOB>") + 3
    for first in range(start - 3, start + 12):
        for second in range(end - 12, end + 3, 5):
            pieces = STREAM[:first], STREAM[first:second], STREAM[second:]
            assert summary(parse(*pieces)) == WHOLE, (first, second)


# ----------------------------------------------------------------------- BLOBs
def line_broken(payload: bytes, width: int, newline: bytes) -> bytes:
    text = base64.b64encode(payload)
    return newline.join(text[i:i + width] for i in range(0, len(text), width)) + newline


LAYOUTS = {
    "one line": lambda p: base64.b64encode(p),
    "76 columns": base64.encodebytes,
    "CRLF every 64": lambda p: line_broken(p, 64, b"\r\n"),
    "LF every 3": lambda p: line_broken(p, 3, b"\n"),
    "spaces and tabs": lambda p: line_broken(p, 5, b" \t "),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 57, 58, 1000, 65537])
def test_blob_payloads_decode_exactly_as_base64_does(layout, size):
    payload = os.urandom(size)
    text = LAYOUTS[layout](payload)
    assert base64.b64decode(text.translate(None, b" \t\r\n")) == payload
    stream = blob_message(payload, text=text)
    for chunk in (len(stream), 4096, 7, 1):
        pieces = [stream[i:i + chunk] for i in range(0, len(stream), chunk)]
        (message,) = parse(*pieces)
        assert bytes(message.members[0].blob) == payload, chunk


@pytest.mark.parametrize("declared", ['size="0"', 'size="10"', 'enclen="4"', 'size="x"',
                                      'size="99999"'])
def test_the_declared_size_is_only_a_hint_for_the_buffer(declared):
    text = b'<setBLOBVector device="d" name="b"><oneBLOB name="b" ' + declared.encode() + \
        b">" + base64.b64encode(PAYLOAD) + b"</oneBLOB></setBLOBVector>"
    (message,) = parse(text)
    assert bytes(message.members[0].blob) == PAYLOAD


def test_a_blob_whose_attributes_hold_a_closing_bracket_still_decodes():
    text = b'<setBLOBVector device="d" name="b"><oneBLOB name="x>y" format=\'.a>b\' ' \
        b'size="771">' + base64.b64encode(PAYLOAD) + b"</oneBLOB></setBLOBVector>"
    for cut in range(0, len(text), 3):
        (message,) = parse(text[:cut], text[cut:])
        assert message.members[0].attrs["name"] == "x>y"
        assert bytes(message.members[0].blob) == PAYLOAD, cut


def test_an_empty_blob_and_several_blobs_in_one_message():
    text = (b'<setBLOBVector device="d" name="b"><oneBLOB name="e" size="0" format=""/>'
            b'<oneBLOB name="a" size="3">QUJD</oneBLOB><oneBLOB name="z">WFla\n</oneBLOB>'
            b"</setBLOBVector>")
    (message,) = parse(text)
    assert [bytes(x.blob) for x in message.members] == [b"", b"ABC", b"XYZ"]


def test_a_blob_beyond_the_limit_is_refused():
    reader = WireReader(max_blob=1000)
    with pytest.raises(IndiProtocolError, match="a BLOB exceeds 1000 bytes"):
        parse(blob_message(os.urandom(1001)), reader=reader)
    with pytest.raises(IndiProtocolError, match="a BLOB exceeds 1000 bytes"):
        reader.feed(b"<x/>")  # the reader is spent: the connection starts a new one
    assert bytes(parse(blob_message(PAYLOAD[:1000]), reader=WireReader(max_blob=1000))[0]
                 .members[0].blob) == PAYLOAD[:1000]


def test_invalid_base64_is_refused():
    with pytest.raises(IndiProtocolError, match="not valid base64"):
        parse(blob_message(b"", text=b"QUJDR"))


# ------------------------------------------------------------------ numbers
@pytest.mark.parametrize(("text", "value"), [
    ("12:30:00", 12.5), ("12:30", 12.5), ("-45:15:36", -45.26), ("-0:30:00", -0.5),
    ("+10:00:36", 10.01), ("12 30 00", 12.5), ("12;30;00", 12.5), ("  7.25  ", 7.25),
    ("1.5e3", 1500.0), ("-0.125", -0.125), ("23:59:59.5", 23 + 59 / 60 + 59.5 / 3600),
    ("0:0:0", 0.0), ("359:59", 359 + 59 / 60),
])
def test_numbers_decimal_and_sexagesimal(text, value):
    assert parse_number(text) == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("text", ["", " ", "abc", "12:30:00:00", "12::30", "1-2",
                                  "12:ab", "--1", "12:30:"])
def test_what_is_not_a_number_is_refused(text):
    with pytest.raises(IndiProtocolError, match="is not an INDI number"):
        parse_number(text)


# ---------------------------------------------------------- def, set, del
def apply_all(store: PropertyStore, xml: bytes) -> list[Any]:
    return [store.apply(message) for message in parse(xml)]


def test_def_set_and_del_are_applied():
    store = PropertyStore()
    apply_all(store, STREAM[:STREAM.index(b"<message")])
    coords = store.get("Telescope Simulator", "EQUATORIAL_EOD_COORD")
    assert coords is not None and coords.kind == "Number" and coords.perm == "rw"
    assert (coords["RA"], coords["DEC"]) == (12.5, pytest.approx(-45.26))
    ra = coords.elements["RA"]
    assert (ra.minimum, ra.maximum, ra.step, ra.format, ra.label) == \
        (0.0, 24.0, 0.0, "%010.6m", "RA (hh:mm:ss)")
    assert (coords.state, coords.updates, coords.timeout) == ("Idle", 0, 60.0)

    (changed,) = apply_all(store, b'<setNumberVector device="Telescope Simulator" '
                                  b'name="EQUATORIAL_EOD_COORD" state="Busy" message="slewing"'
                                  b' timestamp="2026-01-01T00:00:01"><oneNumber name="RA" '
                                  b'max="12">6:00:00</oneNumber></setNumberVector>')
    assert changed is coords
    assert (coords["RA"], coords["DEC"]) == (6.0, pytest.approx(-45.26))
    assert (coords.state, coords.message, coords.updates, ra.maximum, coords.timestamp) == \
        ("Busy", "slewing", 1, 12.0, "2026-01-01T00:00:01")

    apply_all(store, b'<defSwitchVector device="D" name="S" rule="OneOfMany" perm="rw">'
                     b'<defSwitch name="A">On</defSwitch><defSwitch name="B">Off</defSwitch>'
                     b'</defSwitchVector><defTextVector device="D" name="T"><defText name="t">'
                     b' hello </defText></defTextVector><defLightVector device="D" name="L">'
                     b'<defLight name="l">Alert</defLight></defLightVector><defBLOBVector '
                     b'device="D" name="B"><defBLOB name="b"/></defBLOBVector>')
    switch = store.get("D", "S")
    assert switch is not None and switch.on() == ["A"] and switch.rule == "OneOfMany"
    apply_all(store, b'<setSwitchVector device="D" name="S"><oneSwitch name="A">Off</oneSwitch>'
                     b'<oneSwitch name="B">On</oneSwitch></setSwitchVector>')
    assert switch.on() == ["B"] and switch.values() == {"A": False, "B": True}
    assert store.get("D", "T")["t"] == "hello" and store.get("D", "L")["l"] == "Alert"
    apply_all(store, b'<setBLOBVector device="D" name="B"><oneBLOB name="b" size="3" '
                     b'format=".bin">QUJD</oneBLOB></setBLOBVector>')
    blob = store.get("D", "B")
    assert bytes(blob["b"]) == b"ABC"
    assert (blob.elements["b"].format, blob.elements["b"].size) == (".bin", 3)

    apply_all(store, STREAM[STREAM.index(b"<delProperty"):])
    assert store.get("Telescope Simulator", "EQUATORIAL_EOD_COORD") is None
    assert store.get("D", "S") is not None
    apply_all(store, b'<delProperty device="D"/>')
    assert "D" not in store.devices


def test_a_property_defined_again_keeps_its_count_and_a_def_is_no_answer():
    """indiserver sends every def again whenever a client asks getProperties (this
    client's own second ask at connect, another client): the count of updates must
    neither restart (a wait past it would hang) nor move (a wait would take the def,
    state Ok, for the answer to a command still Busy)."""
    store = PropertyStore()
    define = (b'<defNumberVector device="D" name="N" state="Ok"><defNumber name="n">1'
              b"</defNumber></defNumberVector>")
    apply_all(store, define)
    apply_all(store, b'<setNumberVector device="D" name="N" state="Busy"><oneNumber '
                     b'name="n">2</oneNumber></setNumberVector>')
    assert store.get("D", "N").updates == 1
    apply_all(store, define.replace(b">1<", b">3<"))
    again = store.get("D", "N")
    assert (again["n"], again.state, again.updates) == (3.0, "Ok", 1)


def test_a_set_for_an_unknown_or_other_kind_of_property_is_ignored():
    store = PropertyStore()
    apply_all(store, b'<defTextVector device="D" name="T"><defText name="t">a</defText>'
                     b'</defTextVector>')
    assert apply_all(store, b'<setTextVector device="D" name="X"><oneText name="t">b</oneText>'
                            b'</setTextVector><setNumberVector device="D" name="T"><oneNumber '
                            b'name="t">1</oneNumber></setNumberVector>') == [None, None]
    assert store.get("D", "T")["t"] == "a" and store.get("D", "T").updates == 0


@pytest.mark.parametrize(("xml", "why"), [
    (b'<setSwitchVector device="D" name="S"><oneSwitch name="A">Maybe</oneSwitch>'
     b'</setSwitchVector>', "a switch is On or Off, got 'Maybe'"),
    (b'<setSwitchVector device="D" name="S" state="Fine"/>', "state 'Fine' is not one of"),
    (b'<setNumberVector device="D" name="N"><oneNumber name="n">ten</oneNumber>'
     b'</setNumberVector>', "'ten' is not an INDI number"),
    (b'<setLightVector device="D" name="L"><oneLight name="l">Red</oneLight>'
     b'</setLightVector>', "a light is one of Idle, Ok, Busy, Alert, got 'Red'"),
    (b'<setBLOBVector device="D" name="B"><oneBLOB name="b" size="three">QUJD</oneBLOB>'
     b'</setBLOBVector>', "size 'three'"),
    (b'<defNumberVector device="D"><defNumber name="n">1</defNumber></defNumberVector>',
     "defNumberVector without a device or a name"),
])
def test_malformed_values_are_a_protocol_error(xml, why):
    store = PropertyStore()
    apply_all(store, b'<defSwitchVector device="D" name="S"><defSwitch name="A">On</defSwitch>'
                     b'</defSwitchVector><defNumberVector device="D" name="N"><defNumber '
                     b'name="n">1</defNumber></defNumberVector><defLightVector device="D" '
                     b'name="L"><defLight name="l">Ok</defLight></defLightVector>'
                     b'<defBLOBVector device="D" name="B"><defBLOB name="b"/></defBLOBVector>')
    with pytest.raises(IndiProtocolError, match=why):
        apply_all(store, xml)


def test_outgoing_xml_is_escaped_and_reads_back():
    text = element("newTextVector", {"device": 'a "quoted" & <odd> device', "name": "T",
                                     "skipped": None},
                   member("oneText", "t", "<b>bold</b> & more"))
    (message,) = parse(text)
    assert message.device == 'a "quoted" & <odd> device' and "skipped" not in message.attrs
    assert message.members[0].text == "<b>bold</b> & more"
    assert element("getProperties", {"version": "1.7"}) == b'<getProperties version="1.7"/>\n'


# ----------------------------------------------------------------- refusals
REFUSED = {
    "internal entity": (b'<!DOCTYPE d [<!ENTITY e "x">]><defTextVector device="&e;" name="T"/>',
                        "malformed"),
    "external entity": (b'<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><t>&e;</t>',
                        "malformed"),
    "external DTD": (b'<!DOCTYPE d SYSTEM "http://127.0.0.1:1/x.dtd"><t/>', "malformed"),
    "billion laughs": (b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">'
                       b'<!ENTITY lol3 "&lol2;&lol2;&lol2;">]><t>&lol3;</t>', "malformed"),
    "undeclared entity": (b"<t>&lol9;</t>", "undefined entity"),
    "XML declaration": (b'<?xml version="1.0"?><t/>', "malformed"),
    "inside a member": (b"<a><b><c>deep</c></b></a>", "nested deeper than 2 levels"),
    "100000 deep": (b"<a>" * 100_000, "nested deeper than 2 levels"),
    "mismatched": (b"<a></b>", "mismatched tag"),
    "duplicate attribute": (b"<a b='1' b='2'/>", "duplicate attribute"),
    "not UTF-8": (b"<a>\xff\xfe</a>", "not well-formed"),
    "endless BLOB tag": (b"<oneBLOB" + b" " * (70 << 10), "a oneBLOB start tag does not end"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_is_not_indi_is_refused_with_a_clear_error(case):
    xml, why = REFUSED[case]
    with pytest.raises(IndiProtocolError, match=why):
        parse(xml)


def test_a_huge_text_is_refused_once_past_the_limit_not_buffered():
    """A 100 MB element of text, fed as a server would send it: refused after about
    MAX_TEXT characters, with the memory traced staying far below 100 MB."""
    chunk = b"x" * (64 << 10)
    reader = WireReader()
    reader.feed(b'<defTextVector device="D" name="T"><defText name="t">')
    fed = 0
    tracemalloc.start()
    try:
        with pytest.raises(IndiProtocolError, match=f"more than {MAX_TEXT} characters"):
            while fed < 100 << 20:
                reader.feed(chunk)
                fed += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fed <= MAX_TEXT + len(chunk)
    assert peak < 8 * MAX_TEXT


def test_a_huge_attribute_is_refused_at_the_message_limit():
    reader = WireReader(max_message=1 << 20)
    reader.feed(b'<defTextVector device="')
    tracemalloc.start()
    try:
        with pytest.raises(IndiProtocolError, match="a message exceeds 1048576 bytes of XML"):
            for _ in range(1600):  # 100 MB
                reader.feed(b"d" * (64 << 10))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_messages_without_end_count_towards_the_limit_only_until_they_end():
    reader = WireReader(max_message=4096)
    small = b'<message device="D" message="' + b"m" * 3000 + b'"/>'
    assert len(parse(*[small] * 50, reader=reader)) == 50


# ---------------------------------------------------------------------- fuzz
FUZZ = settings(max_examples=300, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


DEFINITIONS = (b'<defBLOBVector device="CCD Simulator" name="CCD1"><defBLOB name="CCD1"/>'
               b'</defBLOBVector><defBLOBVector device="D" name="CCD1"><defBLOB name="CCD1"/>'
               b'</defBLOBVector><defNumberVector device="D" name="N"><defNumber name="n">0'
               b'</defNumber></defNumberVector><defSwitchVector device="D" name="S">'
               b'<defSwitch name="s">Off</defSwitch></defSwitchVector>')
"""Properties the fuzzed messages may update."""


def outcome(*pieces: bytes) -> list[Any] | str:
    """The messages, or "refused"; any other exception fails the test. The messages
    are then applied to a store, which may refuse them too."""
    reader = WireReader(max_message=1 << 20, max_blob=1 << 20)
    try:
        messages = parse(*pieces, reader=reader)
    except IndiProtocolError as exc:
        assert str(exc)
        return "refused"
    store = PropertyStore()
    for message in parse(DEFINITIONS):
        store.apply(message)
    for message in messages:
        try:
            store.apply(message)
        except IndiProtocolError as exc:
            assert str(exc)
    return summary(messages)


@FUZZ
@given(st.data())
def test_fuzz_a_stream_cut_anywhere_and_in_any_pieces(data):
    end = data.draw(st.integers(0, len(STREAM)), label="end")
    cuts = sorted(data.draw(st.lists(st.integers(0, end), max_size=6), label="cuts"))
    bounds = [0, *cuts, end]
    result = outcome(*(STREAM[a:b] for a, b in itertools.pairwise(bounds)))
    assert result == summary(parse(STREAM[:end]))
    assert result == WHOLE[:len(result)]


@FUZZ
@given(st.binary(max_size=2000), st.integers(0, 2000))
def test_fuzz_random_bytes(data, cut):
    outcome(data[:cut], data[cut:])


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(STREAM)), st.binary(min_size=0, max_size=8)),
                min_size=1, max_size=8))
def test_fuzz_a_stream_with_bytes_changed(edits):
    stream = bytearray(STREAM)
    for at, replacement in edits:
        stream[at:at + len(replacement) // 2] = replacement
    outcome(bytes(stream))


TAGS = st.sampled_from(["defTextVector", "setNumberVector", "oneBLOB", "oneNumber",
                        "defText", "message", "delProperty", "x", "oneBLOB x='>'",
                        "setBLOBVector", "setSwitchVector", "oneSwitch", "oneBLOB size='x'"])
TEXT = st.sampled_from(["", "1", "12:30", "QUJD", "Q\nU", "&amp;", "&lol;", "<", ">",
                        "]]>", "<!--c-->", "<![CDATA[x]]>", "<!DOCTYPE a>", '"', "\x00",
                        "é", "On", "Alert"])


@st.composite
def xmlish(draw: st.DrawFn, depth: int = 0) -> str:
    """Fragments built from INDI-like tags and text, often nested, often broken."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 3))
        if kind == 0 or depth > 5:
            parts.append(draw(TEXT))
        else:
            tag = draw(TAGS)
            inner = draw(xmlish(depth + 1))
            close = draw(TAGS).split()[0] if draw(st.integers(0, 3)) == 0 else tag.split()[0]
            name = draw(st.sampled_from(["N", "S", "CCD1"]))
            parts.append(f'<{tag} device="D" name="{name}">{inner}</{close}>')
    return "".join(parts)


@settings(FUZZ, max_examples=150)
@given(xmlish(), st.integers(0, 500))
def test_fuzz_indi_like_fragments(text, cut):
    data = text.encode("utf-8", "surrogatepass")
    outcome(data[:cut], data[cut:])


@settings(max_examples=20, deadline=5000, derandomize=True)
@given(st.integers(1, 200_000), st.sampled_from([b"<a>", b"<oneBLOB>", b"&lol;", b"x",
                                                  b"<!--", b"<![CDATA[", b'<t a="']))
def test_fuzz_huge_repeats_end_quickly(count, unit):
    outcome(unit * count)


VALUES = st.one_of(st.sampled_from(["", "0", "1.5", "-12:30:00", "Ok", "Alert", "On", "Off",
                                    "x", "1e400", "nan", " 7 ", "QUJD"]),
                   st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=8))
VECTOR_ATTRIBUTES = st.dictionaries(st.sampled_from(["state", "timeout", "perm", "rule",
                                                     "timestamp", "message", "label"]), VALUES)
MEMBER_ATTRIBUTES = st.dictionaries(st.sampled_from(["size", "min", "max", "step", "format",
                                                     "label", "enclen"]), VALUES)


@pytest.mark.parametrize("verb", ["def", "set"])
@pytest.mark.parametrize("kind", KINDS)
@settings(FUZZ, max_examples=100)
@given(VECTOR_ATTRIBUTES, MEMBER_ATTRIBUTES, VALUES)
def test_fuzz_the_store_with_any_attribute_and_value(kind, verb, vector_attrs, member_attrs,
                                                     value):
    """Whatever the attributes and values of a well-formed message, the store applies it
    or raises IndiProtocolError (the connection logs and skips it)."""
    store = PropertyStore()
    for message in parse(b"".join(
            element(f"def{k}Vector", {"device": "D", "name": k},
                    f'<def{k} name="e">{"On" if k == "Switch" else "Ok" if k == "Light" else 0}'
                    f"</def{k}>") for k in KINDS)):
        store.apply(message)
    tag = f"{'one' if verb == 'set' else 'def'}{kind}"
    head = "".join(f" {key}={quoteattr(text)}" for key, text in member_attrs.items())
    xml = element(f"{verb}{kind}Vector", {"device": "D", "name": kind, **vector_attrs},
                  f'<{tag} name="e"{head}>{escape(value)}</{tag}>')
    try:
        (message,) = parse(xml)
    except IndiProtocolError as exc:  # a BLOB payload that is not base64
        assert kind == "BLOB" and "base64" in str(exc)
        return
    try:
        store.apply(message)
    except IndiProtocolError as exc:
        assert str(exc)
