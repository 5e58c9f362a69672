"""Header cards laid out as text (HeaderCards) against astropy's own cards."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning

from nocturna.images.cards import HeaderCards, card_image

STRINGS = ["", "a", "it's", "''", "x" * 8, "x" * 9, "x" * 18, "x" * 19, "x" * 67, "x" * 68,
           "x" * 69, "y" * 150, "  leading", "trailing   ", "a: b", "AXIS.1: 2",
           "Seeing: 2.1", "/ slash", "~!@#$%^&*()"]
FLOATS = [0.0, -0.0, 1.0, 0.1, -2.5, 1e-5, 1.2345678901234567e-05, 1e300, 5e-324,
          -1.2345678901234567e-300, 123456789012345678901.0, 3.141592653589793, 1 / 3,
          2 / 3 * 1e17, 61381.61774520124, 157.82766203230676]
INTEGERS = [0, 1, -1, 30000, 2026010100001, 2**63, -(2**63), 10**19 - 1]
COMMENTS = ["", "c", "[deg] a comment", "c" * 50, "c" * 70]


def _astropy(keyword, value, comment):
    """astropy's card image, or the kind of error it raises."""
    try:
        return fits.Card(keyword, value, comment).image
    except Exception as exc:  # the same kind must come from card_image
        return type(exc)


def _ours(keyword, value, comment):
    try:
        return card_image(keyword, value, comment)
    except Exception as exc:
        return type(exc)


def _values():
    rng = random.Random(17)
    values = [*STRINGS, *FLOATS, *INTEGERS, True, False]
    values += [rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30) for _ in range(400)]
    values += [rng.randint(-(10 ** rng.randint(0, 19)), 10 ** rng.randint(0, 19))
               for _ in range(200)]
    return values


def test_card_text_is_astropys_for_every_kind_of_value_and_comment():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)  # long comments are cut, both ways
        for value in _values():
            for comment in COMMENTS:
                assert _ours("KEY-_1", value, comment) == _astropy("KEY-_1", value, comment), \
                    (value, comment)


@pytest.mark.parametrize(("keyword", "value", "comment"), [
    ("NOTE", "ünïcode", "c"),  # not ASCII
    ("NOTE", "tab\there", "c"),  # not printable
    ("NOTE", "x", "commént"),
    ("RATIO", float("nan"), "c"),
    ("RATIO", float("inf"), "c"),
    ("END", 1, "c"),
    ("LONGERKEYWORD", 1, "c"),  # astropy makes a HIERARCH card
    ("GAIN", np.float32(1.5), "numpy scalar"),
    ("HISTORY", "done", ""),
])
def test_unusual_cards_are_astropys_text_or_error(keyword, value, comment):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)
        assert _ours(keyword, value, comment) == _astropy(keyword, value, comment)


def test_a_keyword_set_again_keeps_its_place_and_takes_the_new_value():
    cards = HeaderCards([("OBJECT", "M31", "target"), ("EXPTIME", 30.0, "[s] time")])
    cards.set("OBJECT", "M33", "target name")
    cards["EXPTIME"] = 60.0  # the comment stays
    assert list(cards) == ["OBJECT", "EXPTIME"]
    assert cards.values() == {"OBJECT": "M33", "EXPTIME": 60.0}
    assert cards.comment("EXPTIME") == "[s] time"
    assert cards.images()[1] == fits.Card("EXPTIME", 60.0, "[s] time").image


def test_values_are_what_an_astropy_header_of_the_same_cards_gives():
    entries = [("OBJECT", "M31   ", "trailing blanks"), ("NOTE", "Seeing: 2.1", "a record"),
               ("FLAG", True, "bool"), ("N", 7, "int"), ("X", 1.2345678901234567e-05, "f")]
    cards = HeaderCards(entries)
    header = fits.Header([fits.Card(*entry) for entry in entries])
    assert cards.values() == dict(header.items())
    assert cards.to_fits().tostring() == header.tostring()
    assert [cards.get(k) for k in ("OBJECT", "FLAG", "MISSING")] == ["M31", True, None]
    assert "object" in cards and "MISSING" not in cards
