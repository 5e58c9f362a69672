"""FITS header cards as text, without building astropy ``Card`` objects.

Building an ``astropy.io.fits.Header`` costs about 30 µs a card (each card is checked
and formatted with several configuration look-ups), a few ms for a frame's header. A
:class:`HeaderCards` keeps the cards as keyword → (value, comment) and lays out each
80-character card image the way astropy does for the plain values nocturna writes
(strings, integers, floats, booleans on one card). Anything else (a long string that
needs ``CONTINUE`` cards, a card whose comment would be cut, characters FITS does not
allow, commentary or record-valued cards) is handed to astropy, card by card, so the
text and the errors are astropy's own. ``astropy.io.fits`` is imported only then.

:meth:`HeaderCards.to_fits` gives the equivalent ``fits.Header`` for code that needs
one; :func:`nocturna.images.fits.write_fits` writes a :class:`HeaderCards` directly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from astropy.io import fits

CardValue = str | int | float | bool

CARD_LENGTH = 80
_PLAIN_KEYWORD = re.compile(r"^[A-Z0-9_-]{1,8}$")
_PRINTABLE = re.compile(r"^[ -~]*$")  # what FITS allows in string values and comments
_NOT_PLAIN = frozenset({"COMMENT", "HISTORY", "CONTINUE", "END"})


def _plain_value(value: object) -> str | None:
    """The value field as astropy writes it (right-aligned to 20 columns, strings
    quoted and left-aligned), or None where astropy must decide."""
    kind = type(value)
    if kind is str:
        text: str = value  # type: ignore[assignment]
        if not _PRINTABLE.match(text) or ": " in text:  # ": " may make a record card
            return None
        if not text:
            return "''"
        escaped = text.replace("'", "''")
        quoted = f"'{escaped:8}'"
        return f"{quoted:20}"
    if kind is bool:
        return f"{'T' if value else 'F':>20}"
    if kind is int:
        return f"{value:>20d}"
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            return None  # astropy refuses NaN and infinities
        text = str(value).replace("e", "E")
        if len(text) > 20:  # at most 20 characters: shorten the decimals
            exponent = text.find("E")
            text = text[:20] if exponent < 0 else \
                text[: 20 - (len(text) - exponent)] + text[exponent:]
        return f"{text:>20}"
    return None


def card_image(keyword: str, value: CardValue, comment: str = "") -> str:
    """The text of one card (80 characters, or a multiple when astropy continues a long
    string), exactly as ``astropy.io.fits.Card(keyword, value, comment).image``."""
    return _format(keyword, value, comment)[0]


@lru_cache(maxsize=4096)
def _plain_start(keyword: str, comment: str) -> tuple[str, str] | None:
    """The text before and after the value of a plain card (None: not plain); the same
    keywords and comments recur in every frame's header."""
    if _PLAIN_KEYWORD.match(keyword) and keyword not in _NOT_PLAIN and \
            _PRINTABLE.match(comment):
        return f"{keyword:8}= ", f" / {comment}" if comment else ""
    return None


def _format(keyword: str, value: Any, comment: str) -> tuple[str, str, Any]:
    """(image, keyword, value) of a card; keyword and value as astropy reads them back
    (astropy takes a string like ``'AXIS.1: 2'`` for a record-valued card)."""
    around = _plain_start(keyword, comment) if type(comment) is str else None
    if around is not None:
        field = _plain_value(value)
        if field is not None:
            image = f"{around[0]}{field}{around[1]}"
            if len(image) <= CARD_LENGTH:
                if type(value) is str:
                    value = value.rstrip()  # astropy drops trailing blanks when read
                return f"{image:{CARD_LENGTH}}", keyword, value
    from astropy.io import fits

    card = fits.Card(keyword, value, comment)
    return card.image, card.keyword, card.value


class _Entry(NamedTuple):
    value: Any  # as given
    comment: str
    image: str
    read_keyword: str  # keyword and value as astropy's Card gives them
    read_value: Any


class HeaderCards:
    """The cards of one header in order, with their text; a keyword appears once.

    Setting a keyword again replaces its value (and its comment, if one is given) in
    its first position. :meth:`get`, ``[]`` and :meth:`values` give the values as an
    astropy Header of the same cards does (strings without trailing blanks).
    """

    __slots__ = ("_cards",)

    def __init__(self, cards: Iterable[tuple[str, CardValue, str]] = ()) -> None:
        self._cards: dict[str, _Entry] = {}
        for keyword, value, comment in cards:
            self.set(keyword, value, comment)

    def set(self, keyword: str, value: CardValue, comment: str | None = None) -> None:
        """Add or replace a card (``comment`` None keeps the present one)."""
        keyword = keyword.upper()
        if comment is None:
            comment = self._cards[keyword].comment if keyword in self._cards else ""
        image, read_keyword, read_value = _format(keyword, value, comment)
        self._cards[keyword] = _Entry(value, comment, image, read_keyword, read_value)

    def update(self, other: HeaderCards) -> None:
        """Add or replace the cards of ``other``, in its order."""
        self._cards.update(other._cards)

    def __setitem__(self, keyword: str, entry: CardValue | tuple[CardValue, str]) -> None:
        if isinstance(entry, tuple):
            self.set(keyword, *entry)
        else:
            self.set(keyword, entry)

    def __getitem__(self, keyword: str) -> CardValue:
        return self._cards[keyword.upper()].read_value

    def __delitem__(self, keyword: str) -> None:
        del self._cards[keyword.upper()]

    def __contains__(self, keyword: object) -> bool:
        return isinstance(keyword, str) and keyword.upper() in self._cards

    def __iter__(self) -> Iterator[str]:
        return iter(self._cards)

    def __len__(self) -> int:
        return len(self._cards)

    def __repr__(self) -> str:
        return "\n".join(image.rstrip() for image in self.images())

    def get(self, keyword: str, default: Any = None) -> Any:
        entry = self._cards.get(keyword.upper())
        return default if entry is None else entry.read_value

    def comment(self, keyword: str) -> str:
        return self._cards[keyword.upper()].comment

    def values(self) -> dict[str, CardValue]:
        """Keyword → value as read back, in order."""
        return {entry.read_keyword: entry.read_value for entry in self._cards.values()}

    def items(self) -> Iterator[tuple[str, CardValue, str]]:
        """(keyword, value, comment) of each card as given, in order."""
        return ((keyword, entry.value, entry.comment)
                for keyword, entry in self._cards.items())

    def images(self) -> list[str]:
        """The text of each card, in order (80 characters each, more when continued)."""
        return [entry.image for entry in self._cards.values()]

    def copy(self) -> HeaderCards:
        other = HeaderCards()
        other._cards = dict(self._cards)
        return other

    def to_fits(self) -> fits.Header:
        """The same cards as an astropy Header."""
        from astropy.io import fits

        return fits.Header([fits.Card(keyword, value, comment)
                            for keyword, value, comment in self.items()])

    @classmethod
    def from_mapping(cls, cards: Mapping[str, tuple[CardValue, str]]) -> HeaderCards:
        """From ``{"KEYWORD": (value, comment)}``."""
        return cls((keyword, value, comment) for keyword, (value, comment) in cards.items())
